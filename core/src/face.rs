//! Faces found in one camera frame, as the face detector (the `face/` crate, run in a Web Worker)
//! reports them. Pure data: the selfie gate (`crate::selfie`) and the liveness challenges
//! (`crate::liveness`) read only these types, so they are tested natively on recorded geometry.
//!
//! Coordinates are normalised to the frame as the camera delivers it (never mirrored):
//! `x` is a fraction of the frame width from the left edge, `y` a fraction of the height from the
//! top. The person's *left* eye is therefore usually at the larger `x` (the camera faces them).
use serde::{Deserialize, Serialize};

/// A point in frame-normalised coordinates (0..1 each; may stray slightly outside for a face
/// cut by the frame edge).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// Which landmark a keypoint is, in the detector's order (MediaPipe BlazeFace): the *person's*
/// right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keypoint {
    RightEye = 0,
    LeftEye = 1,
    Nose = 2,
    Mouth = 3,
    RightEar = 4,
    LeftEar = 5,
}

/// One detected face.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// Box left edge, top edge, width and height, frame-normalised.
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// Detector confidence, 0..1.
    pub score: f32,
    /// The six landmarks, indexed by [`Keypoint`].
    pub keypoints: [Point; 6],
}

impl Face {
    pub fn keypoint(&self, k: Keypoint) -> Point {
        self.keypoints[k as usize]
    }

    /// Centre of the box.
    pub fn centre(&self) -> Point {
        Point {
            x: self.x + self.w / 2.0,
            y: self.y + self.h / 2.0,
        }
    }
}

/// What the detector says about one frame.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaceFrame {
    /// The analysed frame's size in pixels (its aspect matters for geometry).
    pub width: u32,
    pub height: u32,
    /// Faces above the detector's score threshold, best first.
    pub faces: Vec<Face>,
    /// Mean luma (0..255) of the best face's box, or of the whole frame when there is no face.
    pub brightness: f32,
    /// Sharpness of the best face's box (0..1, higher is sharper; the same blur measure as the
    /// document gate, `crate::vision`), or 0 when there is no face.
    pub sharpness: f32,
}

impl FaceFrame {
    /// Width over height of the frame (1 when unknown).
    pub fn aspect(&self) -> f32 {
        if self.width == 0 || self.height == 0 {
            1.0
        } else {
            self.width as f32 / self.height as f32
        }
    }
}
