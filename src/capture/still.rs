//! A still photo from the live preview: the current video frame, at most [`MAX_LONG_EDGE`] px on
//! its long edge, as JPEG (quality 0.9) through `canvas.toBlob`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement};

/// The long edge of a still, in pixels (larger frames are scaled down).
pub const MAX_LONG_EDGE: u32 = 1920;
/// JPEG quality handed to `toBlob`.
pub const JPEG_QUALITY: f64 = 0.9;

/// `(width, height)` of a `vw`×`vh` frame scaled down to fit [`MAX_LONG_EDGE`] (never up).
pub fn still_size(vw: u32, vh: u32) -> (u32, u32) {
    let long = vw.max(vh).max(1);
    if long <= MAX_LONG_EDGE {
        return (vw.max(1), vh.max(1));
    }
    let scale = |x: u32| {
        ((u64::from(x) * u64::from(MAX_LONG_EDGE) + u64::from(long) / 2) / u64::from(long)).max(1)
            as u32
    };
    (scale(vw), scale(vh))
}

/// The current frame of `video` as a JPEG [`Blob`]; `None` while the video has no frame or the
/// browser cannot encode.
pub async fn capture_jpeg(video: &HtmlVideoElement) -> Option<Blob> {
    let (vw, vh) = (video.video_width(), video.video_height());
    if vw == 0 || vh == 0 {
        return None;
    }
    let (w, h) = still_size(vw, vh);
    let canvas: HtmlCanvasElement = web_sys::window()?
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w.into(), h.into())
        .ok()?;
    let mut made: Option<Result<(), JsValue>> = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        let cb = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        made = Some(canvas.to_blob_with_type_and_encoder_options(
            cb.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(JPEG_QUALITY),
        ));
    });
    made?.ok()?;
    JsFuture::from(promise).await.ok()?.dyn_into::<Blob>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stills_are_scaled_down_never_up() {
        assert_eq!(still_size(640, 480), (640, 480));
        assert_eq!(still_size(1920, 1080), (1920, 1080));
        assert_eq!(still_size(3840, 2160), (1920, 1080));
        assert_eq!(still_size(2160, 3840), (1080, 1920));
        assert_eq!(still_size(4000, 3000), (1920, 1440));
        assert_eq!(still_size(0, 0), (1, 1));
    }
}
