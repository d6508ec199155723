//! Bearer tokens: issued by `astute token create`, stored only as SHA-256 hashes, required
//! for every request that changes the store.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::store::{SHIPPED, hex, now_ms};

/// The hash a token is stored under.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A request that carried a valid token: who sent it.
pub struct Authorized(pub Caller);

/// The token a request carried.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The hash it is stored under: what a run's owner is.
    pub hash: String,
    pub name: String,
    pub admin: bool,
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Caller {
    /// Whether this caller may cancel or delete a job whose owner is `owner`: its own,
    /// or any but the shipped results with an admin token.
    pub fn may_change(&self, owner: Option<&str>) -> Result<(), ApiError> {
        match owner {
            Some(SHIPPED) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the shipped results are read-only",
            )),
            Some(owner) if owner == self.hash => Ok(()),
            _ if self.admin => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this belongs to another token: only its owner or an admin token may change it",
            )),
        }
    }
}

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
        // The scheme is case-insensitive (RFC 7235).
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header is not `Bearer TOKEN`"))?;
        let hash = token_hash(token);
        match state.store.token(&hash).await? {
            Some(record) if record.is_valid_at(now_ms()) => Ok(Self(Caller {
                hash,
                name: record.name,
                admin: record.admin,
            })),
            Some(record) if record.revoked_at.is_some() => Err(unauthorized("revoked token")),
            Some(_) => Err(unauthorized("expired token")),
            None => Err(unauthorized("unknown token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_admins_change_what_is_theirs() {
        let caller = |hash: &str, admin| Caller {
            hash: hash.to_owned(),
            name: "n".to_owned(),
            admin,
        };
        let (alice, admin) = (caller("aa", false), caller("ff", true));
        assert!(alice.may_change(Some("aa")).is_ok());
        assert_eq!(
            alice.may_change(Some("bb")).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        assert!(
            alice.may_change(None).is_err(),
            "recorded by the CLI: admins only"
        );
        assert!(admin.may_change(Some("bb")).is_ok());
        assert!(admin.may_change(None).is_ok());
        for anyone in [&alice, &admin] {
            let refused = anyone.may_change(Some(SHIPPED)).unwrap_err();
            assert!(refused.message.contains("read-only"));
        }
    }
}
