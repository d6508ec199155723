//! Who a request comes from: the TCP peer's address, or, when the peer is the reverse
//! proxy this server was told to trust, the address that proxy says it served. Limits
//! count per client with it; headers from anyone else are ignored, so a client cannot
//! pick its own address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The client's address, as limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The client behind `peer`: `peer` itself unless it is `trusted_proxy`, in which case
    /// the last address of `X-Forwarded-For` (the one the proxy appended), else the last
    /// `for=` of `Forwarded`, else the proxy.
    pub fn of(peer: SocketAddr, headers: &HeaderMap, trusted_proxy: Option<IpAddr>) -> Self {
        if trusted_proxy != Some(peer.ip()) {
            return Self(peer.ip());
        }
        let last = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .map(str::trim)
                .map(str::to_owned)
        };
        let forwarded_for = last("x-forwarded-for").and_then(|a| parse_address(&a));
        let forwarded = || {
            last("forwarded").and_then(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for")
                        .then(|| parse_address(value.trim_matches('"')))
                        .flatten()
                })
            })
        };
        Self(forwarded_for.or_else(forwarded).unwrap_or(peer.ip()))
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_address(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|rest| rest.split(']').next())
                .and_then(|inner| inner.parse().ok())
        })
}

/// The accept loop records each request's client (see [`super::connections`]).
impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn only_the_trusted_proxy_names_the_client() {
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        let trusted = Some(proxy.ip());
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9")]);
        let ip = |s: &str| ClientAddr(s.parse().unwrap());

        // A client that sends the header itself is still itself.
        assert_eq!(
            ClientAddr::of(stranger, &spoofed, trusted),
            ip("198.51.100.7")
        );
        assert_eq!(ClientAddr::of(proxy, &spoofed, None), ip("10.0.0.2"));
        // Through the proxy: the address it appended, not one the client put first.
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, 192.0.2.44")]);
        assert_eq!(ClientAddr::of(proxy, &chain, trusted), ip("192.0.2.44"));
        let repeated = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "192.0.2.45"),
        ]);
        assert_eq!(ClientAddr::of(proxy, &repeated, trusted), ip("192.0.2.45"));
        // RFC 7239, with a port and an IPv6 address.
        let forwarded = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, For=\"[2001:db8::17]:4711\"",
        )]);
        assert_eq!(
            ClientAddr::of(proxy, &forwarded, trusted),
            ip("2001:db8::17")
        );
        // Nothing usable: the proxy itself.
        let garbage = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(ClientAddr::of(proxy, &garbage, trusted), ip("10.0.0.2"));
    }
}
