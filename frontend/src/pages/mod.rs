//! One module per page; each keeps what a visitor would share in the URL's query.

mod datasets;
mod experiments;
mod paper;
mod playground;
mod results;
mod run;
mod theory;

pub use datasets::Datasets;
pub use experiments::Experiments;
pub use paper::Paper;
pub use playground::Playground;
pub use results::Results;
pub use run::RunPage;
pub use theory::TheoryPage;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Names the browser tab (and the history entry, and a bookmark) after what the page
/// shows; `title` may change with the page's query.
fn page_title(title: impl Fn() -> String + 'static) {
    Effect::new(move || document().set_title(&format!("{} · Astute", title())));
}

#[component]
pub fn NotFound() -> impl IntoView {
    page_title(|| "Page not found".into());
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page here. Try " <a href="/results">"the results"</a> " or " <a href="/datasets">"the datasets"</a> "."</p>
    }
}

/// A URL parameter's value, or `default` when it is missing or does not parse.
pub(crate) fn parse_or<T: std::str::FromStr>(value: Option<String>, default: T) -> T {
    value.and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A query parameter of the current URL, as a memo: readers re-run only when this
/// parameter changes, not when another one does.
pub(crate) fn query_param(name: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get(name))
}

/// `apply`, called with the latest of a fast stream of values (a dragged slider) at most
/// once per `interval`: the first at once, then the newest each interval while values keep
/// coming, and always the last, so that work follows the hand without piling up.
pub(crate) fn throttled<T: 'static>(
    interval: std::time::Duration,
    apply: impl Fn(T) + Clone + 'static,
) -> impl Fn(T) + Clone + 'static {
    // (a call is waiting out the interval, the newest value since)
    let state = std::rc::Rc::new(std::cell::RefCell::new((false, None::<T>)));
    fn flush<T: 'static>(
        state: std::rc::Rc<std::cell::RefCell<(bool, Option<T>)>>,
        interval: std::time::Duration,
        apply: impl Fn(T) + Clone + 'static,
    ) {
        let newest = state.borrow_mut().1.take();
        match newest {
            Some(value) => {
                apply.clone()(value);
                set_timeout(move || flush(state, interval, apply), interval);
            }
            None => state.borrow_mut().0 = false,
        }
    }
    move |value: T| {
        let waiting = {
            let mut s = state.borrow_mut();
            s.1 = Some(value);
            std::mem::replace(&mut s.0, true)
        };
        if !waiting {
            flush(state.clone(), interval, apply.clone());
        }
    }
}

/// Sets (or, when empty, removes) query parameters of the current URL without adding a
/// history entry per keystroke, so the address bar always holds the page's state.
pub(crate) fn set_query_params() -> impl Fn(&[(&str, String)]) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    let query = use_query_map();
    move |changes: &[(&str, String)]| {
        let mut params = query.get_untracked();
        for (name, value) in changes {
            if value.is_empty() {
                params.remove(name);
            } else {
                params.replace((*name).to_owned(), value.clone());
            }
        }
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        navigate(
            &format!("{path}{}", params.to_query_string()),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    }
}
