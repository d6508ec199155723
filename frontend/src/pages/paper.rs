//! The paper's argument in a few paragraphs, each claim linked to the live table or figure
//! that tests it here, and the board of its findings checked on the measured results.

use astute_api::{Finding, Verdict};
use leptos::prelude::*;

use crate::api;
use crate::components::loaded;

/// A verdict's mark with its evidence, e.g. "✓ rst:2 12.39 < gr 26.05".
#[component]
fn Mark(verdict: Verdict) -> impl IntoView {
    let class = match verdict.holds {
        Some(true) => "holds",
        Some(false) => "fails",
        None => "unmeasured",
    };
    view! {
        <span class=format!("verdict {class}")>
            <strong>{verdict.mark()}</strong> " " {verdict.evidence}
        </span>
    }
}

/// Every claim of Tables 2–4 in every setting, ✓ or ✗ on the measured results beside the
/// paper's own numbers (`GET /api/findings`).
#[component]
fn Findings() -> impl IntoView {
    let findings = LocalResource::new(|| api::get::<Vec<Finding>>("/api/findings"));
    view! {
        <section aria-labelledby="findings">
            <h2 id="findings">"The findings, checked on the results here"</h2>
            <p class="hint">
                "Computed from the stored results each time this page loads (runs that did not
                 train are left out), and from the paper's own numbers beside them."
            </p>
            {loaded(findings, |findings: Vec<Finding>| view! {
                <div class="table-wrap">
                <table class="findings">
                    <thead><tr>
                        <th scope="col">"Claim"</th><th scope="col">"Table · setting"</th>
                        <th scope="col">"Measured here"</th><th scope="col">"Paper's numbers"</th>
                    </tr></thead>
                    <tbody>
                        {findings.into_iter().map(|f| view! {
                            <tr>
                                <td>{f.claim}</td>
                                <td><a href=format!("/results?table={}", f.table)>
                                    {format!("Table {} · {}", f.table, f.setting)}
                                </a></td>
                                <td><Mark verdict=f.measured/></td>
                                <td><Mark verdict=f.paper/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            })}
        </section>
    }
}

#[component]
pub fn Paper() -> impl IntoView {
    super::page_title(|| "Must robustness cost accuracy?".into());
    view! {
        <article class="prose">
            <h1>"Must robustness cost accuracy?"</h1>
            <p class="lede">
                "Adversarially robust classifiers are usually less accurate than ordinary ones, and many
                 have concluded that the trade-off is unavoidable. Yang, Rashtchian, Zhang, Salakhutdinov
                 and Chaudhuri ("<em>"A Closer Look at Accuracy vs. Robustness"</em>", NeurIPS 2020) argue
                 that on real image datasets it is not. Astute measures their claims on this machine's
                 data and lets you train the models yourself."
            </p>

            <h2>"1. Real datasets are separated"</h2>
            <p>
                "Take any two training images with different labels. In the ℓ∞ distance (the largest
                 change of any single pixel) they are far apart: at least 0.737 on MNIST and 0.212 on
                 CIFAR-10, while the attacks we defend against move each pixel by at most ε = 0.1 and
                 0.031. MNIST, CIFAR-10, SVHN and Restricted ImageNet are all more than 2ε separated,
                 and so is each test set from its training set, once a handful of duplicate or very
                 noisy images are removed (3 in SVHN, 5 in Restricted ImageNet)."
            </p>
            <p class="claim-link">
                "Test it: " <a href="/datasets">"exact nearest-neighbour distances and their histograms"</a>
                " (Table 1, Figure 3), measured here in seconds."
            </p>

            <h2>"2. Separation allows a classifier that is both robust and accurate"</h2>
            <p>
                "If classes are 2r apart, a classifier that is locally Lipschitz with constant about 1/r
                 near the data can be perfectly accurate and robust within radius r (Theorem 4.2). The
                 construction scores each class by the distance to its training points, divided by r:
                 accuracy need not be traded at all, in principle."
            </p>
            <p class="claim-link">
                "Test it: " <a href="/results?table=1">"the separation table"</a>
                " against the radii the methods are asked to defend."
            </p>

            <h2>"3. Today's training methods fall short, and their Lipschitz constant shows why"</h2>
            <p>
                "Adversarial training, TRADES and robust self-training reach high adversarial accuracy
                 with smaller local Lipschitz constants than natural training, but they generalise
                 worse: on CIFAR-10 the gap between train and test accuracy grows from 6 points
                 (natural) to 14–16, and the adversarial gap is larger still. Gradient regularisation
                 and LLR smooth the network less and are less robust."
            </p>
            <p class="claim-link">
                "Test it: " <a href="/results?table=3">"Table 3 (CIFAR-10, Restricted ImageNet)"</a> ", "
                <a href="/results?table=2">"Table 2 (MNIST, where the gaps stay small)"</a>
                " and " <a href="/results?view=plot">"the accuracy–robustness–Lipschitz scatter"</a> "."
            </p>

            <h2>"4. Dropout narrows the gaps"</h2>
            <p>
                "Dropout, a plain generalisation tool, narrows both gaps for the robust methods and
                 often raises their test accuracy: the shortfall lies in generalisation, not in
                 robustness itself."
            </p>
            <p class="claim-link">
                "Test it: " <a href="/results?table=4">"Table 4 (with and without dropout)"</a>
                ", or " <a href="/experiments">"train a pair yourself"</a> "."
            </p>

            <Findings/>

            <h2>"How to read the numbers here"</h2>
            <p>
                "Every table shows the paper's published number beside what was measured here, as mean ±
                 standard deviation over seeds. Where a dataset of the paper is not on this machine, a
                 stand-in is measured and the table says so (“measured on fashion-mnist”). The shipped
                 results were trained at CPU scale (a few epochs on 8,000 images; each run's page gives
                 the command that made it); the
                 "<code>"paper"</code>" scale is the full protocol for a GPU."
            </p>
        </article>
    }
}
