//! The `video` constraints of `getUserMedia`, per platform and facing mode, as plain data.
//!
//! Serialised with serde into the JS shape (`{"facingMode": {"exact": "environment"},
//! "width": {"ideal": 1920}}`); the browser layer turns the JSON into the constraints object.
//!
//! | platform | rear (`environment`, documents) | front (`user`, selfies) |
//! |---|---|---|
//! | iOS | width 1920, facing exact | width 1280, facing exact |
//! | Android | 1920 × 1080, facing exact | 1280 × 720, facing exact |
//! | desktop | width 1280, facing ideal | width 1280, facing ideal |
//!
//! Every size is `ideal`, never `min`/`exact`: the camera's nearest mode is fine, and a size must
//! never be the reason the camera does not open. Reasons for the rest:
//! * iOS gets a width and nothing else: a height (or `aspectRatio`) over-exposed photos on
//!   iPhone 13/14, stretched selfies on Safari 15 and raised `OverconstrainedError` on Safari 11
//!   (lessons §3.12; Onfido's `useVideoConstraints.ts`).
//! * Mobile facing is `exact`: with `ideal` some browsers quietly open the front camera for a
//!   document. A phone without that camera fails with `OverconstrainedError` and the retry uses
//!   [`VideoConstraints::looser`], where the facing mode is `ideal`.
//! * Desktop facing is `ideal`: webcams rarely report a facing mode, `exact` would always fail
//!   there.
//! * With a chosen camera ([`VideoConstraints::with_device`]) the `deviceId` is `exact` (it comes
//!   from this page's own enumeration) and the facing mode becomes `ideal`, so the two never
//!   contradict each other (an external camera on Android reports no facing mode).

use serde::{Deserialize, Serialize};

use crate::capture::ua::Platform;
use crate::capture::Facing;

/// One constrained value: `{"ideal": v}` or `{"exact": v}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Constrain<T> {
    Ideal(T),
    Exact(T),
}

impl<T> Constrain<T> {
    /// The value, whichever the strength.
    pub fn value(&self) -> &T {
        match self {
            Constrain::Ideal(v) | Constrain::Exact(v) => v,
        }
    }

    /// The same value as a preference only.
    pub fn into_ideal(self) -> Constrain<T> {
        match self {
            Constrain::Ideal(v) | Constrain::Exact(v) => Constrain::Ideal(v),
        }
    }
}

/// `MediaTrackConstraints` for the video track (only the members the form uses).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Constrain<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facing_mode: Option<Constrain<Facing>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Constrain<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Constrain<u32>>,
}

/// `MediaStreamConstraints`: video only, never audio.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamConstraints {
    pub audio: bool,
    pub video: VideoConstraints,
}

impl VideoConstraints {
    /// The first request for a platform and facing mode (see the module table).
    pub fn for_capture(platform: Platform, facing: Facing) -> VideoConstraints {
        let (facing_mode, width, height) = match (platform, facing) {
            (Platform::Ios, Facing::Environment) => (Constrain::Exact(facing), 1920, None),
            (Platform::Ios, Facing::User) => (Constrain::Exact(facing), 1280, None),
            (Platform::Android, Facing::Environment) => {
                (Constrain::Exact(facing), 1920, Some(1080))
            }
            (Platform::Android, Facing::User) => (Constrain::Exact(facing), 1280, Some(720)),
            (Platform::Desktop(_), _) => (Constrain::Ideal(facing), 1280, None),
        };
        VideoConstraints {
            device_id: None,
            facing_mode: Some(facing_mode),
            width: Some(Constrain::Ideal(width)),
            height: height.map(Constrain::Ideal),
        }
    }

    /// The same request for one camera (from [`crate::capture::lens::rank`]): `deviceId` exact,
    /// facing mode downgraded to `ideal`, sizes kept.
    pub fn with_device(self, device_id: &str) -> VideoConstraints {
        VideoConstraints {
            device_id: Some(Constrain::Exact(device_id.to_owned())),
            facing_mode: self.facing_mode.map(Constrain::into_ideal),
            ..self
        }
    }

    /// The relaxed retry after `OverconstrainedError` (and the other
    /// [`crate::capture::camera::should_retry_looser`] errors): no size at all, facing mode and
    /// camera kept as `ideal` preferences. It cannot be over-constrained; looser of looser is
    /// itself.
    pub fn looser(&self) -> VideoConstraints {
        VideoConstraints {
            device_id: self.device_id.clone().map(Constrain::into_ideal),
            facing_mode: self.facing_mode.clone().map(Constrain::into_ideal),
            width: None,
            height: None,
        }
    }

    /// Whether this already is its own [`VideoConstraints::looser`] (then a failure is final).
    pub fn is_loosest(&self) -> bool {
        *self == self.looser()
    }

    /// The whole `getUserMedia` argument: this video track, no audio.
    pub fn stream(self) -> StreamConstraints {
        StreamConstraints {
            audio: false,
            video: self,
        }
    }
}
