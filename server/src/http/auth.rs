//! Bearer tokens: issued by `astute token create`, stored only as SHA-256 hashes, required
//! for every request that changes the store.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;

/// The hash a token is stored under.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request that carried a valid token; holds the token's name.
pub struct Authorized(pub String);

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |why: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "{why}: this needs a token (Authorization: Bearer TOKEN, from `astute token create`)"
                ),
            )
        };
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("no Authorization header"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header is not `Bearer TOKEN`"))?;
        match state.store.token_name(&token_hash(token)).await? {
            Some(name) => Ok(Self(name)),
            None => Err(unauthorized("unknown token")),
        }
    }
}
