//! Robust accuracies added to a finished run after it trained (`astute eval --run`): its
//! summary and result, the tables' AutoAttack column and masking badges, sorting, and the
//! trade-off figure's choice of attack.

use astute_api::table::{Format, Stat, Table};
use astute_api::{AttackName, MaskingCheck, MaskingFlag, RobustEvaluation, RunAnswer, RunList};
use axum::http::StatusCode;

use super::App;
use crate::store::{Seed, Store};
use astute_api::{Architecture, DatasetId, Method};

fn table(body: &str) -> Table {
    serde_json::from_str(body).unwrap()
}

/// A store holding two of the shipped Table 2 runs (natural, CNN1 and CNN2) as they were
/// before any further attack: no AutoAttack, no masking checks.
async fn app_with_runs_not_yet_attacked() -> App {
    let app = App::new(false).await;
    let seed: Seed = serde_json::from_str(super::SHIPPED).unwrap();
    let store = Store::open_in(app.state_dir()).await.unwrap();
    for architecture in [Architecture::Cnn1, Architecture::Cnn2] {
        let shipped = seed
            .runs
            .iter()
            .find(|r| {
                let s = &r.run.summary;
                s.architecture == architecture
                    && s.method == Method::Natural
                    && s.stands_in_for == Some(DatasetId::Mnist)
            })
            .expect("the shipped Table 2 has a natural run on each network");
        let mut run = shipped.run.clone();
        if let Some(result) = &mut run.result {
            result.robust.clear();
            result.masking.clear();
        }
        run.summary.autoattack_test_acc = None;
        run.summary.masking_raised.clear();
        store.record_run(&run, &shipped.events).await.unwrap();
    }
    app
}

#[tokio::test]
async fn an_evaluation_added_later_shows_everywhere() {
    let app = app_with_runs_not_yet_attacked().await;
    let before = table(&app.get("/api/tables/2").await.body);
    // The shipped Table 2 ran on the MNIST sample with both networks: one note says so.
    let stand_in: Vec<&String> = before
        .notes
        .iter()
        .filter(|n| n.contains("measured on mnist-sample"))
        .collect();
    assert_eq!(stand_in.len(), 1, "{:?}", before.notes);
    assert!(stand_in[0].ends_with("with cnn1 and cnn2."), "{stand_in:?}");
    let column = before
        .columns
        .iter()
        .position(|c| c == "autoattack_test_acc")
        .expect("Table 2 has an AutoAttack column");
    let row = before.rows.iter().position(|r| r.runs.len() == 1).unwrap();
    let cell = &before.rows[row].cells[column];
    assert_eq!((cell.paper, cell.measured), (None, None));
    let id = before.rows[row].runs[0].clone();
    let absent = app.get("/api/plots/tradeoff.svg?attack=autoattack").await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND, "{}", absent.body);

    let run: RunAnswer =
        serde_json::from_str(&app.get(&format!("/api/runs/{id}")).await.body).unwrap();
    let epsilon = run.run.result.unwrap().epsilon;
    let first = RobustEvaluation {
        attack: AttackName::AutoAttack,
        epsilon,
        seed: 0,
        images: 1_000,
        accuracy: 12.5,
        seconds: 3.0,
    };
    let flags = vec![
        MaskingFlag {
            check: MaskingCheck::ZeroGradients,
            raised: true,
            evidence: "40.00 % of the images have a zero input gradient".into(),
        },
        MaskingFlag {
            check: MaskingCheck::FgsmBeatsPgd,
            raised: false,
            evidence: "FGSM 20.00 % against PGD-10 15.00 %".into(),
        },
    ];
    // Another store handle, as `astute eval --run` opens one beside a running server.
    let store = Store::open_in(app.state_dir()).await.unwrap();
    store.add_robust(&id, &[first], flags).await.unwrap();
    // The same measurement again replaces the first; a check run again replaces its
    // earlier result, and the checks not run keep theirs.
    let again = RobustEvaluation {
        accuracy: 12.0,
        ..first
    };
    let fewer = RobustEvaluation {
        images: 100,
        accuracy: 30.0,
        ..first
    };
    // PGD-10 on the same 1,000 images stands beside AutoAttack; on other images it does not.
    let pgd_beside = RobustEvaluation {
        attack: AttackName::PGD_10,
        accuracy: 20.0,
        ..first
    };
    let pgd_elsewhere = RobustEvaluation {
        attack: AttackName::PGD_10,
        images: 100,
        accuracy: 40.0,
        ..first
    };
    let fgsm_again = MaskingFlag {
        check: MaskingCheck::FgsmBeatsPgd,
        raised: false,
        evidence: "FGSM 21.00 % against PGD-10 15.00 %".into(),
    };
    store
        .add_robust(
            &id,
            &[again, fewer, pgd_elsewhere, pgd_beside],
            vec![fgsm_again.clone()],
        )
        .await
        .unwrap();
    let unknown = store.add_robust("no-such-run", &[first], Vec::new()).await;
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("no finished run no-such-run")
    );

    let run: RunAnswer =
        serde_json::from_str(&app.get(&format!("/api/runs/{id}")).await.body).unwrap();
    let summary = &run.run.summary;
    // The accuracy on the most images stands for the run.
    assert_eq!(summary.autoattack_test_acc, Some(12.0));
    assert_eq!(summary.masking_raised, vec![MaskingCheck::ZeroGradients]);
    let result = run.run.result.unwrap();
    assert_eq!(result.robust, vec![again, fewer, pgd_elsewhere, pgd_beside]);
    assert_eq!(result.masking.len(), 2);
    assert!(result.masking.contains(&fgsm_again), "{:?}", result.masking);

    // The cached table notices the change.
    let after = table(&app.get("/api/tables/2").await.body);
    assert_eq!(
        after.rows[row].cells[column].measured,
        Some(Stat {
            mean: 12.0,
            std: 0.0,
            n: 1
        })
    );
    let beside = after
        .columns
        .iter()
        .position(|c| c == "pgd_on_autoattack_images")
        .unwrap();
    assert_eq!(
        after.rows[row].cells[beside].measured.map(|s| s.mean),
        Some(20.0)
    );
    assert_eq!(after.rows[row].masking, vec![MaskingCheck::ZeroGradients]);
    assert!(
        after
            .render(Format::Markdown)
            .contains("(masking: zero gradients)")
    );

    let list: RunList = serde_json::from_str(
        &app.get("/api/runs?sort=-autoattack_test_acc&limit=1")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(list.runs[0].id, id);

    let figure = app.get("/api/plots/tradeoff.svg?attack=autoattack").await;
    assert_eq!(figure.status, StatusCode::OK);
    assert!(figure.body.contains("test accuracy under AutoAttack"));
    assert!(
        figure.body.contains("AutoAttack 12.00 %"),
        "{}",
        figure.body
    );
    let refused = app.get("/api/plots/tradeoff.svg?attack=fgsm").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.error().contains("plots pgd or autoattack"),
        "{}",
        refused.body
    );
}

/// The findings board reads the same numbers as the tables: each TRADES row's measured
/// Lipschitz mean of Table 2 appears in its β finding, and the verdict follows them.
#[tokio::test]
async fn findings_are_computed_from_the_tables_numbers() {
    let app = App::new(true).await;
    let table2 = table(&app.get("/api/tables/2").await.body);
    let findings: Vec<astute_api::Finding> =
        serde_json::from_str(&app.get("/api/findings").await.body).unwrap();
    let lipschitz = table2
        .columns
        .iter()
        .position(|c| c == "test_lipschitz")
        .unwrap();
    for setting in ["cnn1", "cnn2"] {
        let trades: Vec<(String, f64)> = table2
            .rows
            .iter()
            .filter(|r| r.setting == setting)
            .filter(|r| matches!(r.method, Some(astute_api::Method::Trades { .. })))
            .filter_map(|r| Some((r.method?.to_string(), r.cells[lipschitz].measured?.mean)))
            .collect();
        let finding = findings
            .iter()
            .find(|f| f.table == 2 && f.claim.contains("as β grows") && f.setting.contains(setting))
            .unwrap();
        if trades.len() < 3 {
            assert_eq!(finding.measured.holds, None, "{}", finding.line());
            continue;
        }
        for (name, value) in &trades {
            assert!(
                finding
                    .measured
                    .evidence
                    .contains(&format!("{name} {value:.2}")),
                "{} lacks {name} {value:.2}",
                finding.line()
            );
        }
        let falling = trades.windows(2).all(|w| w[1].1 < w[0].1);
        assert_eq!(finding.measured.holds, Some(falling), "{}", finding.line());
    }
    // A table with no runs leaves its findings unmeasured, with the paper's verdicts.
    let table4 = table(&app.get("/api/tables/4").await.body);
    if table4.rows.iter().all(|r| r.runs.is_empty()) {
        for finding in findings.iter().filter(|f| f.table == 4) {
            assert_eq!(finding.measured.holds, None, "{}", finding.line());
            assert!(finding.paper.holds.is_some(), "{}", finding.line());
        }
    }
}
