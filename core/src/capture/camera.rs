//! `getUserMedia` failures: a typed error per cause, its catalogue code and what to offer.
//!
//! The browser layer passes the rejected `DOMException`'s `name` and `message` plus what it knows
//! about the page ([`FailureContext`]) to [`CameraError::from_dom`]; before asking at all it runs
//! [`precheck`]. Each error has one [`ErrorCode`] (`LF-601xx`, whose message keys the screens
//! show) and one [`Recovery`].
//!
//! Names, current and legacy (pre-2017 Chrome, old Firefox):
//!
//! | name | error |
//! |---|---|
//! | `NotAllowedError`, `PermissionDeniedError` | [`CameraError::Denied`], or `DeniedBySystem` / `Dismissed` by Chrome's message, or `BlockedByPolicy` with [`FailureContext::policy_blocked`], or `InAppBrowser` inside an in-app browser |
//! | `PermissionDismissedError` | [`CameraError::Dismissed`] |
//! | `NotFoundError`, `DevicesNotFoundError` | [`CameraError::NotFound`] (`InAppBrowser` inside an in-app browser: a phone has cameras, the app hides them) |
//! | `NotReadableError`, `TrackStartError`, `SourceUnavailableError` | [`CameraError::InUse`] |
//! | `OverconstrainedError`, `ConstraintNotSatisfiedError` | [`CameraError::Overconstrained`] |
//! | `SecurityError` | [`CameraError::Security`] (`BlockedByPolicy` with the flag) |
//! | `AbortError` | [`CameraError::Aborted`] |
//! | `TypeError` | [`CameraError::InvalidConstraints`] |
//! | `NotSupportedError` | [`CameraError::NoMediaDevices`] |
//! | anything else | [`CameraError::Unknown`] |

use serde::{Deserialize, Serialize};

use crate::capture::ua::{InApp, UserAgent};
use crate::errors::ErrorCode;

/// Why the camera could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CameraError {
    /// The person (or a remembered "block" for this site) refused the camera.
    #[error("camera permission denied")]
    Denied,
    /// The operating system does not let the browser use the camera (macOS/Windows privacy
    /// settings; Chrome's message `Permission denied by system`).
    #[error("camera permission denied by the operating system")]
    DeniedBySystem,
    /// The prompt was closed without an answer (Chrome's message `Permission dismissed`): asking
    /// again prompts again.
    #[error("camera permission prompt dismissed")]
    Dismissed,
    /// The page may not use the camera: an iframe without `allow="camera"`, or a
    /// `Permissions-Policy` header that excludes it. The integrator must fix the embedding.
    #[error("camera blocked by the permissions policy (iframe without allow=\"camera\")")]
    BlockedByPolicy,
    /// No camera at all.
    #[error("no camera found")]
    NotFound,
    /// The camera exists but cannot be started: another app (a call, the camera app) holds it,
    /// or the hardware/driver failed.
    #[error("camera in use by another app or failed to start")]
    InUse,
    /// No camera satisfies the constraints (`constraint` names the one, when the browser says).
    #[error("no camera satisfies the constraints (constraint: {})", .constraint.as_deref().unwrap_or("not named"))]
    Overconstrained { constraint: Option<String> },
    /// The browser refuses camera access in this document (settings, sandbox).
    #[error("camera access refused for security reasons")]
    Security,
    /// Starting the camera was aborted (Firefox reports some busy cameras this way).
    #[error("camera start aborted")]
    Aborted,
    /// The browser rejected the constraints themselves (`TypeError`).
    #[error("invalid camera constraints")]
    InvalidConstraints,
    /// No `navigator.mediaDevices.getUserMedia`: an insecure context or an old WebView.
    #[error("this browser offers no camera access (no navigator.mediaDevices)")]
    NoMediaDevices,
    /// An in-app browser that blocks the camera (detected up front, or after a denial there).
    #[error("in-app browser without camera access ({app:?})")]
    InAppBrowser { app: InApp },
    /// A `DOMException` name not listed above.
    #[error("camera failed: {name}")]
    Unknown { name: String },
}

/// What the page knows about a failure besides the exception's name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureContext<'a> {
    /// The `DOMException`'s `message` (Chrome distinguishes "dismissed" and "by system" only here).
    pub message: &'a str,
    /// `OverconstrainedError.constraint`, when present and non-empty.
    pub constraint: Option<&'a str>,
    /// The permissions policy forbids the camera in this document (the browser layer asks
    /// `document.featurePolicy.allowsFeature("camera")` / `document.permissionsPolicy`, where
    /// available).
    pub policy_blocked: bool,
    /// The in-app browser the page runs in ([`UserAgent::in_app`]).
    pub in_app: Option<InApp>,
}

/// What the person (or the layer, automatically) does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Ask again right away (the prompt was dismissed, or starting was interrupted).
    Retry,
    /// Allow the camera in the browser's (or the system's) settings, then retry: the
    /// per-browser steps of [`UserAgent::recovery_browser`], and a retry that runs by itself when
    /// the Permissions API reports the change.
    RetryAfterSettings,
    /// Close other apps that use the camera (calls, the camera app), then retry.
    CloseOtherApps,
    /// Retry once with [`crate::capture::VideoConstraints::looser`]: done by the layer without a
    /// screen (see [`should_retry_looser`]); a screen's retry button does the same.
    TryLooserConstraints,
    /// Open the page in a real browser ([`UserAgent::escape`]).
    OpenInBrowser,
    /// Continue on another device (cross-device QR), or upload when the project allows it.
    UseAnotherDevice,
    /// The embedding page must allow the camera (`<iframe allow="camera">`): a message for the
    /// integrator naming what is missing.
    AskIntegrator,
    /// Reload the page.
    Reload,
}

impl CameraError {
    /// Types a rejected `getUserMedia` call from the `DOMException` name and the context.
    pub fn from_dom(name: &str, ctx: &FailureContext<'_>) -> CameraError {
        let denied = matches!(
            name,
            "NotAllowedError" | "PermissionDeniedError" | "PermissionDismissedError"
        );
        let not_found = matches!(name, "NotFoundError" | "DevicesNotFoundError");
        if ctx.policy_blocked
            && matches!(
                name,
                "NotAllowedError" | "PermissionDeniedError" | "SecurityError"
            )
        {
            return CameraError::BlockedByPolicy;
        }
        if let Some(app) = ctx.in_app.filter(|_| denied || not_found) {
            return CameraError::InAppBrowser { app };
        }
        let message = ctx.message.to_ascii_lowercase();
        match name {
            "NotAllowedError" | "PermissionDeniedError" => {
                if message.contains("by system") {
                    CameraError::DeniedBySystem
                } else if message.contains("dismissed") {
                    CameraError::Dismissed
                } else {
                    CameraError::Denied
                }
            }
            "PermissionDismissedError" => CameraError::Dismissed,
            "NotFoundError" | "DevicesNotFoundError" => CameraError::NotFound,
            "NotReadableError" | "TrackStartError" | "SourceUnavailableError" => CameraError::InUse,
            "OverconstrainedError" | "ConstraintNotSatisfiedError" => {
                CameraError::Overconstrained {
                    constraint: ctx
                        .constraint
                        .filter(|c| !c.is_empty())
                        .map(|c| c.chars().take(64).collect()),
                }
            }
            "SecurityError" => CameraError::Security,
            "AbortError" => CameraError::Aborted,
            "TypeError" => CameraError::InvalidConstraints,
            "NotSupportedError" => CameraError::NoMediaDevices,
            other => CameraError::Unknown {
                name: other.chars().take(64).collect(),
            },
        }
    }

    /// The catalogue code (its message key names the screen's title and action).
    pub fn code(&self) -> ErrorCode {
        match self {
            CameraError::Denied => ErrorCode::CameraDenied,
            CameraError::DeniedBySystem => ErrorCode::CameraDeniedBySystem,
            CameraError::Dismissed => ErrorCode::CameraDismissed,
            CameraError::BlockedByPolicy => ErrorCode::CameraBlockedByPolicy,
            CameraError::NotFound => ErrorCode::CameraNotFound,
            CameraError::InUse => ErrorCode::CameraInUse,
            CameraError::Overconstrained { .. } => ErrorCode::CameraOverconstrained,
            CameraError::Security => ErrorCode::CameraSecurity,
            CameraError::Aborted => ErrorCode::CameraAborted,
            CameraError::InvalidConstraints => ErrorCode::CameraInvalidConstraints,
            CameraError::NoMediaDevices => ErrorCode::CameraUnavailable,
            CameraError::InAppBrowser { .. } => ErrorCode::CameraInAppBrowser,
            CameraError::Unknown { .. } => ErrorCode::CameraFailed,
        }
    }

    /// What to offer.
    pub fn recovery(&self) -> Recovery {
        match self {
            CameraError::Denied | CameraError::DeniedBySystem => Recovery::RetryAfterSettings,
            CameraError::Dismissed | CameraError::Aborted => Recovery::Retry,
            CameraError::BlockedByPolicy => Recovery::AskIntegrator,
            CameraError::NotFound => Recovery::UseAnotherDevice,
            CameraError::InUse => Recovery::CloseOtherApps,
            CameraError::Overconstrained { .. } | CameraError::InvalidConstraints => {
                Recovery::TryLooserConstraints
            }
            CameraError::Security
            | CameraError::NoMediaDevices
            | CameraError::InAppBrowser { .. } => Recovery::OpenInBrowser,
            CameraError::Unknown { .. } => Recovery::Reload,
        }
    }
}

/// Whether to retry once, automatically, with [`crate::capture::VideoConstraints::looser`].
///
/// `true` for the constraint errors (`OverconstrainedError`, `TypeError`) and for the start
/// failures that high resolutions cause on some Android cameras (`NotReadableError`,
/// `AbortError`; Onfido retries every non-permission error once for this reason). Once means
/// once: when the failing request was already the looser one, the layer shows the error's screen.
pub fn should_retry_looser(e: &CameraError) -> bool {
    matches!(
        e,
        CameraError::Overconstrained { .. }
            | CameraError::InvalidConstraints
            | CameraError::InUse
            | CameraError::Aborted
    )
}

/// The checks before the primer screen: `Err` means "do not ask for the camera, show this".
///
/// In order: a browser to leave up front ([`UserAgent::needs_escape`]) or no
/// `navigator.mediaDevices` — the in-app error inside an in-app browser, else
/// [`CameraError::NoMediaDevices`] (both offer a real browser); then a permissions policy that
/// forbids the camera.
pub fn precheck(
    ua: &UserAgent,
    has_media_devices: bool,
    policy_blocked: bool,
) -> Result<(), CameraError> {
    if ua.needs_escape || !has_media_devices {
        return Err(match ua.in_app {
            Some(app) => CameraError::InAppBrowser { app },
            None => CameraError::NoMediaDevices,
        });
    }
    if policy_blocked {
        return Err(CameraError::BlockedByPolicy);
    }
    Ok(())
}
