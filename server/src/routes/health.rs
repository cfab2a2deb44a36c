//! Probes: `GET /healthz` (alive), `GET /readyz` (its database and storage answer) and the
//! form's `GET /api/health`. All answer `no-store` (the routers' layer).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::state::{db, Shared};

/// `GET /healthz`: the process is alive (for a load balancer's liveness probe; no dependencies).
/// `GET /api/health` answers the same.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the database and the capture storage answer (`200`), else `503` naming which
/// does not — a load balancer sends no traffic to this instance meanwhile.
pub async fn readyz(State(state): State<Shared>) -> Response {
    let (database, storage) = db(&state, |s| {
        let database = s.db.ping();
        let storage = s.store.as_ref().map(|st| st.blobs().ping());
        (database, storage)
    })
    .await
    .unwrap_or((false, Some(false)));
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let ready = database && storage.unwrap_or(true);
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": word(database),
        "database_backend": match state.db.backend() {
            crate::db::Backend::Sqlite => "sqlite",
            crate::db::Backend::Postgres => "postgres",
        },
        "storage": storage.map_or("not configured", word),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
