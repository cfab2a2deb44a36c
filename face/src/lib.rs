//! On-device face detection for the selfie and liveness steps: MediaPipe BlazeFace short-range
//! (128×128 input, 896 anchors, a box and six keypoints per face) run by a small inference
//! engine written for this model (`onnx.rs` reads the ONNX file in `model/`, embedded with
//! `include_bytes!`; `net.rs` plans it; `kernels.rs` / `simd.rs` compute). Pure Rust: the same code runs in the native
//! tests and, compiled to wasm, in a Web Worker (`src/bin/face-worker.rs`), so the camera page's
//! main thread never waits for it. The results are `liveform_core::face` types.
//!
//! Why BlazeFace and a hand-written engine, the model's provenance and the measured numbers:
//! `README.md`.
//!
//! # Worker protocol (`liveform-face_loader.js`, built by Trunk from `src/bin/face-worker.rs`)
//!
//! Messages are plain objects (`postMessage`):
//!
//! * worker → page, once at start: `{ready: true}` when the detector is built, or
//!   `{error: "…"}` when it could not be (the worker then answers every frame with an error).
//! * page → worker: `{id: number, width: number, height: number, pixels: ArrayBuffer}`, the
//!   frame's RGBA bytes (`getImageData`'s layout, `width * height * 4` bytes), best transferred.
//! * worker → page, per frame: `{id, ms, frame, pixels}`: `ms` is the detection time in
//!   milliseconds (`performance.now()` around [`Detector::detect`]), `frame` the
//!   [`FaceFrame`] as a JSON string (`serde_json`), `pixels` the same `ArrayBuffer`, transferred
//!   back so the page can reuse it for the next frame. On failure `{id, error: "…", pixels}`
//!   (`pixels` only when one was received). A malformed message never panics the worker: it is
//!   answered with an error (`id` is `-1` when the message had none).
//!
//! One frame at a time is the page's job (`web/src/face.rs` in the SPA drops frames while
//! one is in flight).
// `deny`, not `forbid`: the one exception is `simd.rs` (wasm SIMD loads and stores, each proven
// in bounds there), which allows it for itself.
#![deny(unsafe_code)]

mod kernels;
mod net;
mod onnx;
mod simd;

use liveform_core::face::{Face, FaceFrame, Point};
use net::Net;

/// The model: BlazeFace short-range as ONNX (see `model/NOTICE.md`: source package, licence,
/// SHA-256, and `scripts/make-face-model.sh`, which reproduces it).
pub static MODEL: &[u8] = include_bytes!("../model/blazeface_short_range.onnx");

/// Side of the model's square input, in pixels.
pub const INPUT_SIZE: usize = 128;
/// Number of anchors (and of rows in the model's two outputs).
pub const NUM_ANCHORS: usize = 896;
/// The first anchors, on the 16×16 grid (stride 8, two per cell), are the ones for the smaller
/// faces; the zoomed pass takes its hint from them (see [`Detector::detect`]).
const FINE_ANCHORS: usize = 512;
/// Values per anchor in the `regressors` output: box centre offset x, y, width, height, then
/// six keypoints as x, y offsets; all in input pixels.
const REG_LEN: usize = 16;
/// Names of the model's outputs: boxes and keypoints, raw scores.
const REGRESSORS: &str = "regressors";
const SCORES: &str = "classificators";

/// Minimum detection score (after the sigmoid) for a face to be reported: MediaPipe's own
/// `min_score_thresh` for this model.
pub const SCORE_THRESHOLD: f32 = 0.5;
/// Boxes overlapping the best remaining box by at least this IoU are merged into it (weighted
/// non-maximum suppression, MediaPipe's `min_suppression_threshold`).
pub const NMS_IOU: f32 = 0.3;
/// Raw scores are clipped to ±this before the sigmoid (MediaPipe's `score_clipping_thresh`).
const SCORE_CLIP: f32 = 100.0;
/// At most this many faces are reported (best first).
pub const MAX_FACES: usize = 32;
/// The zoomed second pass ([`Detector::detect`]): a square crop of this fraction of the frame's
/// shorter side, scaled to the model's input. BlazeFace short-range needs a face box of about
/// 18 input pixels (measured on the reference portrait pasted into 640×480 frames at five places
/// on two backdrops: always found from 17 % of the frame's height, at 16 % in 6 of 10, below that
/// rarely and then weakly with a box up to half as large again), so the full-frame pass (a 4:3 frame letterboxed to 128×96) misses faces under about
/// 15 % of the frame's height: a person an arm's length too far. Half the shorter side magnifies
/// 2.67× on a 4:3 frame (the 128 px input spans 240 of 480 rows instead of 480 of 640 columns),
/// which brings a 6–15 % face to 15–38 input pixels while the crop still holds a whole head
/// with room for the crop's centre to be off by a face or two.
pub const ZOOM_CROP: f32 = 0.5;
/// The zoomed pass runs only when the best anchor of the full pass's small-face grid (the
/// stride-8 anchors) scored at least this (after the sigmoid); the crop is centred on that
/// anchor's box. A far face of 8–15 % scores 0.2–0.6 there (below [`SCORE_THRESHOLD`], but that
/// anchor lies on the face, within about a face's height); frames with nothing face-like
/// anywhere (the group photo of tiny faces: 0.08, a textured wall) skip the second model run.
pub const ZOOM_MIN_HINT_SCORE: f32 = 0.1;
/// The zoomed pass also runs when the full pass's best face scored below this: at the edge of
/// its range (faces of 7–16 % of the frame's height) the full pass sometimes finds a far face
/// with a low score (0.5–0.65) and a box half as large again as the face (0.21 for a 15 % face,
/// 0.23 for a 7 % one), or a large weak box beside it. The crop then measures the face properly
/// (scores above 0.9); its faces replace the full pass's when its best one scores at least this
/// and more than the full pass's best. Faces found comfortably score 0.75 and more (the
/// reference portrait at 18–25 % of the height: 0.74–0.94), and then the zoom does not run.
pub const ZOOM_CONFIRM_SCORE: f32 = 0.7;
/// A face found by the zoomed pass is kept only when its box is at most this fraction of the
/// frame's height. Larger faces are the full pass's (it finds every face from 17 % up), so a larger
/// box from the crop is a misfit, not a far face; and the bound keeps every crop-only face below
/// both size rules of `liveform_core::selfie` (`MIN_FACE_FRACTION` 25 % for the stored still,
/// `MIN_FACE_HEIGHT` 30 % for the live gate): a far face can only yield "move closer" or
/// `face_too_small`, never a face that passes.
pub const ZOOM_MAX_FACE_HEIGHT: f32 = 0.2;
/// The face box is resampled (area average) to at most this many pixels on its long edge before
/// the sharpness measure, so the number does not depend on the camera's resolution.
pub const SHARPNESS_LONG_EDGE: usize = 128;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("the face model could not be loaded: {0}")]
    Model(String),
    #[error(
        "frame size {width}x{height} with {len} bytes is not RGBA (expected width*height*4 > 0)"
    )]
    BadFrame { width: u32, height: u32, len: usize },
    #[error("the face model failed: {0}")]
    Run(String),
}

/// A face detector: the model, its anchors and the buffers reused for every frame. Build once
/// (a few milliseconds: the model is parsed and its weights prepared), then call
/// [`Detector::detect`] per frame.
pub struct Detector {
    net: Net,
    /// Anchor centres (x, y) in 0..1 of the model input.
    anchors: Vec<(f32, f32)>,
    /// The model input, 1×3×128×128, reused.
    input: Vec<f32>,
    /// The letterbox geometry the input's black bars were last drawn for.
    bars: (usize, usize, usize, usize),
    /// How the whole frame is sampled (rebuilt when the frame size changes) and how the zoomed
    /// crop is (rebuilt per crop).
    full: Sampling,
    zoom: Sampling,
    size: (u32, u32),
    candidates: Vec<Candidate>,
    merged: Vec<Face>,
    luma: Vec<u8>,
}

/// Which rectangle of the frame fills the model input, and how: the area-average source ranges
/// and the letterbox.
#[derive(Debug, Default)]
struct Sampling {
    /// Source rectangle in frame pixels: left, top, width, height.
    src: (usize, usize, usize, usize),
    /// Letterbox geometry: content offset (x, y) and size (w, h) in input pixels.
    fit: (usize, usize, usize, usize),
    /// Source column / row ranges (frame pixels) of each input pixel of the content.
    cols: Vec<(u32, u32)>,
    rows: Vec<(u32, u32)>,
}

impl Sampling {
    /// Letterboxes the source rectangle `src` (left, top, width, height; non-empty, inside the
    /// frame) into the input: aspect kept, centred, the long edge filling the input.
    fn set(&mut self, src: (usize, usize, usize, usize)) {
        let (sx, sy, w, h) = src;
        let long = w.max(h).max(1);
        let cw = ((w * INPUT_SIZE + long / 2) / long).clamp(1, INPUT_SIZE);
        let ch = ((h * INPUT_SIZE + long / 2) / long).clamp(1, INPUT_SIZE);
        self.fit = ((INPUT_SIZE - cw) / 2, (INPUT_SIZE - ch) / 2, cw, ch);
        let ranges = |start: usize, src: usize, dst: usize, out: &mut Vec<(u32, u32)>| {
            out.clear();
            for i in 0..dst {
                let a = i * src / dst;
                let b = ((i + 1) * src / dst).max(a + 1).min(src);
                out.push(((start + a) as u32, (start + b) as u32));
            }
        };
        ranges(sx, w, cw, &mut self.cols);
        ranges(sy, h, ch, &mut self.rows);
        self.src = src;
    }

    /// Input-normalised → frame-normalised (undo the letterbox and the crop) for a frame of
    /// `fw × fh` pixels.
    fn to_frame(&self, f: &Face, fw: usize, fh: usize) -> Face {
        let (ox, oy, cw, ch) = self.fit;
        let (sx, sy, sw, sh) = self.src;
        let s = INPUT_SIZE as f32;
        let (ox, oy, cw, ch) = (ox as f32 / s, oy as f32 / s, cw as f32 / s, ch as f32 / s);
        // Fractions of the source rectangle → fractions of the frame.
        let (kx, ky) = (sw as f32 / fw as f32, sh as f32 / fh as f32);
        let (bx, by) = (sx as f32 / fw as f32, sy as f32 / fh as f32);
        let px = |x: f32| bx + (x - ox) / cw * kx;
        let py = |y: f32| by + (y - oy) / ch * ky;
        Face {
            x: px(f.x),
            y: py(f.y),
            w: f.w / cw * kx,
            h: f.h / ch * ky,
            score: f.score,
            keypoints: f.keypoints.map(|p| Point {
                x: px(p.x),
                y: py(p.y),
            }),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    score: f32,
    /// xmin, ymin, xmax, ymax in input-normalised coordinates.
    bbox: [f32; 4],
    keypoints: [f32; 12],
}

impl Candidate {
    /// The box alone as a [`Face`] (input-normalised), for mapping it to the frame.
    fn as_face(&self) -> Face {
        let [x0, y0, x1, y1] = self.bbox;
        Face {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
            score: self.score,
            keypoints: [Point::default(); 6],
        }
    }
}

/// The zoomed pass's crop of a `w × h` frame: a square of [`ZOOM_CROP`] of the shorter side
/// (at least one pixel), centred on `centre` (frame-normalised) and moved inside the frame.
fn zoom_crop(w: usize, h: usize, centre: Point) -> (usize, usize, usize, usize) {
    let side = ((w.min(h) as f32 * ZOOM_CROP).round() as usize).clamp(1, w.min(h));
    let place = |c: f32, len: usize| {
        let c = if c.is_finite() { c } else { 0.5 };
        let start = (c * len as f32 - side as f32 / 2.0).round();
        (start.max(0.0) as usize).min(len - side)
    };
    (place(centre.x, w), place(centre.y, h), side, side)
}

impl Detector {
    /// Loads the embedded model.
    pub fn new() -> Result<Self, FaceError> {
        let net = Net::from_onnx(MODEL)?;
        if net.input_dims() != [1, 3, INPUT_SIZE, INPUT_SIZE] {
            return Err(FaceError::Model(format!(
                "unexpected input shape {:?}",
                net.input_dims()
            )));
        }
        let reg = net.output_dims(REGRESSORS);
        let sc = net.output_dims(SCORES);
        if reg != Some(&[1, NUM_ANCHORS, REG_LEN][..]) || sc != Some(&[1, NUM_ANCHORS, 1][..]) {
            return Err(FaceError::Model(format!(
                "unexpected output shapes {reg:?} {sc:?}"
            )));
        }
        Ok(Detector {
            net,
            anchors: anchors(),
            input: vec![0.0; 3 * INPUT_SIZE * INPUT_SIZE],
            bars: (0, 0, 0, 0),
            full: Sampling::default(),
            zoom: Sampling::default(),
            size: (0, 0),
            candidates: Vec::with_capacity(64),
            merged: Vec::with_capacity(MAX_FACES),
            luma: Vec::new(),
        })
    }

    /// Finds faces in an RGBA frame (`getImageData` layout, any size): letterboxes it into the
    /// 128×128 input (area average, black bars), runs the model, decodes the anchors, keeps
    /// scores ≥ [`SCORE_THRESHOLD`] after the sigmoid, merges overlapping boxes (weighted NMS,
    /// [`NMS_IOU`]) and maps boxes and keypoints back to frame-normalised coordinates (not
    /// mirrored). Also measures the best face's brightness and sharpness (see [`FaceFrame`]).
    ///
    /// When that full-frame pass finds no face (or only faces scoring below
    /// [`ZOOM_CONFIRM_SCORE`]), a second, zoomed pass looks for a far one: a square crop
    /// ([`ZOOM_CROP`] of the shorter side) centred on the full pass's best anchor (when it scored
    /// at least [`ZOOM_MIN_HINT_SCORE`]), scaled to the input. Its faces are mapped back to the
    /// whole frame and kept up to [`ZOOM_MAX_FACE_HEIGHT`] of its height; they replace the full
    /// pass's when the best of them scores higher. They feed the selfie rules like any other
    /// face, as small ones. The selfie gate in the
    /// browser (the worker) and the server's check of the stored still both call this, so they
    /// see the same faces. Without a face anywhere this costs a second model run.
    pub fn detect(&mut self, rgba: &[u8], width: u32, height: u32) -> Result<FaceFrame, FaceError> {
        self.detect_passes(rgba, width, height, true)
    }

    /// [`Detector::detect`] without the zoomed second pass: the full frame only (faces from about
    /// 15 % of the frame's height). For comparisons and benchmarks.
    pub fn detect_full_frame_only(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<FaceFrame, FaceError> {
        self.detect_passes(rgba, width, height, false)
    }

    fn detect_passes(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        zoom: bool,
    ) -> Result<FaceFrame, FaceError> {
        let (w, h) = (width as usize, height as usize);
        if w == 0 || h == 0 || w.checked_mul(h).and_then(|n| n.checked_mul(4)) != Some(rgba.len()) {
            return Err(FaceError::BadFrame {
                width,
                height,
                len: rgba.len(),
            });
        }
        if self.size != (width, height) {
            self.prepare(w, h);
        }
        let hint = self.run_pass(rgba, w, false)?;
        let mut faces: Vec<Face> = self
            .merged
            .iter()
            .map(|f| self.full.to_frame(f, w, h))
            .collect();
        if zoom {
            // Where to look: the best anchor of the small-face grid, when there is no face or
            // only a weak one (a weak box is at times several times the face's size, its centre
            // off the face).
            let weak = faces.first().copied();
            let look = match weak {
                Some(f) if f.score >= ZOOM_CONFIRM_SCORE => None,
                _ => hint
                    .filter(|c| c.score >= ZOOM_MIN_HINT_SCORE)
                    .map(|c| self.full.to_frame(&c.as_face(), w, h).centre()),
            };
            if let Some(centre) = look {
                self.zoom.set(zoom_crop(w, h, centre));
                self.run_pass(rgba, w, true)?;
                let zoomed: Vec<Face> = self
                    .merged
                    .iter()
                    .map(|f| self.zoom.to_frame(f, w, h))
                    .filter(|f| f.h <= ZOOM_MAX_FACE_HEIGHT)
                    .collect();
                let better = match (zoomed.first(), weak) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    // A confident face beats weak ones: mostly the same far face measured
                    // properly, at times a weak box on the far person's body (a 12 % face once
                    // gave a 61 % box there, score 0.52: "move back").
                    (Some(z), Some(f)) => z.score >= ZOOM_CONFIRM_SCORE && z.score > f.score,
                };
                if better {
                    faces = zoomed;
                }
            }
        }
        let (brightness, sharpness) = match faces.first() {
            Some(f) => self.box_metrics(rgba, w, h, f),
            None => (mean_luma(rgba), 0.0),
        };
        Ok(FaceFrame {
            width,
            height,
            faces,
            brightness,
            sharpness,
        })
    }

    /// One model run on the full frame or on the zoomed crop (`self.zoom`, set by the caller):
    /// fills the input, runs the model, decodes and merges into `self.merged` (input-normalised).
    /// Returns the best anchor of the small-face grid whatever its score (`None` only when
    /// none decoded to a finite box).
    fn run_pass(
        &mut self,
        rgba: &[u8],
        w: usize,
        zoomed: bool,
    ) -> Result<Option<Candidate>, FaceError> {
        self.fill_input(rgba, w, zoomed);
        self.net.run(&self.input)?;
        let (Some(reg), Some(sc)) = (self.net.output(REGRESSORS), self.net.output(SCORES)) else {
            return Err(FaceError::Run("the model has no outputs".into()));
        };
        let best = Self::decode(&self.anchors, reg, sc, &mut self.candidates);
        self.weighted_nms();
        Ok(best)
    }

    /// Letterbox geometry and the area-average source ranges for a frame size.
    fn prepare(&mut self, w: usize, h: usize) {
        self.full.set((0, 0, w, h));
        self.size = (w as u32, h as u32);
    }

    /// Area-averages the frame (the whole of it, or the zoomed crop) into the letterboxed input,
    /// RGB planes scaled to [-1, 1].
    fn fill_input(&mut self, rgba: &[u8], w: usize, zoomed: bool) {
        let sampling = if zoomed { &self.zoom } else { &self.full };
        let (ox, oy, _, _) = sampling.fit;
        if self.bars != sampling.fit {
            // Black bars: -1 after the [-1, 1] normalisation; the content is overwritten below.
            self.input.fill(-1.0);
            self.bars = sampling.fit;
        }
        let plane = INPUT_SIZE * INPUT_SIZE;
        let (r_plane, rest) = self.input.split_at_mut(plane);
        let (g_plane, b_plane) = rest.split_at_mut(plane);
        for (j, &(y0, y1)) in sampling.rows.iter().enumerate() {
            let base = (oy + j) * INPUT_SIZE + ox;
            for (i, &(x0, x1)) in sampling.cols.iter().enumerate() {
                let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
                for y in y0 as usize..y1 as usize {
                    let row = &rgba[(y * w + x0 as usize) * 4..(y * w + x1 as usize) * 4];
                    for p in row.chunks_exact(4) {
                        r += p[0] as u32;
                        g += p[1] as u32;
                        b += p[2] as u32;
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as f32;
                let k = 1.0 / (127.5 * n);
                r_plane[base + i] = r as f32 * k - 1.0;
                g_plane[base + i] = g as f32 * k - 1.0;
                b_plane[base + i] = b as f32 * k - 1.0;
            }
        }
    }

    /// Anchors above the threshold, as candidates in input-normalised coordinates. Returns the
    /// best-scoring anchor of the first [`FINE_ANCHORS`] whatever its score: the zoomed pass's
    /// hint where to look. (From all anchors, the best below the threshold is at times a large
    /// weak box around a far person's head and shoulders, centred a head below the face.)
    fn decode(
        anchors: &[(f32, f32)],
        reg: &[f32],
        scores: &[f32],
        candidates: &mut Vec<Candidate>,
    ) -> Option<Candidate> {
        candidates.clear();
        let mut best: Option<Candidate> = None;
        for (a, (&anchor, raw)) in anchors.iter().zip(scores).enumerate() {
            let score = sigmoid(raw.clamp(-SCORE_CLIP, SCORE_CLIP));
            if !score.is_finite() {
                continue;
            }
            let above = score >= SCORE_THRESHOLD;
            let hint = a < FINE_ANCHORS;
            if !above && (!hint || best.is_some_and(|b| b.score >= score)) {
                continue;
            }
            let Some(c) = Self::candidate(anchor, &reg[a * REG_LEN..(a + 1) * REG_LEN], score)
            else {
                continue;
            };
            if hint && best.is_none_or(|b| b.score < score) {
                best = Some(c);
            }
            if above {
                candidates.push(c);
            }
        }
        best
    }

    /// One anchor's box and keypoints (`r`: its 16 regressor values), or `None` when they are
    /// not finite or the box is empty.
    fn candidate((ax, ay): (f32, f32), r: &[f32], score: f32) -> Option<Candidate> {
        let s = INPUT_SIZE as f32;
        let (cx, cy) = (r[0] / s + ax, r[1] / s + ay);
        let (bw, bh) = (r[2] / s, r[3] / s);
        let mut keypoints = [0.0; 12];
        for k in 0..6 {
            keypoints[2 * k] = r[4 + 2 * k] / s + ax;
            keypoints[2 * k + 1] = r[5 + 2 * k] / s + ay;
        }
        if !(bw > 0.0 && bh > 0.0) || keypoints.iter().any(|v| !v.is_finite()) {
            return None;
        }
        Some(Candidate {
            score,
            bbox: [cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0],
            keypoints,
        })
    }

    /// MediaPipe's weighted NMS: take the best remaining candidate, average it with every
    /// candidate overlapping it by ≥ [`NMS_IOU`] (weights = scores), keep its score.
    fn weighted_nms(&mut self) {
        self.merged.clear();
        self.candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut rest = std::mem::take(&mut self.candidates);
        while let Some(best) = rest.first().copied() {
            if self.merged.len() == MAX_FACES {
                break;
            }
            let (mut wsum, mut bbox, mut kps) = (0.0f32, [0.0f32; 4], [0.0f32; 12]);
            rest.retain(|c| {
                if iou(&best.bbox, &c.bbox) < NMS_IOU {
                    return true;
                }
                wsum += c.score;
                for (m, v) in bbox.iter_mut().zip(c.bbox) {
                    *m += v * c.score;
                }
                for (m, v) in kps.iter_mut().zip(c.keypoints) {
                    *m += v * c.score;
                }
                false
            });
            let mut keypoints = [Point::default(); 6];
            for (k, p) in keypoints.iter_mut().enumerate() {
                *p = Point {
                    x: kps[2 * k] / wsum,
                    y: kps[2 * k + 1] / wsum,
                };
            }
            let [x0, y0, x1, y1] = bbox.map(|v| v / wsum);
            self.merged.push(Face {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
                score: best.score,
                keypoints,
            });
        }
        rest.clear();
        self.candidates = rest;
    }

    /// Mean luma and sharpness of a face's box (clamped to the frame).
    fn box_metrics(&mut self, rgba: &[u8], w: usize, h: usize, f: &Face) -> (f32, f32) {
        let clampx = |v: f32| ((v * w as f32).round().max(0.0) as usize).min(w);
        let clampy = |v: f32| ((v * h as f32).round().max(0.0) as usize).min(h);
        let (x0, x1) = (clampx(f.x), clampx(f.x + f.w));
        let (y0, y1) = (clampy(f.y), clampy(f.y + f.h));
        if x1 <= x0 || y1 <= y0 {
            return (mean_luma(rgba), 0.0);
        }
        // Area-average the box to ≤ SHARPNESS_LONG_EDGE on its long edge, as luma.
        let (bw, bh) = (x1 - x0, y1 - y0);
        let step = bw.max(bh).div_ceil(SHARPNESS_LONG_EDGE).max(1);
        let (ow, oh) = (bw / step, bh / step);
        if ow == 0 || oh == 0 {
            return (mean_luma(rgba), 0.0);
        }
        self.luma.clear();
        let mut total = 0u64;
        for j in 0..oh {
            for i in 0..ow {
                let mut sum = 0u32;
                for y in y0 + j * step..y0 + (j + 1) * step {
                    let start = (y * w + x0 + i * step) * 4;
                    for p in rgba[start..start + step * 4].chunks_exact(4) {
                        sum += luma(p);
                    }
                }
                let v = (sum + (step * step / 2) as u32) / (step * step) as u32;
                total += v as u64;
                self.luma.push(v as u8);
            }
        }
        let brightness = total as f32 / (ow * oh) as f32;
        (brightness, sharpness(&self.luma, ow, oh))
    }
}

/// The 896 anchor centres of BlazeFace short-range (MediaPipe's SSD anchor options for it:
/// strides 8, 16, 16, 16 on a 128 px input, offset 0.5, fixed size, two anchors per cell per
/// layer; layers of equal stride share a grid, so 16×16×2 then 8×8×6).
fn anchors() -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(NUM_ANCHORS);
    for (stride, per_cell) in [(8usize, 2usize), (16, 6)] {
        let cells = INPUT_SIZE / stride;
        for y in 0..cells {
            for x in 0..cells {
                for _ in 0..per_cell {
                    out.push((
                        (x as f32 + 0.5) / cells as f32,
                        (y as f32 + 0.5) / cells as f32,
                    ));
                }
            }
        }
    }
    debug_assert_eq!(out.len(), NUM_ANCHORS);
    out
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// BT.601 luma ×256 rounded down to 0..255 (the same integer weights as `core::vision`).
fn luma(p: &[u8]) -> u32 {
    (77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32 + 128) >> 8
}

fn mean_luma(rgba: &[u8]) -> f32 {
    let n = rgba.len() / 4;
    if n == 0 {
        return 0.0;
    }
    let sum: u64 = rgba.chunks_exact(4).map(|p| luma(p) as u64).sum();
    sum as f32 / n as f32
}

/// `1 − blur` (0..1, higher is sharper) by Crété-Roffet et al. (2007), "The blur effect:
/// perception and estimation with a new no-reference perceptual blur metric": the same measure
/// as the document gate (`core::vision`, not callable from outside core), over a whole luma
/// image. Per direction, `sF = Σ|ΔI|` and `sV = Σ max(0, |ΔI| − |ΔB|)` with `B` the 9-tap box
/// blur of `I` along that direction; blur is the larger of `(sF − sV) / sF`.
pub fn sharpness(img: &[u8], w: usize, h: usize) -> f32 {
    let (mut sf_h, mut sv_h, mut sf_v, mut sv_v) = (0u64, 0u64, 0u64, 0u64);
    for y in 0..h {
        let row = y * w;
        for x in 0..w {
            let v = img[row + x] as i32;
            if x >= 5 && x + 4 < w {
                let d = (v - img[row + x - 1] as i32).unsigned_abs() * 9;
                let db = (img[row + x + 4] as i32 - img[row + x - 5] as i32).unsigned_abs();
                sf_h += d as u64;
                sv_h += d.saturating_sub(db) as u64;
            }
            if y >= 5 && y + 4 < h {
                let d = (v - img[row + x - w] as i32).unsigned_abs() * 9;
                let db = (img[row + x + 4 * w] as i32 - img[row + x - 5 * w] as i32).unsigned_abs();
                sf_v += d as u64;
                sv_v += d.saturating_sub(db) as u64;
            }
        }
    }
    let blur = |sf: u64, sv: u64| {
        if sf == 0 {
            1.0
        } else {
            (sf - sv) as f64 / sf as f64
        }
    };
    (1.0 - blur(sf_h, sv_h).max(blur(sf_v, sv_v))) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_cover_the_input() {
        let a = anchors();
        assert_eq!(a.len(), NUM_ANCHORS);
        assert_eq!(a[0], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[511], (15.5 / 16.0, 15.5 / 16.0));
        assert_eq!(a[512], (0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(a[895], (7.5 / 8.0, 7.5 / 8.0));
    }

    #[test]
    fn iou_of_boxes() {
        assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.0, 1.0, 1.0]), 1.0);
        assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[2.0, 2.0, 3.0, 3.0]), 0.0);
        assert!((iou(&[0.0, 0.0, 2.0, 1.0], &[1.0, 0.0, 3.0, 1.0]) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn bad_frames_are_errors() {
        let mut d = Detector::new().expect("model loads");
        assert!(matches!(
            d.detect(&[0; 12], 2, 2),
            Err(FaceError::BadFrame { .. })
        ));
        assert!(d.detect(&[], 0, 0).is_err());
        assert!(d.detect(&[0; 16], u32::MAX, u32::MAX).is_err());
    }

    #[test]
    fn a_flat_frame_has_no_face() {
        let mut d = Detector::new().expect("model loads");
        let f = d.detect(&[128; 64 * 48 * 4], 64, 48).expect("runs");
        assert!(f.faces.is_empty());
        assert!((f.brightness - 128.0).abs() < 1.0);
        assert_eq!(f.sharpness, 0.0);
    }
}

/// The engine (`net.rs`) against rten 0.27, the ONNX runtime this crate used before, on the
/// model input of every test image: both raw outputs must agree to 1e-3.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod equivalence {
    use super::*;
    use rten_tensor::prelude::*;
    use rten_tensor::{NdTensor, NdTensorView};

    const IMAGES: [&[u8]; 4] = [
        include_bytes!("../tests/media/selfie_640x480.png"),
        include_bytes!("../tests/media/selfie_320x240.png"),
        include_bytes!("../tests/media/group_640.png"),
        include_bytes!("../tests/media/card_640x480.png"),
    ];

    fn decode_png(bytes: &[u8]) -> (Vec<u8>, usize, usize) {
        let mut reader = png::Decoder::new(bytes).read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        buf.truncate(info.buffer_size());
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            other => panic!("unexpected PNG colour type {other:?}"),
        };
        (rgba, info.width as usize, info.height as usize)
    }

    fn rten_outputs(model: &rten::Model, input: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let x = NdTensorView::from_data([1, 3, INPUT_SIZE, INPUT_SIZE], input);
        let ids = [
            model.node_id(REGRESSORS).expect("regressors"),
            model.node_id(SCORES).expect("classificators"),
        ];
        let [reg, sc] = model
            .run_n(vec![(model.input_ids()[0], x.into())], ids, None)
            .expect("rten runs");
        let reg: NdTensor<f32, 3> = reg.try_into().expect("f32");
        let sc: NdTensor<f32, 3> = sc.try_into().expect("f32");
        assert_eq!(reg.shape(), [1, NUM_ANCHORS, REG_LEN]);
        assert_eq!(sc.shape(), [1, NUM_ANCHORS, 1]);
        (reg.to_vec(), sc.to_vec())
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn engine_matches_rten() {
        let model = rten::Model::load_static_slice(MODEL).expect("rten loads the model");
        let mut d = Detector::new().expect("model loads");
        let (mut worst_reg, mut worst_sc) = (0.0f32, 0.0f32);
        for png in IMAGES {
            let (rgba, w, h) = decode_png(png);
            d.prepare(w, h);
            d.fill_input(&rgba, w, false);
            d.net.run(&d.input).expect("runs");
            let (reg, sc) = rten_outputs(&model, &d.input);
            worst_reg = worst_reg.max(max_diff(d.net.output(REGRESSORS).expect("out"), &reg));
            worst_sc = worst_sc.max(max_diff(d.net.output(SCORES).expect("out"), &sc));
        }
        println!("max abs diff vs rten: regressors {worst_reg:e}, classificators {worst_sc:e}");
        assert!(worst_reg <= 1e-3, "regressors differ by {worst_reg}");
        assert!(worst_sc <= 1e-3, "classificators differ by {worst_sc}");
    }
}
