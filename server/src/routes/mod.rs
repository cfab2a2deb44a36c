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
//! * `health.rs`: `/healthz`, `/readyz`, `/api/health`;
//! * `spa.rs`: `/` (index.html) and the SPA's static files.

pub mod captures;
pub mod handoff;
pub mod health;
pub mod liveness;
pub mod results;
pub mod session;
pub mod spa;

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

/// The client's address: the configured proxy header's last entry, else the peer.
pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if let Some(h) = &state.config.server.client_ip_header {
        if let Some(ip) = headers
            .get(h.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
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
        })
}
