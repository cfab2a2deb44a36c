//! What the first-screen module and the capture module tell each other. The two wasm files
//! share nothing but the page: the first screen mounts the capture module with a
//! [`CaptureConfig`] (as plain arguments, see [`crate::module::mount`]) and hears back
//! [`CaptureEvent`]s as `(kind, a, b)` strings (so it needs no serde code for them); both keep
//! the flow in `sessionStorage` as a [`StoredFlow`] under [`crate::keys::FLOW_KEY`].

use liveform_core::flow::{CaptureSlot, Flow, Step};
use serde::{Deserialize, Serialize};

/// The flow remembered in this tab, tied to its session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFlow {
    pub token: String,
    pub flow: Flow,
}

/// What the main app tells the capture module when it mounts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureConfig {
    pub step: Step,
    /// The UI language (its strings are fetched like the main app's).
    pub lang: String,
    /// The session token (for the server calls the capture screens make).
    pub token: String,
    /// The project allows a photo from the device instead of the live camera.
    #[serde(default)]
    pub allow_file_upload: bool,
    /// The main app's flow when it mounted these screens (choices, e-mail, captures so far).
    #[serde(default)]
    pub flow: Option<liveform_core::flow::Flow>,
}

/// What the capture module reports to the main app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureEvent {
    /// A capture was confirmed for its slot (and stored: `capture_id` is the server's).
    Captured {
        slot: CaptureSlot,
        capture_id: String,
    },
    /// Drop a slot's capture and capture it again.
    Retake(CaptureSlot),
    /// The submission was accepted.
    Submitted { submission_id: String },
    /// The person sent the submission (the flow waits for its answer).
    Submit,
    /// The submission failed (the finish step stays, everything kept).
    SubmitFailed,
    /// The step cannot go on: the main app shows the coded error page (`code`, e.g. `SE-50021`
    /// after three failed liveness attempts).
    Failed { code: String },
}

impl CaptureEvent {
    /// The event as `(kind, a, b)` strings for the main module, which reads them back with
    /// [`CaptureEvent::from_parts`] (so it needs no serde code for them).
    pub fn to_parts(&self) -> (&'static str, String, String) {
        let slot_no = |s: &CaptureSlot| {
            CaptureSlot::ALL
                .iter()
                .position(|x| x == s)
                .unwrap_or(0)
                .to_string()
        };
        match self {
            CaptureEvent::Captured { slot, capture_id } => {
                ("captured", slot_no(slot), capture_id.clone())
            }
            CaptureEvent::Retake(slot) => ("retake", slot_no(slot), String::new()),
            CaptureEvent::Submitted { submission_id } => {
                ("submitted", submission_id.clone(), String::new())
            }
            CaptureEvent::Submit => ("submit", String::new(), String::new()),
            CaptureEvent::SubmitFailed => ("submit_failed", String::new(), String::new()),
            CaptureEvent::Failed { code } => ("failed", code.clone(), String::new()),
        }
    }

    /// The inverse of [`CaptureEvent::to_parts`]; `None` for anything unknown.
    pub fn from_parts(kind: &str, a: String, b: String) -> Option<CaptureEvent> {
        let slot = || {
            a.parse::<usize>()
                .ok()
                .and_then(|i| CaptureSlot::ALL.get(i).copied())
        };
        Some(match kind {
            "captured" => CaptureEvent::Captured {
                slot: slot()?,
                capture_id: b,
            },
            "retake" => CaptureEvent::Retake(slot()?),
            "submitted" => CaptureEvent::Submitted { submission_id: a },
            "submit" => CaptureEvent::Submit,
            "submit_failed" => CaptureEvent::SubmitFailed,
            "failed" => CaptureEvent::Failed { code: a },
            _ => return None,
        })
    }

    /// The step-machine event it stands for (`None` for [`CaptureEvent::Failed`]: an error
    /// page, not a step).
    pub fn into_flow_event(self) -> Option<liveform_core::flow::Event> {
        use liveform_core::flow::Event;
        Some(match self {
            CaptureEvent::Captured { slot, capture_id } => Event::Captured { slot, capture_id },
            CaptureEvent::Retake(slot) => Event::Retake(slot),
            CaptureEvent::Submit => Event::Submit,
            CaptureEvent::Submitted { submission_id } => Event::Submitted { submission_id },
            CaptureEvent::SubmitFailed => Event::SubmitFailed,
            CaptureEvent::Failed { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_the_module_boundary() {
        for e in [
            CaptureEvent::Captured {
                slot: CaptureSlot::DocumentBack,
                capture_id: "c-1".into(),
            },
            CaptureEvent::Retake(CaptureSlot::Selfie),
            CaptureEvent::Submit,
            CaptureEvent::Submitted {
                submission_id: "s-9".into(),
            },
            CaptureEvent::SubmitFailed,
            CaptureEvent::Failed {
                code: "SE-50021".into(),
            },
        ] {
            let (k, a, b) = e.to_parts();
            assert_eq!(CaptureEvent::from_parts(k, a, b), Some(e));
        }
        assert_eq!(CaptureEvent::from_parts("nope", "".into(), "".into()), None);
        assert_eq!(
            CaptureEvent::from_parts("retake", "9".into(), "".into()),
            None
        );
    }
}

/// How the first-screen module's session request ended, handed to the app module as
/// `(kind, text)` (see [`crate::module::mount_app`]): the first screen never parses the answer
/// with serde; the app module does, with the same checks as when it opens a session itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The server's session view (`SessionView` as JSON text).
    View(String),
    /// The server's refusal (`ErrorBody` as JSON text).
    Refused(String),
    /// No answer to read: a catalogue code id (`LF-50002`…) and an English detail, as `code detail`.
    Failed { code: String, detail: String },
}

impl Opened {
    pub fn to_parts(&self) -> (&'static str, String) {
        match self {
            Opened::View(t) => ("view", t.clone()),
            Opened::Refused(t) => ("refused", t.clone()),
            Opened::Failed { code, detail } => ("failed", [code.as_str(), " ", detail].concat()),
        }
    }

    pub fn from_parts(kind: &str, text: String) -> Opened {
        match kind {
            "view" => Opened::View(text),
            "refused" => Opened::Refused(text),
            _ => {
                let (code, detail) = text.split_once(' ').unwrap_or((text.as_str(), ""));
                Opened::Failed {
                    code: code.to_owned(),
                    detail: detail.to_owned(),
                }
            }
        }
    }

    /// The typed outcome (the app module's side; an answer that does not parse is `LF-50001`).
    pub fn into_result(self) -> Result<liveform_core::api::SessionView, liveform_core::ErrorBody> {
        use liveform_core::{ErrorBody, ErrorCode};
        match self {
            Opened::View(t) => serde_json::from_str(&t)
                .map_err(|_| ErrorBody::new(ErrorCode::Internal, "bad JSON from the server")),
            Opened::Refused(t) => Err(serde_json::from_str(&t).unwrap_or_else(|_| {
                ErrorBody::new(ErrorCode::Internal, "an error answer without an error body")
            })),
            Opened::Failed { code, detail } => Err(ErrorBody::new(
                ErrorCode::from_id(&code).unwrap_or(ErrorCode::Runtime),
                detail,
            )),
        }
    }
}
