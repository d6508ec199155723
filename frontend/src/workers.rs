//! The lab's live workers (`GET /api/workers`), refreshed every few seconds: who is alive,
//! on which host and backend, and the job in each busy slot.

use std::time::Duration;

use astute_api::{WorkerEntry, WorkerJob};
use leptos::prelude::*;

use crate::api;
use crate::components::loaded;

/// How often the list is asked for again.
const REFRESH: Duration = Duration::from_secs(5);

/// A busy slot's job: a link to a run's page, a separation measurement's id.
fn job_view(job: WorkerJob) -> AnyView {
    match job.kind.as_str() {
        "run" => view! { <a class="run-link" href=format!("/runs/{}", job.id)>{format!("run {}", job.id)}</a> }
            .into_any(),
        _ => view! { <span>{format!("{} {}", job.kind, job.id)}</span> }.into_any(),
    }
}

fn worker_row(worker: WorkerEntry) -> impl IntoView {
    let seen = ((js_sys::Date::now() - worker.heartbeat_at as f64) / 1000.0).max(0.0);
    let busy = format!("{} of {}", worker.jobs.len(), worker.slots);
    let jobs = if worker.jobs.is_empty() {
        view! { <span class="hint">"idle"</span> }.into_any()
    } else {
        worker
            .jobs
            .into_iter()
            .map(job_view)
            .collect_view()
            .into_any()
    };
    view! {
        <tr>
            <td title=worker.version>{worker.name}</td>
            <td>{worker.host}</td>
            <td>{worker.backend}</td>
            <td>{busy}</td>
            <td>{jobs}</td>
            <td>{format!("{seen:.0} s ago")}</td>
        </tr>
    }
}

#[component]
pub fn Workers() -> impl IntoView {
    let (tick, set_tick) = signal(0u64);
    if let Ok(interval) = set_interval_with_handle(move || set_tick.update(|t| *t += 1), REFRESH) {
        on_cleanup(move || interval.clear());
    }
    let workers = LocalResource::new(move || {
        tick.track();
        api::get::<Vec<WorkerEntry>>("/api/workers")
    });
    view! {
        <section aria-labelledby="workers-title" class="workers">
            <h2 id="workers-title">"Workers"</h2>
            {loaded(workers, |workers: Vec<WorkerEntry>| {
                if workers.is_empty() {
                    return view! {
                        <p class="hint">"No worker is running: launched runs wait in the queue until one starts ("<code>"astute serve"</code>" runs one, "<code>"astute worker"</code>" adds more)."</p>
                    }
                    .into_any();
                }
                view! {
                    <div class="table-wrap">
                    <table class="workers-table">
                        <thead><tr>
                            <th scope="col">"Worker"</th><th scope="col">"Host"</th>
                            <th scope="col">"Backend"</th><th scope="col">"Busy slots"</th>
                            <th scope="col">"Running"</th><th scope="col">"Last heard"</th>
                        </tr></thead>
                        <tbody>{workers.into_iter().map(worker_row).collect_view()}</tbody>
                    </table>
                    </div>
                }
                .into_any()
            })}
        </section>
    }
}
