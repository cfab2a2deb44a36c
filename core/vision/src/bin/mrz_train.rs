//! Trains the MRZ character classifier (`core/vision/src/mrz/ocr.rs`) on OCR-B glyphs rasterised
//! with `ab_glyph` (the evaluation draws its stills with `fontdue`, which training never uses)
//! and writes the quantised weights.
//!
//!   scripts/mrz-train.sh   (= cargo run --release -p liveform-vision --features mrz-train
//!                             --bin mrz_train -- [--font PATH] [--seed N] [--out PATH]
//!                             [--per-class N] [--epochs N] [--hidden N])
//!
//! Deterministic: one thread, every random draw from ChaCha8 seeded by `--seed`.
//!
//! A sample imitates what the reader crops from a still: the target glyph between two random
//! neighbours at a random pitch, rasterised at 3× a random source cap height (5.5–28 px, i.e. a
//! card filling a 640×480 frame to a passport close-up at 1080p), thickened or thinned by one
//! high-resolution pixel, box-downsampled with a random sub-pixel phase, blurred, given random
//! paper and ink levels, a gradient and noise, then cropped like the reader does but with the
//! reader's errors: centre off by a few per cent of the cap height, the measured cap height off
//! by −10…+12 %, aspect ±7 %, rotation ±2°.

use ab_glyph::{point, Font, FontVec, PxScale};
use liveform_vision::mrz::ocr::{self, Gray, Net, CLASSES, INPUT, N_CLASSES, SAMPLES_PER_H};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Glyphs {
    font: FontVec,
    /// Cap height per unit of `PxScale`.
    cap_per_scale: f32,
}

impl Glyphs {
    fn load(path: &str) -> Glyphs {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let font = FontVec::try_from_vec(bytes).expect("an OpenType font");
        let g = font
            .glyph_id('H')
            .with_scale_and_position(PxScale::from(1000.0), point(0.0, 0.0));
        let b = font.outline_glyph(g).expect("H").px_bounds();
        Glyphs {
            cap_per_scale: (b.max.y - b.min.y) / 1000.0,
            font,
        }
    }

    /// Draws `c` (max-combined coverage) into `canvas` (`w` wide) with its ink box centred
    /// horizontally at `cx` and its cap band (baseline − cap height … baseline) centred at `cy`.
    fn draw(&self, canvas: &mut [f32], w: usize, c: char, cap: f32, cx: f32, cy: f32) {
        let scale = PxScale::from(cap / self.cap_per_scale);
        let probe = self
            .font
            .glyph_id(c)
            .with_scale_and_position(scale, point(0.0, 0.0));
        let Some(o) = self.font.outline_glyph(probe) else {
            return;
        };
        let b = o.px_bounds();
        // Position: the glyph origin such that the ink box is centred at cx, baseline at cy+cap/2.
        let ox = cx - (b.min.x + b.max.x) / 2.0;
        let oy = cy + cap / 2.0;
        let g = self
            .font
            .glyph_id(c)
            .with_scale_and_position(scale, point(ox, oy));
        let Some(o) = self.font.outline_glyph(g) else {
            return;
        };
        let b = o.px_bounds();
        let h = canvas.len() / w;
        o.draw(|x, y, v| {
            let px = b.min.x as i32 + x as i32;
            let py = b.min.y as i32 + y as i32;
            if px >= 0 && py >= 0 && (px as usize) < w && (py as usize) < h {
                let p = &mut canvas[py as usize * w + px as usize];
                *p = p.max(v);
            }
        });
    }
}

fn normal(r: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = r.random_range(1e-7..1.0);
    let u2: f32 = r.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

fn random_char(r: &mut ChaCha8Rng) -> char {
    if r.random_bool(0.3) {
        '<'
    } else {
        CLASSES[r.random_range(0..CLASSES.len())] as char
    }
}

/// Grey morphology on a `w`-wide image: `grow` > 0 dilates the ink (max), < 0 erodes (min).
fn morph(img: &[f32], w: usize, grow: i32) -> Vec<f32> {
    if grow == 0 {
        return img.to_vec();
    }
    let h = img.len() / w;
    let mut out = img.to_vec();
    for y in 0..h {
        for x in 0..w {
            let mut m = img[y * w + x];
            for (dx, dy) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
                let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                if nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h {
                    let v = img[ny as usize * w + nx as usize];
                    m = if grow > 0 { m.max(v) } else { m.min(v) };
                }
            }
            out[y * w + x] = m;
        }
    }
    out
}

fn gaussian_blur(img: &mut [f32], w: usize, sigma: f32) {
    if sigma < 0.2 {
        return;
    }
    let h = img.len() / w;
    let r = (3.0 * sigma).ceil() as i32;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let ks: f32 = k.iter().sum();
    let mut tmp = img.to_vec();
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for (j, kv) in k.iter().enumerate() {
                let xx = (x as i32 + j as i32 - r).clamp(0, w as i32 - 1) as usize;
                s += img[y * w + xx] * kv;
            }
            tmp[y * w + x] = s / ks;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for (j, kv) in k.iter().enumerate() {
                let yy = (y as i32 + j as i32 - r).clamp(0, h as i32 - 1) as usize;
                s += tmp[yy * w + x] * kv;
            }
            img[y * w + x] = s / ks;
        }
    }
}

/// One training sample of class `target`.
fn sample(g: &Glyphs, r: &mut ChaCha8Rng, target: usize, out: &mut [f32; INPUT]) {
    const SS: usize = 3;
    let cap: f32 = (r.random_range(5.5f32.ln()..28f32.ln())).exp();
    let pitch = cap * r.random_range(0.95..1.35);
    let (sw, sh) = (
        (2.0 * pitch + 2.5 * cap).ceil() as usize + 4,
        (2.6 * cap).ceil() as usize + 4,
    );
    let (hw, hh) = (sw * SS, sh * SS);
    let mut hi = vec![0f32; hw * hh];
    let (cx, cy) = (
        sw as f32 / 2.0 + r.random_range(-0.5..0.5),
        sh as f32 / 2.0 + r.random_range(-0.5..0.5),
    );
    let s = SS as f32;
    let capj = |r: &mut ChaCha8Rng| cap * r.random_range(0.98..1.02);
    g.draw(
        &mut hi,
        hw,
        CLASSES[target] as char,
        cap * s,
        cx * s,
        cy * s,
    );
    for side in [-1.0f32, 1.0] {
        if r.random_bool(0.9) {
            let c = random_char(r);
            let nc = capj(r);
            let dx = side * pitch * r.random_range(0.97..1.03) + r.random_range(-0.08..0.08) * cap;
            g.draw(
                &mut hi,
                hw,
                c,
                nc * s,
                (cx + dx) * s,
                (cy + r.random_range(-0.05..0.05) * cap) * s,
            );
        }
    }
    // Neighbouring lines above/below sometimes graze the crop.
    if r.random_bool(0.3) {
        let side = if r.random_bool(0.5) { -1.0 } else { 1.0 };
        let dy = side * cap * r.random_range(1.6..2.2);
        for k in -1..=1 {
            let c = random_char(r);
            g.draw(
                &mut hi,
                hw,
                c,
                cap * s,
                (cx + k as f32 * pitch) * s,
                (cy + dy) * s,
            );
        }
    }
    let grow = match r.random_range(0..10) {
        0..=1 => -1,
        2..=6 => 0,
        _ => 1,
    };
    let hi = morph(&hi, hw, grow);
    let mut src = vec![0f32; sw * sh];
    for y in 0..sh {
        for x in 0..sw {
            let mut acc = 0.0;
            for yy in 0..SS {
                for xx in 0..SS {
                    acc += hi[(y * SS + yy) * hw + x * SS + xx];
                }
            }
            src[y * sw + x] = acc / (SS * SS) as f32;
        }
    }
    gaussian_blur(&mut src, sw, r.random_range(0.0f32..0.9).powf(1.3));
    let bg: f32 = r.random_range(110.0..245.0);
    let ink: f32 = r.random_range(0.0..(bg - 50.0));
    let (gx, gy) = (r.random_range(-1.5..1.5), r.random_range(-1.5..1.5));
    let noise = r.random_range(0.0..6.0);
    for y in 0..sh {
        for x in 0..sw {
            let v = &mut src[y * sw + x];
            *v = bg - *v * (bg - ink) + gx * x as f32 + gy * y as f32 + noise * normal(r);
        }
    }
    // Crop like the reader, with its errors.
    let h_est = cap * r.random_range(0.9..1.12);
    let sc = h_est / SAMPLES_PER_H;
    let asp = r.random_range(0.93..1.07);
    let ang: f32 = r.random_range(-2.0f32..2.0).to_radians();
    let img = Gray {
        px: &src,
        w: sw,
        h: sh,
    };
    ocr::crop(
        &img,
        cx + 0.06 * cap * normal(r),
        cy + 0.05 * cap * normal(r),
        sc * asp,
        sc,
        ang.cos(),
        ang.sin(),
        out,
    );
    ocr::normalise(out);
}

struct Mlp {
    hidden: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

impl Mlp {
    fn new(hidden: usize, r: &mut ChaCha8Rng) -> Mlp {
        let s1 = (2.0 / INPUT as f32).sqrt();
        let s2 = (2.0 / hidden as f32).sqrt();
        Mlp {
            hidden,
            w1: (0..hidden * INPUT).map(|_| normal(r) * s1).collect(),
            b1: vec![0.0; hidden],
            w2: (0..N_CLASSES * hidden).map(|_| normal(r) * s2).collect(),
            b2: vec![0.0; N_CLASSES],
        }
    }

    fn forward(&self, x: &[f32], h: &mut [f32], o: &mut [f32; N_CLASSES]) {
        for (k, hv) in h.iter_mut().enumerate() {
            let row = &self.w1[k * INPUT..(k + 1) * INPUT];
            let s: f32 = row.iter().zip(x).map(|(a, b)| a * b).sum();
            *hv = (s + self.b1[k]).max(0.0);
        }
        for (c, ov) in o.iter_mut().enumerate() {
            let row = &self.w2[c * self.hidden..(c + 1) * self.hidden];
            *ov = row.iter().zip(h.iter()).map(|(a, b)| a * b).sum::<f32>() + self.b2[c];
        }
        ocr::softmax(o);
    }
}

fn main() {
    let mut font = "/usr/share/fonts/opentype/ocr-b/OCRB.otf".to_string();
    let mut seed = 9303u64;
    let mut out = concat!(env!("CARGO_MANIFEST_DIR"), "/src/mrz/weights.bin").to_string();
    let mut per_class = 2000usize;
    let mut epochs = 10usize;
    let mut hidden = 128usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--font" => font = v,
            "--seed" => seed = v.parse().expect("--seed N"),
            "--out" => out = v,
            "--per-class" => per_class = v.parse().expect("--per-class N"),
            "--epochs" => epochs = v.parse().expect("--epochs N"),
            "--hidden" => hidden = v.parse().expect("--hidden N"),
            _ => panic!("unknown argument {a}"),
        }
    }
    let t0 = std::time::Instant::now();
    let g = Glyphs::load(&font);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut val_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0005_eed0_f7a1);
    let mut net = Mlp::new(hidden, &mut rng);
    // Held-out samples (their own random stream) to watch accuracy.
    let val: Vec<(usize, [f32; INPUT])> = (0..N_CLASSES * 100)
        .map(|i| {
            let c = i % N_CLASSES;
            let mut x = [0f32; INPUT];
            sample(&g, &mut val_rng, c, &mut x);
            (c, x)
        })
        .collect();
    let n = per_class * N_CLASSES;
    let mut xs = vec![0f32; n * INPUT];
    let mut ys = vec![0usize; n];
    let mut mw1 = vec![0f32; net.w1.len()];
    let mut mb1 = vec![0f32; hidden];
    let mut mw2 = vec![0f32; net.w2.len()];
    let mut mb2 = vec![0f32; N_CLASSES];
    let (mut gw1, mut gb1) = (vec![0f32; net.w1.len()], vec![0f32; hidden]);
    let (mut gw2, mut gb2) = (vec![0f32; net.w2.len()], vec![0f32; N_CLASSES]);
    let mut h = vec![0f32; hidden];
    let mut gh = vec![0f32; hidden];
    let mut o = [0f32; N_CLASSES];
    let batch = 32usize;
    let momentum = 0.9f32;
    for epoch in 0..epochs {
        // Fresh samples every epoch: the augmentation space is far larger than one epoch.
        for i in 0..n {
            ys[i] = i % N_CLASSES;
            let mut x = [0f32; INPUT];
            sample(&g, &mut rng, ys[i], &mut x);
            xs[i * INPUT..(i + 1) * INPUT].copy_from_slice(&x);
        }
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let lr = 0.05 * 0.5f32.powf(epoch as f32 / (epochs as f32 / 3.0));
        let mut loss = 0.0f64;
        for chunk in order.chunks(batch) {
            gw1.fill(0.0);
            gb1.fill(0.0);
            gw2.fill(0.0);
            gb2.fill(0.0);
            for &i in chunk {
                let x = &xs[i * INPUT..(i + 1) * INPUT];
                net.forward(x, &mut h, &mut o);
                loss -= (o[ys[i]].max(1e-9) as f64).ln();
                let mut go = o;
                go[ys[i]] -= 1.0;
                gh.fill(0.0);
                for c in 0..N_CLASSES {
                    let gc = go[c];
                    gb2[c] += gc;
                    let row = &mut gw2[c * hidden..(c + 1) * hidden];
                    let wrow = &net.w2[c * hidden..(c + 1) * hidden];
                    for k in 0..hidden {
                        row[k] += gc * h[k];
                        gh[k] += gc * wrow[k];
                    }
                }
                for k in 0..hidden {
                    if h[k] <= 0.0 {
                        continue;
                    }
                    let gk = gh[k];
                    gb1[k] += gk;
                    let row = &mut gw1[k * INPUT..(k + 1) * INPUT];
                    for (gwv, xv) in row.iter_mut().zip(x) {
                        *gwv += gk * xv;
                    }
                }
            }
            let scale = lr / chunk.len() as f32;
            let step = |p: &mut [f32], m: &mut [f32], gr: &[f32]| {
                for ((pv, mv), gv) in p.iter_mut().zip(m.iter_mut()).zip(gr) {
                    *mv = momentum * *mv - scale * gv;
                    *pv += *mv;
                }
            };
            step(&mut net.w1, &mut mw1, &gw1);
            step(&mut net.b1, &mut mb1, &gb1);
            step(&mut net.w2, &mut mw2, &gw2);
            step(&mut net.b2, &mut mb2, &gb2);
        }
        let correct = val
            .iter()
            .filter(|(c, x)| {
                net.forward(x, &mut h, &mut o);
                let best = (0..N_CLASSES)
                    .max_by(|&a, &b| o[a].total_cmp(&o[b]))
                    .unwrap_or(0);
                best == *c
            })
            .count();
        eprintln!(
            "epoch {epoch}: lr {lr:.4} loss {:.4} held-out accuracy {:.2} % ({:.0} s)",
            loss / n as f64,
            100.0 * correct as f64 / val.len() as f64,
            t0.elapsed().as_secs_f32()
        );
    }
    let bytes = Net::encode(hidden, &net.w1, &net.b1, &net.w2, &net.b2);
    // The quantised network on the held-out set, and its confusions.
    let q = Net::from_bytes(&bytes).expect("round trip");
    let mut wrong: std::collections::BTreeMap<(char, char), usize> = Default::default();
    let mut correct = 0;
    for (c, x) in &val {
        let mut p = [0f32; N_CLASSES];
        q.probs(x, &mut p);
        let best = (0..N_CLASSES)
            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
            .unwrap_or(0);
        if best == *c {
            correct += 1;
        } else {
            *wrong
                .entry((CLASSES[*c] as char, CLASSES[best] as char))
                .or_default() += 1;
        }
    }
    let mut top: Vec<_> = wrong.into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    eprintln!(
        "quantised: held-out accuracy {:.2} %; top confusions (truth→read): {:?}",
        100.0 * correct as f64 / val.len() as f64,
        &top[..top.len().min(10)]
    );
    std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("{out}: {e}"));
    eprintln!(
        "wrote {out} ({} bytes) in {:.0} s",
        bytes.len(),
        t0.elapsed().as_secs_f32()
    );
}
