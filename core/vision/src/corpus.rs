//! The evaluation corpus of the document gate (issue 19), generated from a seed rather than
//! committed: document renderings (ID-1 fronts and backs, TD3 data pages, several layouts)
//! composited in perspective onto procedural backgrounds of ten families (wood, brick, tiles,
//! fabric, keyboard, marble, carpet, dark and bright surfaces, a hand holding the card with
//! fingers over its edge), with one defect or none per still, sensor noise, JPEG compression, and a label: the
//! document's true outline and the verdict the gate should give.
//!
//! Feature `corpus` (never in the SPA's build). `cargo run -p liveform-vision --features corpus
//! --release --bin corpus` prints the numbers (`src/bin/corpus.rs`); `tests/corpus_slice.rs`
//! runs a small slice in the test command.
//!
//! Tuning and report use different background *instances*: [`Split::Tune`] and
//! [`Split::Holdout`] draw every background parameter (brick size, grain, tile pitch, colours…)
//! from disjoint streams, so a threshold tuned on one never saw the other's surfaces.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::geometry::{DocumentKind, Point, Quad};

/// The frame size of the camera feed the form asks for.
pub const WIDTH: usize = 640;
pub const HEIGHT: usize = 480;

/// The lowest JPEG quality a still is compressed at (the highest is this + 32).
pub const JPEG_QUALITY_MIN: u8 = 60;

/// Background families (one table row each in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Wood,
    Brick,
    Tiles,
    Fabric,
    Keyboard,
    Marble,
    Carpet,
    DarkSurface,
    BrightSurface,
    Hand,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::Wood,
        Family::Brick,
        Family::Tiles,
        Family::Fabric,
        Family::Keyboard,
        Family::Marble,
        Family::Carpet,
        Family::DarkSurface,
        Family::BrightSurface,
        Family::Hand,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Wood => "wood",
            Family::Brick => "brick",
            Family::Tiles => "tiles",
            Family::Fabric => "fabric",
            Family::Keyboard => "keyboard",
            Family::Marble => "marble",
            Family::Carpet => "carpet",
            Family::DarkSurface => "dark surface",
            Family::BrightSurface => "bright surface",
            Family::Hand => "hand-held",
        }
    }
}

/// What is wrong with a still (or nothing). The expected primary hint is [`Defect::expected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Defect {
    /// A good frame: the gate should pass it and auto-capture.
    Good,
    Blur,
    Motion,
    Glare,
    Dark,
    Bright,
    LowContrast,
    CutOff,
    TooSmall,
    Tilted,
    /// No document at all.
    NoDocument,
}

impl Defect {
    pub const ALL: [Defect; 11] = [
        Defect::Good,
        Defect::Blur,
        Defect::Motion,
        Defect::Glare,
        Defect::Dark,
        Defect::Bright,
        Defect::LowContrast,
        Defect::CutOff,
        Defect::TooSmall,
        Defect::Tilted,
        Defect::NoDocument,
    ];

    /// The gate's issue for this defect (`None`: the frame should pass).
    pub fn expected(self) -> Option<crate::Issue> {
        use crate::Issue;
        Some(match self {
            Defect::Good => return None,
            Defect::Blur | Defect::Motion => Issue::Blur,
            Defect::Glare => Issue::Glare,
            Defect::Dark => Issue::Dark,
            Defect::Bright => Issue::Bright,
            Defect::LowContrast => Issue::LowContrast,
            Defect::CutOff => Issue::CutOff,
            Defect::TooSmall => Issue::TooSmall,
            Defect::Tilted => Issue::Tilted,
            Defect::NoDocument => Issue::NoDocument,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Defect::Good => "good",
            Defect::Blur => "defocus blur",
            Defect::Motion => "motion blur",
            Defect::Glare => "glare",
            Defect::Dark => "dark",
            Defect::Bright => "bright",
            Defect::LowContrast => "low contrast",
            Defect::CutOff => "cut off",
            Defect::TooSmall => "too small",
            Defect::Tilted => "tilted",
            Defect::NoDocument => "no document",
        }
    }
}

/// Which background instances a corpus draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Tune,
    Holdout,
}

/// One still: everything needed to render it again (with fresh noise for auto-capture runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub family: Family,
    pub defect: Defect,
    pub kind: DocumentKind,
    /// Document layout (0..4) and whether it is a card's back (ID-1 only: an MRZ band).
    pub layout: u8,
    pub back: bool,
    /// The document's corners in frame pixels (top-left, top-right, bottom-right, bottom-left of
    /// the document itself); `None` for [`Defect::NoDocument`].
    pub corners: Option<[(f32, f32); 4]>,
    /// The background's parameters' seed (an instance of its family).
    pub background: u64,
    /// Seed of the still's own sensor noise, glare position…
    pub detail: u64,
}

impl Scene {
    /// The true outline, normalised like the gate's.
    pub fn truth(&self) -> Option<Quad> {
        self.corners.map(|c| Quad {
            corners: c.map(|(x, y)| Point {
                x: x / WIDTH as f32,
                y: y / HEIGHT as f32,
            }),
        })
    }
}

/// `count` scenes: families and defects in turn (about half the stills good), documents,
/// layouts and placements drawn from `seed`, background instances from `seed` and `split`.
pub fn scenes(seed: u64, split: Split, count: usize) -> Vec<Scene> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let salt = match split {
        Split::Tune => 0x7475_6e65_u64,
        Split::Holdout => 0x686f_6c64_u64,
    };
    let defects = &Defect::ALL[1..];
    (0..count)
        .map(|i| {
            let family = Family::ALL[i % Family::ALL.len()];
            // Blocks of ten stills (one per family) alternate good and defective; in each
            // defective block every defect appears once, rotating over the families.
            let n = Family::ALL.len();
            let defect = if (i / n) % 2 == 0 {
                Defect::Good
            } else {
                defects[(i / (2 * n) + i % n) % defects.len()]
            };
            let kind = if rng.random_bool(0.3) {
                DocumentKind::Td3
            } else {
                DocumentKind::Id1
            };
            let layout = rng.random_range(0..4u8);
            let back = kind == DocumentKind::Id1 && rng.random_bool(0.3);
            let corners = (defect != Defect::NoDocument).then(|| placement(&mut rng, kind, defect));
            Scene {
                family,
                defect,
                kind,
                layout,
                back,
                corners,
                background: splitmix(rng.random::<u64>() ^ salt),
                detail: rng.random(),
            }
        })
        .collect()
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where the document lies: a rectangle of the kind's aspect, scaled, rotated in the plane and
/// tilted (one side foreshortened), then placed; the defect decides the ranges.
fn placement(rng: &mut ChaCha8Rng, kind: DocumentKind, defect: Defect) -> [(f32, f32); 4] {
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let aspect = kind.aspect();
    // Coverage of the frame's area by the document.
    let coverage = match defect {
        Defect::TooSmall => rng.random_range(0.05..0.12),
        _ => rng.random_range(0.26..0.55),
    };
    let area = coverage * w * h;
    let long = (area * aspect).sqrt();
    let short = long / aspect;
    let rot = match defect {
        Defect::Tilted => {
            let r: f32 = rng.random_range(22.0..34.0);
            if rng.random_bool(0.5) {
                r
            } else {
                -r
            }
        }
        _ => rng.random_range(-8.0..8.0f32),
    }
    .to_radians();
    // Foreshortening of one pair of sides (the far side looks shorter).
    let squeeze = match defect {
        Defect::Tilted => 1.0,
        _ => rng.random_range(0.92..1.0f32),
    };
    let (hl, hs) = (long / 2.0, short / 2.0);
    let local = [
        (-hl * squeeze, -hs),
        (hl * squeeze, -hs),
        (hl, hs),
        (-hl, hs),
    ];
    let (s, c) = rot.sin_cos();
    let rotated = local.map(|(x, y)| (x * c - y * s, x * s + y * c));
    let (minx, maxx) = rotated
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (miny, maxy) = rotated
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let margin = 0.08;
    let (cx, cy) = if defect == Defect::CutOff {
        // One side leaves the frame by 6–20 % of the document's size.
        let out = rng.random_range(0.06..0.2) * (maxx - minx).min(maxy - miny);
        match rng.random_range(0..4) {
            0 => (-minx - out, h / 2.0),
            1 => (w - maxx + out, h / 2.0),
            2 => (w / 2.0, -miny - out),
            _ => (w / 2.0, h - maxy + out),
        }
    } else {
        let lo_x = -minx + margin * w;
        let hi_x = w - maxx - margin * w;
        let lo_y = -miny + margin * h;
        let hi_y = h - maxy - margin * h;
        (
            if hi_x > lo_x {
                rng.random_range(lo_x..hi_x)
            } else {
                w / 2.0
            },
            if hi_y > lo_y {
                rng.random_range(lo_y..hi_y)
            } else {
                h / 2.0
            },
        )
    };
    rotated.map(|(x, y)| (x + cx, y + cy))
}

/// A rendered still.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Luma, [`WIDTH`] × [`HEIGHT`].
    pub luma: Vec<u8>,
}

/// Renders `scene` with sensor noise from `noise_seed` and the whole picture moved by
/// `(dx, dy)` pixels (the hand's tremor between frames of one auto-capture run).
pub fn render(scene: &Scene, noise_seed: u64, (dx, dy): (f32, f32)) -> Rendered {
    let bg = Background::new(scene.family, scene.background);
    let mut d = ChaCha8Rng::seed_from_u64(scene.detail);
    let corners = scene.corners.map(|c| c.map(|(x, y)| (x + dx, y + dy)));
    let inv = corners.map(|c| homography_to_unit(&c));
    let card = Card::new(scene, &mut d);
    // Fingers over the card's bottom edge (hand-held).
    let fingers: Vec<(f32, f32, f32, f32)> = match (scene.family, &corners) {
        (Family::Hand, Some(c)) => {
            let n = d.random_range(2..5);
            let (bl, br) = (c[3], c[2]);
            (0..n)
                .map(|k| {
                    let t = 0.15 + 0.2 * k as f32 + d.random_range(-0.05..0.05);
                    let x = bl.0 + (br.0 - bl.0) * t;
                    let y = bl.1 + (br.1 - bl.1) * t;
                    (x, y, d.random_range(14.0..20.0), d.random_range(30.0..45.0))
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let mut img = vec![0f32; WIDTH * HEIGHT];
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let b = bg.at(fx - dx, fy - dy);
            let v = match &inv {
                Some(h) => {
                    // Coverage of the pixel by the document from 4 sub-samples.
                    let mut inside = 0u8;
                    let mut uv = (0.0, 0.0);
                    for (ox, oy) in [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)] {
                        let (u, v) = apply(h, fx + ox, fy + oy);
                        if (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v) && card.inside(u, v)
                        {
                            inside += 1;
                            uv = (u, v);
                        }
                    }
                    if inside == 0 {
                        b
                    } else {
                        let cv = card.at(uv.0, uv.1);
                        let a = inside as f32 / 4.0;
                        cv * a + b * (1.0 - a)
                    }
                }
                None => b,
            };
            let mut v = v;
            for &(fx0, fy0, rx, ry) in &fingers {
                let e = ((fx - fx0) / rx).powi(2) + ((fy - fy0) / ry).powi(2);
                if e < 1.0 {
                    v = 150.0 + 20.0 * (1.0 - e);
                }
            }
            img[y * WIDTH + x] = v;
        }
    }
    apply_defect(scene, &corners, &mut img, &mut d);
    // Sensor noise (σ ≈ 2.5 levels: the sum of four uniforms, close enough to Gaussian), then
    // quantisation. A per-pixel hash: cheap, and fresh for every `noise_seed`.
    let sigma = 2.5f32;
    let nseed = (splitmix(noise_seed ^ scene.detail) & 0xffff_ffff) as u32;
    let luma = img
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let (x, y) = ((i % WIDTH) as i32, (i / WIDTH) as i32);
            let g = hash(x, y, nseed)
                + hash(x, y, nseed ^ 0x55)
                + hash(x, y, nseed ^ 0xaa)
                + hash(x, y, nseed ^ 0xff)
                - 2.0;
            (v + g * sigma * 1.73).round().clamp(0.0, 255.0) as u8
        })
        .collect::<Vec<u8>>();
    // The camera's or the browser's compression: a JPEG round trip at a quality of the still's
    // own (60–92), drawn from its seed apart from the stream that places everything else.
    let quality = JPEG_QUALITY_MIN + (splitmix(scene.detail ^ 0x6a70_6567) % 33) as u8;
    let luma = crate::synth::jpeg_round_trip(&luma, WIDTH, HEIGHT, quality).unwrap_or(luma);
    Rendered { luma }
}

fn apply_defect(
    scene: &Scene,
    corners: &Option<[(f32, f32); 4]>,
    img: &mut [f32],
    d: &mut ChaCha8Rng,
) {
    match scene.defect {
        Defect::Blur => {
            let r = d.random_range(4..7);
            for _ in 0..3 {
                box_blur(img, r, true);
                box_blur(img, r, false);
            }
        }
        Defect::Motion => {
            let r = d.random_range(7..12);
            box_blur(img, r, d.random_bool(0.5));
        }
        Defect::Dark => img
            .iter_mut()
            .for_each(|v| *v *= d.random_range(0.18..0.28)),
        Defect::Bright => {
            let gain = d.random_range(1.5..1.9);
            img.iter_mut().for_each(|v| *v = *v * gain + 40.0);
        }
        Defect::LowContrast => {
            let k = d.random_range(0.15..0.3);
            img.iter_mut().for_each(|v| *v = *v * k + 190.0 * (1.0 - k));
        }
        Defect::Glare => {
            if let Some(c) = corners {
                // A specular blob well inside the document.
                let (u, v) = (d.random_range(0.25..0.75f32), d.random_range(0.3..0.7f32));
                let top = lerp(c[0], c[1], u);
                let bottom = lerp(c[3], c[2], u);
                let (gx, gy) = lerp(top, bottom, v);
                let r = d.random_range(16.0..30.0f32);
                for y in 0..HEIGHT {
                    for x in 0..WIDTH {
                        let dd = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)).sqrt();
                        if dd < 2.0 * r {
                            let k = (1.0 - (dd / (2.0 * r))).clamp(0.0, 1.0);
                            let p = &mut img[y * WIDTH + x];
                            *p = (*p + 400.0 * k * k).min(255.0);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

fn lerp(a: (f32, f32), b: (f32, f32), t: f32) -> (f32, f32) {
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

/// One pass of a box blur of radius `r` along rows (`horizontal`) or columns.
fn box_blur(img: &mut [f32], r: usize, horizontal: bool) {
    let (n, m) = if horizontal {
        (HEIGHT, WIDTH)
    } else {
        (WIDTH, HEIGHT)
    };
    let idx = |line: usize, i: usize| {
        if horizontal {
            line * WIDTH + i
        } else {
            i * WIDTH + line
        }
    };
    let mut buf = vec![0f32; m];
    for line in 0..n {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = img[idx(line, i)];
        }
        for i in 0..m {
            let lo = i.saturating_sub(r);
            let hi = (i + r).min(m - 1);
            let s: f32 = buf[lo..=hi].iter().sum();
            img[idx(line, i)] = s / (hi - lo + 1) as f32;
        }
    }
}

/// The homography mapping frame pixels to the document's unit square (`u` along the top side,
/// `v` down the left side): the inverse of the square → quad map the MRZ reader uses too
/// (all zeros for a degenerate quad, which then maps nothing onto the document).
fn homography_to_unit(c: &[(f32, f32); 4]) -> [f64; 9] {
    crate::mrz::warp::Homography::square_to_quad(&c.map(|(x, y)| (x as f64, y as f64)))
        .and_then(|h| h.inverse())
        .map_or([0.0; 9], |h| h.0)
}

fn apply(m: &[f64; 9], x: f32, y: f32) -> (f32, f32) {
    let (x, y) = (x as f64, y as f64);
    let w = m[6] * x + m[7] * y + m[8];
    (
        ((m[0] * x + m[1] * y + m[2]) / w) as f32,
        ((m[3] * x + m[4] * y + m[5]) / w) as f32,
    )
}

use crate::synth::{hash, vnoise};

fn fbm(x: f32, y: f32, seed: u32) -> f32 {
    0.5 * vnoise(x, y, seed)
        + 0.3 * vnoise(2.0 * x, 2.0 * y, seed ^ 1)
        + 0.2 * vnoise(4.0 * x, 4.0 * y, seed ^ 2)
}

/// A background instance: its family's parameters drawn from its seed.
struct Background {
    family: Family,
    seed: u32,
    angle: (f32, f32),
    /// Family-specific sizes and levels.
    p: [f32; 6],
}

impl Background {
    fn new(family: Family, seed: u64) -> Background {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        // Lines parallel to the frame (and so to a well-held card) are the hard case: most
        // instances are within a few degrees of the axes.
        let deg: f32 = if r.random_bool(0.7) {
            r.random_range(-4.0..4.0)
        } else {
            r.random_range(-40.0..40.0)
        };
        let p = match family {
            // grain period, grain contrast, base
            Family::Wood => [
                r.random_range(6.0..14.0),
                r.random_range(20.0..45.0),
                r.random_range(90.0..170.0),
                0.0,
                0.0,
                0.0,
            ],
            // brick w, brick h, mortar, brick level, mortar level
            Family::Brick => [
                r.random_range(55.0..95.0),
                r.random_range(22.0..34.0),
                r.random_range(3.0..6.0),
                r.random_range(90.0..140.0),
                r.random_range(170.0..215.0),
                0.0,
            ],
            // pitch, grout, tile level, grout level
            Family::Tiles => [
                r.random_range(60.0..130.0),
                r.random_range(2.0..5.0),
                r.random_range(150.0..230.0),
                r.random_range(60.0..200.0),
                0.0,
                0.0,
            ],
            // stripe periods x/y, contrast, base
            Family::Fabric => [
                r.random_range(10.0..32.0),
                r.random_range(10.0..32.0),
                r.random_range(20.0..45.0),
                r.random_range(90.0..170.0),
                0.0,
                0.0,
            ],
            // key pitch, gap, key level
            Family::Keyboard => [
                r.random_range(34.0..46.0),
                r.random_range(4.0..8.0),
                r.random_range(45.0..90.0),
                0.0,
                0.0,
                0.0,
            ],
            // vein frequency, level
            Family::Marble => [
                r.random_range(0.01..0.03),
                r.random_range(170.0..215.0),
                0.0,
                0.0,
                0.0,
                0.0,
            ],
            // scale, level, contrast
            Family::Carpet => [
                r.random_range(0.25..0.6),
                r.random_range(80.0..150.0),
                r.random_range(30.0..60.0),
                0.0,
                0.0,
                0.0,
            ],
            Family::DarkSurface => [r.random_range(20.0..50.0), 0.0, 0.0, 0.0, 0.0, 0.0],
            Family::BrightSurface => [r.random_range(215.0..240.0), 0.0, 0.0, 0.0, 0.0, 0.0],
            Family::Hand => [r.random_range(50.0..110.0), 0.0, 0.0, 0.0, 0.0, 0.0],
        };
        Background {
            family,
            seed: r.random(),
            angle: deg.to_radians().sin_cos(),
            p,
        }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let (s, c) = self.angle;
        let (u, v) = (x * c + y * s, -x * s + y * c);
        let p = &self.p;
        let seed = self.seed;
        match self.family {
            Family::Wood => {
                let warp = fbm(u * 0.01, v * 0.05, seed) * 6.0;
                p[2] + p[1] * (v / p[0] + warp).sin() * 0.5
                    + 12.0 * fbm(u * 0.2, v * 0.02, seed ^ 9)
            }
            Family::Brick => {
                let row = (v / p[1]).floor();
                let off = if row as i64 % 2 == 0 { 0.0 } else { p[0] / 2.0 };
                let col = ((u + off) / p[0]).floor();
                let (iu, iv) = ((u + off) - col * p[0], v - row * p[1]);
                if iu < p[2] || iv < p[2] {
                    p[4] + 8.0 * vnoise(u * 0.3, v * 0.3, seed)
                } else {
                    p[3] + 30.0 * (hash(col as i32, row as i32, seed) - 0.5)
                        + 14.0 * fbm(u * 0.15, v * 0.15, seed ^ 3)
                }
            }
            Family::Tiles => {
                let (iu, iv) = (u.rem_euclid(p[0]), v.rem_euclid(p[0]));
                if iu < p[1] || iv < p[1] {
                    p[3]
                } else {
                    p[2] + 6.0 * fbm(u * 0.05, v * 0.05, seed)
                }
            }
            Family::Fabric => {
                let a = (u * std::f32::consts::TAU / p[0]).sin();
                let b = (v * std::f32::consts::TAU / p[1]).sin();
                p[3] + p[2] * 0.5 * (a.signum() * 0.6 + b.signum() * 0.4)
                    + 6.0 * vnoise(u * 0.5, v * 0.5, seed)
            }
            Family::Keyboard => {
                let (iu, iv) = (u.rem_euclid(p[0]), v.rem_euclid(p[0]));
                let (ku, kv) = ((u / p[0]).floor() as i32, (v / p[0]).floor() as i32);
                if iu < p[1] || iv < p[1] {
                    25.0
                } else {
                    // A letter on most keys.
                    let (lu, lv) = (iu - p[0] * 0.35, iv - p[0] * 0.3);
                    if hash(ku, kv, seed) < 0.8
                        && (0.0..p[0] * 0.2).contains(&lu)
                        && (0.0..p[0] * 0.3).contains(&lv)
                    {
                        200.0
                    } else {
                        p[2]
                    }
                }
            }
            Family::Marble => {
                let t = u * p[0] + 5.0 * fbm(u * 0.01, v * 0.01, seed);
                p[1] + 35.0 * (t * 3.0).sin().abs().powf(0.3) - 35.0
                    + 8.0 * fbm(u * 0.1, v * 0.1, seed ^ 5)
            }
            Family::Carpet => p[1] + p[2] * (fbm(u * p[0], v * p[0], seed) - 0.5),
            Family::DarkSurface => p[0] + 10.0 * fbm(u * 0.02, v * 0.02, seed),
            Family::BrightSurface => p[0] + 8.0 * fbm(u * 0.02, v * 0.02, seed),
            Family::Hand => {
                // A blurred room behind, a palm under the lower half of the frame.
                let room = p[0] + 40.0 * (fbm(u * 0.008, v * 0.008, seed) - 0.5);
                let palm = ((x - WIDTH as f32 * 0.5) / 260.0).powi(2)
                    + ((y - HEIGHT as f32 * 0.95) / 230.0).powi(2);
                if palm < 1.0 {
                    155.0 + 10.0 * fbm(x * 0.05, y * 0.05, seed ^ 7)
                } else {
                    room
                }
            }
        }
    }
}

/// A document's look, in its unit square.
struct Card {
    kind: DocumentKind,
    layout: u8,
    back: bool,
    base: f32,
    ink: f32,
    /// Corner radius in `u` units (ID-1 cards are rounded).
    radius: f32,
    seed: u32,
    /// The machine-readable zone (a TD3 page, an ID-1 back), drawn in OCR-B.
    zone: Option<Zone>,
}

/// A random valid MRZ drawn in OCR-B (Debian's `fonts-ocr-b`, rasterised by `fontdue` as the
/// MRZ evaluation draws it) at [`ZONE_PX_PER_UNIT`], as ink coverage `0..=1`, covering the
/// document's `u0..u1 × v0..v1`.
struct Zone {
    coverage: Vec<f32>,
    w: usize,
    h: usize,
    u0: f32,
    v0: f32,
    u1: f32,
    v1: f32,
}

/// Pixels of the zone's bitmap per unit of the document's width (about 10 px/mm on an ID-1).
const ZONE_PX_PER_UNIT: f32 = 860.0;

/// OCR-B, loaded once (`None` when Debian's `fonts-ocr-b` is missing: the zones are then drawn
/// as bars, and the runner says so).
fn ocr_b() -> Option<&'static fontdue::Font> {
    static FONT: std::sync::OnceLock<Option<fontdue::Font>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        crate::mrz_eval::load_font(crate::mrz_eval::OCRB_PATH)
            .map_err(|e| eprintln!("corpus: {e}; MRZ zones drawn as bars"))
            .ok()
    })
    .as_ref()
}

impl Zone {
    /// TD1 (3 × 30 characters) on an ID-1 back from `v0`, TD3 (2 × 44) on a passport page.
    fn new(kind: DocumentKind, v0: f32, seed: u64) -> Option<Zone> {
        let font = ocr_b()?;
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let lines = crate::mrz_eval::random_mrz(&mut r, kind);
        let (u0, u1) = (0.04, 0.96);
        let aspect = kind.aspect();
        let w = ((u1 - u0) * ZONE_PX_PER_UNIT) as usize;
        let rows = lines.len();
        // Rows 0.065 of the document's height apart (its height is 1/aspect of its width).
        let v1 = v0 + rows as f32 * 0.065;
        let h = ((v1 - v0) / aspect * ZONE_PX_PER_UNIT).max(1.0) as usize;
        let chars = lines.first().map_or(30, |l| l.len()) as f32;
        let pitch = w as f32 / chars;
        let row_px = h as f32 / rows as f32;
        // OCR-B's cap height is about 2.3 mm at a 2.54 mm pitch, in rows about 4 mm apart.
        let cap = (0.55 * row_px).min(0.9 * pitch);
        let mut coverage = vec![0.0f32; w * h];
        for (k, line) in lines.iter().enumerate() {
            let baseline = (k as f32 + 0.8) * row_px;
            crate::mrz_eval::draw_text(
                font,
                &mut coverage,
                w,
                line,
                0.0,
                baseline,
                cap,
                pitch,
                1.0,
            );
        }
        Some(Zone {
            coverage,
            w,
            h,
            u0,
            v0,
            u1,
            v1,
        })
    }

    /// Ink coverage at document coordinates `(u, v)`, `None` outside the zone.
    fn at(&self, u: f32, v: f32) -> Option<f32> {
        if !(self.u0..self.u1).contains(&u) || !(self.v0..self.v1).contains(&v) {
            return None;
        }
        let x = ((u - self.u0) / (self.u1 - self.u0) * self.w as f32) as usize;
        let y = ((v - self.v0) / (self.v1 - self.v0) * self.h as f32) as usize;
        Some(self.coverage[y.min(self.h - 1) * self.w + x.min(self.w - 1)])
    }
}

impl Card {
    fn new(scene: &Scene, d: &mut ChaCha8Rng) -> Card {
        Card {
            kind: scene.kind,
            layout: scene.layout,
            back: scene.back,
            base: d.random_range(185.0..228.0),
            ink: d.random_range(30.0..80.0),
            radius: if scene.kind == DocumentKind::Id1 {
                0.037
            } else {
                0.0
            },
            seed: d.random(),
            zone: match (scene.kind, scene.back) {
                (DocumentKind::Td3, _) => Zone::new(DocumentKind::Td3, 0.8, scene.detail),
                (DocumentKind::Id1, true) => Zone::new(DocumentKind::Id1, 0.74, scene.detail),
                _ => None,
            },
        }
    }

    fn inside(&self, u: f32, v: f32) -> bool {
        if self.radius <= 0.0 {
            return true;
        }
        let aspect = self.kind.aspect();
        let (r, rv) = (self.radius, self.radius * aspect);
        let cu = if u < r {
            r - u
        } else if u > 1.0 - r {
            u - (1.0 - r)
        } else {
            0.0
        };
        let cv = if v < rv {
            rv - v
        } else if v > 1.0 - rv {
            v - (1.0 - rv)
        } else {
            0.0
        };
        (cu / r).powi(2) + (cv / rv).powi(2) <= 1.0 || cu == 0.0 || cv == 0.0
    }

    fn at(&self, u: f32, v: f32) -> f32 {
        // A faint guilloche over the whole document.
        let g = 6.0 * ((u * 60.0 + (v * 25.0).sin() * 2.0).sin());
        let base = self.base - 10.0 * (self.layout as f32 % 2.0) * v + g;
        let ink = self.ink;
        let text_line = |u0: f32, u1: f32, v0: f32, rows: usize, pitch: f32| {
            for k in 0..rows {
                let top = v0 + k as f32 * pitch;
                if (top..top + pitch * 0.45).contains(&v) && (u0..u1).contains(&u) {
                    // Glyph gaps.
                    let cell = ((u - u0) * 90.0).floor() as i32;
                    if hash(cell, k as i32, self.seed) > 0.18 {
                        return true;
                    }
                }
            }
            false
        };
        // The zone in OCR-B (bars when the font is missing).
        if let Some(c) = self.zone.as_ref().and_then(|z| z.at(u, v)) {
            return base * (1.0 - c) + ink * c;
        }
        let mrz =
            |v0: f32, rows: usize| self.zone.is_none() && text_line(0.04, 0.96, v0, rows, 0.065);
        if self.back {
            // An ID-1 back: a barcode-like block and the 3-line TD1 MRZ at the bottom.
            if (0.06..0.6).contains(&u)
                && (0.12..0.32).contains(&v)
                && ((u * 180.0) as i32 % 3 != 0)
            {
                return ink;
            }
            if text_line(0.06, 0.9, 0.38, 3, 0.08) || mrz(0.74, 3) {
                return ink;
            }
            return base;
        }
        let (pu0, pu1) = if self.layout < 2 {
            (0.05, 0.32)
        } else {
            (0.66, 0.94)
        };
        let (pv0, pv1) = (0.22, 0.86);
        if (pu0..pu1).contains(&u) && (pv0..pv1).contains(&v) {
            // The portrait: a face-like blob on a plain field.
            let (cu, cv) = ((pu0 + pu1) / 2.0, (pv0 + pv1) / 2.0 - 0.05);
            let e = ((u - cu) / 0.09).powi(2) + ((v - cv) / 0.2).powi(2);
            return if e < 1.0 { 120.0 } else { base - 45.0 };
        }
        if self.layout == 3 && v < 0.16 {
            // A full-bleed dark title band (many cards have one): the card's top edge steps
            // the other way from its other edges.
            return if text_line(0.2, 0.8, 0.06, 1, 0.1) {
                self.base
            } else {
                self.ink + 25.0
            };
        }
        if (0.04..0.96).contains(&u) && (0.05..0.15).contains(&v) {
            // The title band.
            return if text_line(0.2, 0.8, 0.07, 1, 0.1) {
                ink
            } else {
                base - 25.0
            };
        }
        let (tu0, tu1) = if self.layout < 2 {
            (0.36, 0.95)
        } else {
            (0.05, 0.62)
        };
        let rows = if self.kind == DocumentKind::Td3 { 5 } else { 6 };
        if text_line(tu0, tu1, 0.22, rows, 0.085) {
            return ink;
        }
        if self.kind == DocumentKind::Td3 && mrz(0.8, 2) {
            return ink;
        }
        base
    }
}

/// Intersection over union of two outlines, by rasterising both on a 160 × 120 grid.
pub fn iou(a: &Quad, b: &Quad) -> f32 {
    let (gw, gh) = (160, 120);
    let (mut inter, mut uni) = (0u32, 0u32);
    for y in 0..gh {
        for x in 0..gw {
            let p = Point {
                x: (x as f32 + 0.5) / gw as f32,
                y: (y as f32 + 0.5) / gh as f32,
            };
            let (ia, ib) = (contains(a, p), contains(b, p));
            inter += u32::from(ia && ib);
            uni += u32::from(ia || ib);
        }
    }
    if uni == 0 {
        0.0
    } else {
        inter as f32 / uni as f32
    }
}

fn contains(q: &Quad, p: Point) -> bool {
    let c = &q.corners;
    let mut sign = 0i8;
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
        let s = if cross > 0.0 { 1 } else { -1 };
        if sign == 0 {
            sign = s;
        } else if s != sign {
            return false;
        }
    }
    true
}

/// What the gate did with one still.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub scene_index: usize,
    pub family: Family,
    pub defect: Defect,
    /// The primary hint of the still's first frame (`None`: it passed).
    pub primary: Option<crate::Issue>,
    /// Outline IoU against the truth (first frame; 0 when none was found or there is no truth).
    pub iou: f32,
    /// A run of [`crate::AUTO_CAPTURE_FRAMES`] frames (fresh noise, ±1 px jitter) fired.
    pub auto_captured: bool,
    /// The outline IoU of the frame that fired (0 when none fired or there is no truth): a
    /// capture is only right if it is of the document.
    pub captured_iou: f32,
    /// How many frames of the run passed the gate, and the largest corner movement between
    /// consecutive outlines (normalised): why a run did not fire.
    pub ok_frames: u32,
    pub max_shift: f32,
    /// The primary hints of the run's frames, in order.
    pub hints: Vec<Option<crate::Issue>>,
}

/// Frame `k` of a still's auto-capture run: fresh sensor noise, and from the second frame on
/// the whole picture moved by up to ±1 px (the hand's tremor).
pub fn render_run_frame(s: &Scene, k: u32) -> Rendered {
    let mut jr = ChaCha8Rng::seed_from_u64(s.detail ^ 0x6a69_7474);
    let mut jitter = (0.0, 0.0);
    for _ in 0..k {
        jitter = (jr.random_range(-1.0..=1.0), jr.random_range(-1.0..=1.0));
    }
    render(s, u64::from(k) + 1, jitter)
}

/// Runs the gate on each scene: one auto-capture run of frames per still.
pub fn evaluate(scenes: &[Scene]) -> Vec<Outcome> {
    let mut analyser = crate::Analyser::new();
    scenes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // Each still is a new camera preview.
            analyser.new_sequence();
            let mut auto = crate::AutoCapture::default();
            let mut captured_iou = 0.0f32;
            let mut first = None;
            let (mut ok_frames, mut max_shift, mut last) = (0u32, 0f32, None::<Quad>);
            let mut hints = Vec::new();
            for k in 0..crate::AUTO_CAPTURE_FRAMES {
                let r = render_run_frame(s, k);
                let frame = crate::LumaFrame {
                    width: WIDTH,
                    height: HEIGHT,
                    data: &r.luma,
                };
                let report = analyser.analyse(frame, s.kind);
                if auto.push(&report) == crate::CaptureDecision::Capture {
                    if let (Some(q), Some(t)) = (report.quad, s.truth()) {
                        captured_iou = iou(&q, &t);
                    }
                }
                ok_frames += u32::from(report.ok);
                hints.push(report.primary);
                if let (Some(a), Some(b)) = (last, report.quad) {
                    max_shift = max_shift.max(a.max_corner_shift(&b));
                }
                last = report.quad;
                if first.is_none() {
                    first = Some(report);
                }
            }
            let first = first.unwrap_or_else(|| unreachable!("AUTO_CAPTURE_FRAMES > 0"));
            let iou = match (first.quad, s.truth()) {
                (Some(q), Some(t)) => iou(&q, &t),
                _ => 0.0,
            };
            Outcome {
                scene_index: i,
                family: s.family,
                defect: s.defect,
                primary: first.primary,
                iou,
                auto_captured: auto.fired(),
                captured_iou,
                ok_frames,
                max_shift,
                hints,
            }
        })
        .collect()
}

/// The numbers the issue asks for, as a printable report: per-issue precision and recall of the
/// primary hint (a good still's "issue" is passing), outline IoU on good stills, the
/// auto-capture rate of good stills and the false auto-capture rate of defective ones, per
/// background family.
pub fn report(outcomes: &[Outcome]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let label = |i: Option<crate::Issue>| i.map_or("pass", |i| i.as_str());
    let mut labels: Vec<&str> = vec!["pass"];
    labels.extend(crate::Issue::ALL.iter().map(|i| i.as_str()));
    let _ = writeln!(
        out,
        "{:<14} {:>6} {:>6} {:>9} {:>7}",
        "primary hint", "truth", "shown", "precision", "recall"
    );
    for l in &labels {
        let truth = outcomes
            .iter()
            .filter(|o| label(o.defect.expected()) == *l)
            .count();
        let shown = outcomes.iter().filter(|o| label(o.primary) == *l).count();
        let hit = outcomes
            .iter()
            .filter(|o| label(o.primary) == *l && label(o.defect.expected()) == *l)
            .count();
        if truth == 0 && shown == 0 {
            continue;
        }
        let pct = |a: usize, b: usize| {
            if b == 0 {
                "-".to_owned()
            } else {
                format!("{:.1} %", 100.0 * a as f32 / b as f32)
            }
        };
        let _ = writeln!(
            out,
            "{:<14} {:>6} {:>6} {:>9} {:>7}",
            l,
            truth,
            shown,
            pct(hit, shown),
            pct(hit, truth)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<15} {:>5} {:>9} {:>11} {:>9} {:>9} {:>7} {:>12} {:>9}",
        "family",
        "good",
        "auto-cap",
        "cap IoU>.9",
        "IoU mean",
        "IoU>=0.9",
        "defect",
        "false auto",
        "no-doc ok"
    );
    let mut rows: Vec<(String, Vec<&Outcome>)> = Family::ALL
        .iter()
        .map(|f| {
            (
                f.name().to_owned(),
                outcomes.iter().filter(|o| o.family == *f).collect(),
            )
        })
        .collect();
    rows.push(("all".to_owned(), outcomes.iter().collect()));
    for (name, os) in rows {
        let good: Vec<&&Outcome> = os.iter().filter(|o| o.defect == Defect::Good).collect();
        let bad: Vec<&&Outcome> = os.iter().filter(|o| o.defect != Defect::Good).collect();
        let nodoc: Vec<&&Outcome> = os
            .iter()
            .filter(|o| o.defect == Defect::NoDocument)
            .collect();
        let frac = |n: usize, d: usize| {
            if d == 0 {
                "-".to_owned()
            } else {
                format!("{:.1} %", 100.0 * n as f32 / d as f32)
            }
        };
        let iou_mean = if good.is_empty() {
            0.0
        } else {
            good.iter().map(|o| o.iou).sum::<f32>() / good.len() as f32
        };
        let _ = writeln!(
            out,
            "{:<15} {:>5} {:>9} {:>11} {:>9.3} {:>9} {:>7} {:>12} {:>9}",
            name,
            good.len(),
            frac(good.iter().filter(|o| o.auto_captured).count(), good.len()),
            // Captured, and of the document (the frame that fired had the true outline).
            frac(
                good.iter()
                    .filter(|o| o.auto_captured && o.captured_iou >= 0.9)
                    .count(),
                good.len()
            ),
            iou_mean,
            frac(good.iter().filter(|o| o.iou >= 0.9).count(), good.len()),
            bad.len(),
            frac(bad.iter().filter(|o| o.auto_captured).count(), bad.len()),
            frac(
                nodoc
                    .iter()
                    .filter(|o| o.primary == Some(crate::Issue::NoDocument))
                    .count(),
                nodoc.len()
            ),
        );
    }
    out
}
