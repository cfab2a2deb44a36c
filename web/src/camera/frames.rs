//! Frames and JPEGs: video frames for analysis through one reused canvas, still JPEGs of the
//! preview, the liveness evidence encoder, photos chosen from files.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement};

use crate::js::get;

/// Draws video frames, downscaled, into one reused canvas and copies the RGBA pixels into one
/// reused buffer: memory stays flat however many frames are analysed.
pub struct FrameGrabber {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    rgba: Vec<u8>,
}

impl FrameGrabber {
    pub fn new() -> Option<FrameGrabber> {
        let doc = web_sys::window()?.document()?;
        let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"willReadFrequently".into(), &JsValue::TRUE);
        let ctx = canvas
            .get_context_with_context_options("2d", &opts)
            .ok()??
            .dyn_into()
            .ok()?;
        Some(FrameGrabber {
            canvas,
            ctx,
            rgba: Vec::new(),
        })
    }

    /// The current frame scaled to fit `max_long_edge`: `(width, height, rgba)`, or `None`
    /// while the video has no frame yet.
    pub fn grab(
        &mut self,
        video: &HtmlVideoElement,
        max_long_edge: u32,
    ) -> Option<(u32, u32, &[u8])> {
        let (vw, vh) = (video.video_width(), video.video_height());
        if vw == 0 || vh == 0 {
            return None;
        }
        let scale = (max_long_edge as f64 / vw.max(vh) as f64).min(1.0);
        let w = ((vw as f64 * scale).round() as u32).max(1);
        let h = ((vh as f64 * scale).round() as u32).max(1);
        if self.canvas.width() != w || self.canvas.height() != h {
            self.canvas.set_width(w);
            self.canvas.set_height(h);
        }
        self.ctx
            .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w as f64, h as f64)
            .ok()?;
        let data = self.ctx.get_image_data(0.0, 0.0, w as f64, h as f64).ok()?;
        let pixels: js_sys::Uint8ClampedArray = get(&data, "data").dyn_into().ok()?;
        let len = pixels.length() as usize;
        // Room for any frame within `max_long_edge` at once: a camera whose size changes (a
        // first frame at another resolution, a rotation) never makes the buffer grow again.
        let room = (max_long_edge as usize).pow(2) * 4;
        if self.rgba.capacity() < room.max(len) {
            self.rgba.reserve_exact(room.max(len) - self.rgba.len());
        }
        self.rgba.resize(len, 0);
        pixels.copy_to(&mut self.rgba);
        Some((w, h, &self.rgba))
    }
}

/// Takes the current video frame at full resolution (downscaled so that its long edge is at most
/// `max_long_edge`) as a JPEG `Blob`. `canvas.toBlob` encodes off the main thread in the engines
/// that can.
pub async fn still_jpeg(
    video: &HtmlVideoElement,
    max_long_edge: u32,
    quality: f64,
) -> Option<web_sys::Blob> {
    let (vw, vh) = (video.video_width(), video.video_height());
    if vw == 0 || vh == 0 {
        return None;
    }
    let scale = (f64::from(max_long_edge) / f64::from(vw.max(vh))).min(1.0);
    let w = ((f64::from(vw) * scale).round() as u32).max(1);
    let h = ((f64::from(vh) * scale).round() as u32).max(1);
    let doc = web_sys::window()?.document()?;
    let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_image_smoothing_enabled(true);
    ctx.draw_image_with_html_video_element_and_dw_and_dh(
        video,
        0.0,
        0.0,
        f64::from(w),
        f64::from(h),
    )
    .ok()?;
    canvas_jpeg(&canvas, quality).await
}

/// Encodes RGBA frames (`getImageData` layout) as JPEG through one reused canvas: the liveness
/// evidence, encoded from the very pixels the face detector analysed.
pub struct JpegCanvas {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
}

impl JpegCanvas {
    pub fn new() -> Option<JpegCanvas> {
        let doc = web_sys::window()?.document()?;
        let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
        let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some(JpegCanvas { canvas, ctx })
    }

    /// Starts encoding a `width × height` frame. The canvas is free again when this returns
    /// (`toBlob` copies its bitmap when called), so several encodings may be under way at once;
    /// `None` when the pixels do not fit the size or the canvas refuses them.
    pub fn encode(
        &self,
        width: u32,
        height: u32,
        rgba: &[u8],
        quality: f64,
    ) -> Option<impl std::future::Future<Output = Option<web_sys::Blob>>> {
        if width == 0 || height == 0 || rgba.len() != width as usize * height as usize * 4 {
            return None;
        }
        if self.canvas.width() != width || self.canvas.height() != height {
            self.canvas.set_width(width);
            self.canvas.set_height(height);
        }
        let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            wasm_bindgen::Clamped(rgba),
            width,
            height,
        )
        .ok()?;
        self.ctx.put_image_data(&data, 0.0, 0.0).ok()?;
        let promise = to_blob(&self.canvas, quality)?;
        Some(async move { JsFuture::from(promise).await.ok()?.dyn_into().ok() })
    }
}

/// `canvas.toBlob(…, "image/jpeg", quality)` started now: its promise.
fn to_blob(canvas: &HtmlCanvasElement, quality: f64) -> Option<Promise> {
    let mut cb = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        cb = Some(resolve);
    });
    let resolve = cb?;
    let done = Closure::once_into_js(move |blob: JsValue| {
        let _ = resolve.call1(&JsValue::NULL, &blob);
    });
    canvas
        .to_blob_with_type_and_encoder_options(done.unchecked_ref(), "image/jpeg", &quality.into())
        .ok()?;
    Some(promise)
}

/// `canvas.toBlob(…, "image/jpeg", quality)` as a future.
pub async fn canvas_jpeg(canvas: &HtmlCanvasElement, quality: f64) -> Option<web_sys::Blob> {
    let promise = to_blob(canvas, quality)?;
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

/// An image (a `File` or `Blob`) decoded by `createImageBitmap` (upright by its EXIF
/// orientation, `imageOrientation: "from-image"`), downscaled to at most `max_long_edge`, drawn
/// into a new canvas: the canvas, its context and the drawn size. `None` when the browser cannot
/// decode it (or has no `createImageBitmap`: iOS before 15).
async fn draw_image(
    image: &JsValue,
    max_long_edge: u32,
) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d, u32, u32)> {
    let window = web_sys::window()?;
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"imageOrientation".into(), &"from-image".into());
    let create = get(&window, "createImageBitmap")
        .dyn_into::<Function>()
        .ok()?;
    let promise: Promise = create.call2(&window, image, &opts).ok()?.dyn_into().ok()?;
    let bitmap = JsFuture::from(promise).await.ok()?;
    let bw = get(&bitmap, "width").as_f64()?;
    let bh = get(&bitmap, "height").as_f64()?;
    if bw < 1.0 || bh < 1.0 {
        return None;
    }
    let scale = (f64::from(max_long_edge) / bw.max(bh)).min(1.0);
    let (w, h) = ((bw * scale).round().max(1.0), (bh * scale).round().max(1.0));
    let canvas: HtmlCanvasElement = window
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let draw = get(&ctx, "drawImage").dyn_into::<Function>().ok()?;
    let args = Array::new();
    for v in [bitmap.clone(), 0.into(), 0.into(), w.into(), h.into()] {
        args.push(&v);
    }
    let drawn = draw.apply(&ctx, &args).is_ok();
    if let Ok(close) = get(&bitmap, "close").dyn_into::<Function>() {
        let _ = close.call0(&bitmap);
    }
    drawn.then_some((canvas, ctx, w as u32, h as u32))
}

/// A photo chosen from the device (file picker), upright by its EXIF orientation and
/// downscaled to at most `max_long_edge`, as a JPEG. `None` when the browser cannot decode the
/// file as an image.
pub async fn photo_from_file(
    file: &web_sys::File,
    max_long_edge: u32,
    quality: f64,
) -> Option<web_sys::Blob> {
    let (canvas, _, _, _) = draw_image(file, max_long_edge).await?;
    canvas_jpeg(&canvas, quality).await
}

/// The pixels of an image `Blob` (a still as it will be uploaded: the JPEG decoded by the
/// browser, as the server decodes it): `(width, height, rgba)`. For reading the document's
/// machine-readable zone after capture.
pub async fn blob_pixels(blob: &web_sys::Blob) -> Option<(u32, u32, Vec<u8>)> {
    let (_, ctx, w, h) = draw_image(blob, u32::MAX).await?;
    let data = ctx
        .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
        .ok()?;
    let pixels: js_sys::Uint8ClampedArray = get(&data, "data").dyn_into().ok()?;
    Some((w, h, pixels.to_vec()))
}
