//! Per-client rate limits: a token bucket per client address, one for reads and a much
//! smaller one for writes (creating, cancelling, deleting). A client over its limit gets
//! 429 with `Retry-After`; other clients are not slowed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client::ClientAddr;
use super::error::ApiError;

/// Requests per second a client may make, and how many at once after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets of every client seen, per kind of request.
#[derive(Clone)]
pub struct RateLimits {
    reads: Option<Rate>,
    writes: Option<Rate>,
    buckets: Arc<Mutex<HashMap<(IpAddr, bool), Bucket>>>,
}

/// Clients remembered at most; beyond it, full buckets (idle clients) are forgotten.
const MAX_CLIENTS: usize = 100_000;

impl RateLimits {
    /// `None` for a kind means no limit on it.
    pub fn new(reads: Option<Rate>, writes: Option<Rate>) -> Self {
        Self {
            reads,
            writes,
            buckets: Arc::default(),
        }
    }

    /// Takes a token for `client`; `Err(seconds)` until one is free.
    fn take(&self, client: IpAddr, write: bool) -> Result<(), f64> {
        let Some(rate) = (if write { self.writes } else { self.reads }) else {
            return Ok(());
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * rate.per_second < rate.burst
            });
        }
        let bucket = buckets.entry((client, write)).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - bucket.tokens) / rate.per_second)
        }
    }
}

/// The middleware: counts every request against its client's bucket.
pub async fn limit(
    State(limits): State<RateLimits>,
    ClientAddr(client): ClientAddr,
    request: Request,
    next: Next,
) -> Response {
    let write = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    match limits.take(client, write) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many {} from this address: try again in {wait:.1} s",
                    if write { "writes" } else { "requests" }
                ),
            )
            .into_response();
            let seconds = wait.ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limits = RateLimits::new(
            Some(Rate {
                per_second: 1000.0,
                burst: 1000.0,
            }),
            Some(Rate {
                per_second: 0.5,
                burst: 3.0,
            }),
        );
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limits.take(client, true).is_ok());
        }
        // The fourth write within the burst waits for the next token: about 2 s at 0.5/s.
        let wait = limits.take(client, true).unwrap_err();
        assert!((1.9..=2.0).contains(&wait), "{wait}");
        // Reads and other clients have their own buckets.
        assert!(limits.take(client, false).is_ok());
        assert!(limits.take(other, true).is_ok());
        let unlimited = RateLimits::new(None, None);
        assert!((0..10_000).all(|_| unlimited.take(client, true).is_ok()));
    }
}
