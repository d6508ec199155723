//! A run's live events over Server-Sent Events (`/api/runs/{id}/events`): progress while
//! it trains, then its final status. The browser reconnects by itself and resumes after the
//! last event it saw.

use astute_api::{JobEvent, StatusEvent, StreamEnd};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{EventSource, MessageEvent};

/// An open stream; dropping it closes the connection.
pub struct Stream {
    source: EventSource,
    _handlers: Vec<Closure<dyn FnMut(MessageEvent)>>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Follows run `id`: `on_progress` gets each stored event, `on_status` how the stream
/// ended, after which it closes; `on_gone` is called if the server ends the stream without
/// saying (the run does not exist).
pub fn follow(
    id: &str,
    on_progress: impl Fn(JobEvent) + 'static,
    on_status: impl Fn(StreamEnd) + 'static,
    on_gone: impl Fn() + 'static,
) -> Option<Stream> {
    let source = EventSource::new(&format!("/api/runs/{id}/events")).ok()?;
    let progress = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
        if let Some(Ok(event)) = message.data().as_string().map(|d| serde_json::from_str(&d)) {
            on_progress(event);
        }
    });
    let closing = source.clone();
    let status = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
        let status = message
            .data()
            .as_string()
            .and_then(|d| serde_json::from_str::<StatusEvent>(&d).ok())
            .map(|event| event.status);
        closing.close();
        if let Some(status) = status {
            on_status(status);
        }
    });
    // A stream the server refuses (the run is gone) closes for good: say so once.
    let watched = source.clone();
    let failed = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
        if watched.ready_state() == EventSource::CLOSED {
            on_gone();
        }
    });
    source
        .add_event_listener_with_callback("progress", progress.as_ref().unchecked_ref())
        .ok()?;
    source
        .add_event_listener_with_callback("error", failed.as_ref().unchecked_ref())
        .ok()?;
    source
        .add_event_listener_with_callback("status", status.as_ref().unchecked_ref())
        .ok()?;
    Some(Stream {
        source,
        _handlers: vec![progress, status, failed],
    })
}
