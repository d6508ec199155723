//! The API's OpenAPI 3.1 document, generated from the handlers' descriptions and the wire
//! types' schemas (utoipa), and served at `/api/openapi.json`.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

/// What the document says besides its paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Astute",
        description = "Must robustness cost accuracy? Runs of the paper's training methods, separation measurements and the paper's tables, paper beside measured. Reads are public; writes need `Authorization: Bearer TOKEN` (from `astute token create`). Errors are `{\"error\": \"...\"}`."
    ),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

/// The `token` security scheme the writing routes name.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The whole document as JSON (built once).
pub fn json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        super::api_routes()
            .into_openapi()
            .to_pretty_json()
            .unwrap_or_default()
    })
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", summary = "This document",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}
