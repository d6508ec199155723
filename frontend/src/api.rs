//! Talking to the Astute server: JSON over `fetch`, and failures turned into sentences a
//! person can act on (the server is down, the token is missing, the input is invalid).

use astute_api::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::token;

/// Why a request did not give what the page asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No answer at all: the server is down or the network is gone.
    Unreachable,
    /// The server refused: its status and its own message.
    Refused { status: u16, message: String },
    /// The answer was not what this version of the app understands.
    Unexpected(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable => write!(
                f,
                "The Astute server is not answering. It may be restarting: try again in a moment."
            ),
            Self::Refused { status: 401, .. } => write!(
                f,
                "This needs an access token. Paste one under “Token” (an operator creates it with “astute token create”)."
            ),
            Self::Refused { status: 429, .. } => {
                write!(
                    f,
                    "Too many requests from here: wait a few seconds and try again."
                )
            }
            Self::Refused {
                status: 404,
                message,
            } => write!(f, "Not found: {message}."),
            Self::Refused { status, message } if *status >= 500 => {
                write!(
                    f,
                    "The server failed ({status}): {message}. Try again later."
                )
            }
            Self::Refused { message, .. } => write!(f, "{message}"),
            Self::Unexpected(what) => write!(f, "The server's answer was not understood: {what}"),
        }
    }
}

pub type Answer<T> = Result<T, Failure>;

async fn send(method: &str, path: &str, body: Option<String>) -> Answer<Response> {
    let init = RequestInit::new();
    init.set_method(method);
    let has_body = body.is_some();
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(&body));
    }
    let request = Request::new_with_str_and_init(path, &init)
        .map_err(|e| Failure::Unexpected(format!("{e:?}")))?;
    let headers = request.headers();
    let _ = headers.set("Accept", "application/json");
    if has_body {
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(token) = token::get() {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    let window = web_sys::window().ok_or(Failure::Unreachable)?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| Failure::Unreachable)?;
    let response: Response = response
        .dyn_into()
        .map_err(|_| Failure::Unexpected("not a response".into()))?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let message = match text(&response).await {
        Ok(body) => serde_json::from_str::<ErrorBody>(&body).map_or(body, |e| e.error),
        Err(_) => String::new(),
    };
    Err(Failure::Refused { status, message })
}

async fn text(response: &Response) -> Answer<String> {
    let promise = response
        .text()
        .map_err(|e| Failure::Unexpected(format!("{e:?}")))?;
    let body = JsFuture::from(promise)
        .await
        .map_err(|_| Failure::Unreachable)?;
    body.as_string()
        .ok_or_else(|| Failure::Unexpected("a body that is not text".into()))
}

async fn json<T: DeserializeOwned>(response: Response) -> Answer<T> {
    let body = text(&response).await?;
    serde_json::from_str(&body).map_err(|e| Failure::Unexpected(e.to_string()))
}

/// `GET path` as JSON.
pub async fn get<T: DeserializeOwned>(path: &str) -> Answer<T> {
    json(send("GET", path, None).await?).await
}

/// `GET path` as raw bytes (weights, sample images).
pub async fn bytes(path: &str) -> Answer<Vec<u8>> {
    let response = send("GET", path, None).await?;
    let promise = response
        .array_buffer()
        .map_err(|e| Failure::Unexpected(format!("{e:?}")))?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| Failure::Unreachable)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// `POST path` with `body` as JSON (or none), answered with JSON.
pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: Option<&B>) -> Answer<T> {
    let body = body
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Failure::Unexpected(e.to_string()))?;
    json(send("POST", path, body).await?).await
}

/// `DELETE path`.
pub async fn delete(path: &str) -> Answer<()> {
    send("DELETE", path, None).await.map(|_| ())
}

/// Percent-encodes a value for a query string.
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}
