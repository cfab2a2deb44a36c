//! The camera layer's decisions, as pure functions the browser layer (`web/src/camera/`)
//! feeds with what it reads from the page (issue 5; `kyc-capture-lessons.md` §3).
//!
//! * [`ua`]: which platform, browser and in-app browser a user agent is; whether to send the person
//!   to a real browser before trying the camera, and how ([`ua::Escape`]); which browser's steps
//!   to show after a permission denial ([`ua::RecoveryBrowser`]).
//! * [`camera`]: a `getUserMedia` failure (a `DOMException` name plus context) as a typed
//!   [`camera::CameraError`] with its catalogue code and the [`camera::Recovery`] to offer.
//! * [`constraints`]: the video constraints per platform and facing mode, and their relaxed retry.
//! * [`lens`]: which camera to open once labels are known (primary rear lens, never IR or
//!   virtual), as an ordered list for a manual switch, honouring a remembered choice.
//!
//! Nothing here touches the page: strings and flags in, plain data out.

pub mod camera;
pub mod constraints;
pub mod lens;
pub mod ua;

use serde::{Deserialize, Serialize};

pub use camera::{should_retry_looser, CameraError, FailureContext, Recovery};
pub use constraints::{StreamConstraints, VideoConstraints};
pub use lens::{is_virtual_label, rank, CameraDevice, LensRanking, Remembered};
pub use ua::{Browser, Escape, InApp, Platform, RecoveryBrowser, UaHints, UserAgent};

/// Which way the camera looks (the `facingMode` values the capture steps use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facing {
    /// The rear camera (`"environment"`): documents.
    Environment,
    /// The front camera (`"user"`): selfies and liveness.
    User,
}

impl Facing {
    /// The `facingMode` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Facing::Environment => "environment",
            Facing::User => "user",
        }
    }

    /// Parses a `facingMode` value (`"environment"`, `"user"`); `"left"`, `"right"` and anything
    /// else are `None`.
    pub fn parse(s: &str) -> Option<Facing> {
        match s {
            "environment" => Some(Facing::Environment),
            "user" => Some(Facing::User),
            _ => None,
        }
    }
}
