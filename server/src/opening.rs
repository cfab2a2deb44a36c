//! Turning a raw link into a session's parameters, offer and steps: the one code path used by
//! `POST /api/session` and by `liveform link inspect`.

use liveform_core::flow::{Flow, FlowConfig};
use liveform_core::launch::{LaunchOptions, Projection};
use liveform_core::policy::{offer, Offer, PolicyInput};
use liveform_core::{ErrorCode, LaunchContext, LaunchError, LaunchParams, RawQuery};

use crate::config::{ProjectConfig, ValidConfig};

/// A link, opened.
#[derive(Debug, Clone)]
pub struct Opened<'a> {
    pub project: &'a ProjectConfig,
    pub params: LaunchParams,
    pub offer: Offer,
    /// The flow at its first step.
    pub flow: Flow,
}

/// Why a link cannot open: a catalogue code and an English detail.
pub type OpenError = LaunchError;

/// Parses, decrypts and validates `query`, then decides the offer and the steps.
pub fn open_link<'a>(
    config: &'a ValidConfig,
    query: &str,
    now: i64,
) -> Result<Opened<'a>, OpenError> {
    let raw = RawQuery::parse(query)?;
    let pid = raw.pid()?;
    let project = config.project(pid).ok_or_else(|| {
        LaunchError::new(ErrorCode::UnknownProject, format!("no project {pid:?}"))
    })?;
    let mut params = raw.resolve_with(
        &LaunchContext {
            key: &project.key,
            algorithm: project.algorithm,
            encrypted_only: project.encrypted_only,
            now_unix: now,
        },
        &LaunchOptions {
            plain_loosening: project.plain_loosening,
        },
    )?;
    // A projection is the project's: an unknown one refuses the link (its fields would
    // otherwise reach the integrator's output); the stored choice is the projection's id.
    if let Some(sel) = &params.projection {
        let (by_id, v, name) = match sel {
            Projection::Id(v) => (true, v, "projectionId"),
            Projection::Name(v) => (false, v, "projectionName"),
        };
        let p = project.projection_by(by_id, v).ok_or_else(|| {
            LaunchError::new(
                ErrorCode::InvalidParameter,
                format!("{name}: no such projection in this project"),
            )
        })?;
        params.projection = Some(Projection::Id(p.id.clone()));
    }
    let offer = offer(
        &project.support,
        &PolicyInput::from_launch(&params, &project.blacklist, None),
    )
    .map_err(|e| LaunchError::new(e.code(), e.detail.clone()))?;
    let flow = Flow::new(
        FlowConfig {
            passive_liveness: !project.active_liveness,
            ..FlowConfig::for_offer(project.ask_email, params.email.is_some(), &offer)
        },
        offer.clone(),
    )
    .map_err(|e| LaunchError::new(ErrorCode::ConflictingParameters, e.to_string()))?;
    Ok(Opened {
        project,
        params,
        offer,
        flow,
    })
}

/// `liveform link inspect` output.
pub fn inspect_json(o: &Opened<'_>) -> serde_json::Value {
    serde_json::json!({
        "pid": o.project.pid,
        "params": o.params,
        "countries": o.offer.countries,
        "id_types": o.offer.id_types,
        "steps": o.flow.steps(),
    })
}
