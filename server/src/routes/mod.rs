//! The HTTP handlers, by resource. They read the request, call the logic modules (`uploads.rs`,
//! `liveness.rs`, `handoff.rs`, `results.rs`, `opening.rs`…) and run every database and storage
//! call on the blocking pool (`state::db`, `state::blocking`). `app.rs` puts them on the router;
//! the `/api` and `/v3` routers answer `Cache-Control: no-store` (one layer there).
//!
//! * `session.rs`: `POST`/`GET /api/session`, `POST /api/session/choice`;
//! * `captures.rs`: `PUT`/`DELETE /api/capture/{id}`, `GET /api/session/captures`,
//!   `POST /api/session/finish`, `POST /api/session/leave`;
//! * `liveness.rs`: `POST /api/session/liveness/open`, `POST /api/session/liveness`;
//! * `handoff.rs`: `POST`/`GET /api/handoff`, `POST /api/handoff/claim`;
//! * `results.rs`: the `/v3` results API and its guard against key guessing;
//! * `tokens.rs`: the Token API (`/v3/submission/tokens`: the private-mode token pool);
//! * `health.rs`: `/healthz`, `/readyz`, `/api/health`;
//! * `spa.rs`: `/` (index.html) and the SPA's static files.

pub mod captures;
pub mod handoff;
pub mod health;
pub mod liveness;
pub mod results;
pub mod session;
pub mod spa;
pub mod tokens;

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use liveform_core::ErrorCode;

use crate::error::ApiError;
use crate::state::{db, AppState, Shared};

/// The address a rate limit counts: an IPv4 address itself; an IPv6 address by its /64 (one
/// subscriber's network: a person holds 2^64 addresses, not one).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The client's address: with `client_ip_header`, the entry `client_ip_hops` from the right of
/// that header (1: the one your nearest proxy appended; entries further left were written by the
/// client or proxies you do not control), else the peer.
pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    let cfg = &state.config.server;
    if let Some(h) = &cfg.client_ip_header {
        let hops = usize::try_from(cfg.client_ip_hops.max(1)).unwrap_or(1);
        // Every value of the header, in order (a proxy may add a second header line).
        let entries: Vec<&str> = headers
            .get_all(h.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if let Some(ip) = entries
            .len()
            .checked_sub(hops)
            .and_then(|i| entries.get(i))
            .and_then(|v| v.parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

/// The per-address limit shared by opening sessions and claiming handoff codes:
/// `429 LF-20002` with `Retry-After` when `ip` went over it.
pub(crate) async fn rate_limit(
    state: &Shared,
    headers: &HeaderMap,
    peer: SocketAddr,
    now: i64,
    what: &str,
) -> Result<(), ApiError> {
    let ip = rate_key(client_ip(state, headers, peer));
    db(state, move |s| s.limiter.check(ip, now))
        .await?
        .map_err(|wait| ApiError {
            retry_after: Some(wait),
            ..ApiError::new(ErrorCode::RateLimited, format!("too many {what} from {ip}"))
        })?;
    // The deployment-wide cap: many addresses together (a botnet, one IPv6 provider's many /64s)
    // cannot open unbounded sessions either.
    let all = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    db(state, move |s| s.global_limiter.check(all, now))
        .await?
        .map_err(|wait| ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                ErrorCode::RateLimited,
                format!("too many {what} from all addresses this minute"),
            )
        })
}
