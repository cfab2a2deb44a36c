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

/// A 64-bit perceptual signature of a picture (a difference hash): the luma image averaged down
/// to 9×8 cells, one bit per horizontally adjacent pair (is the right cell brighter?). Two
/// pictures whose signatures differ in a few bits at most are the same picture, re-encoded,
/// resized or slightly re-exposed; different frames of a moving person differ in many. `luma` is
/// `width × height` bytes, row by row; 0 for an empty image.
pub fn picture_signature(luma: &[u8], width: usize, height: usize) -> u64 {
    const W: usize = 9;
    const H: usize = 8;
    if width == 0 || height == 0 || luma.len() < width * height {
        return 0;
    }
    let mut cells = [[0u64; W]; H];
    let mut counts = [[0u64; W]; H];
    for y in 0..height {
        let cy = y * H / height;
        let row = &luma[y * width..(y + 1) * width];
        for (x, v) in row.iter().enumerate() {
            let cx = x * W / width;
            cells[cy][cx] += u64::from(*v);
            counts[cy][cx] += 1;
        }
    }
    let mut bits = 0u64;
    for y in 0..H {
        for x in 0..W - 1 {
            // Compare means without division: a/ca + 2 < b/cb  <=>  (a + 2·ca)·cb < b·ca.
            let (a, ca) = (cells[y][x], counts[y][x].max(1));
            let (b, cb) = (cells[y][x + 1], counts[y][x + 1].max(1));
            bits = (bits << 1) | u64::from((a + 2 * ca) * cb < b * ca);
        }
    }
    bits
}
