//! Uploads with byte-level progress (`XMLHttpRequest`: `fetch` has no upload progress), and the
//! `Blob` helpers the capture module needs around them.

use js_sys::{Array, Function, Promise, Uint8Array};
use liveform_core::api::SESSION_HEADER;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, ProgressEvent, XmlHttpRequest};

/// One attempt's answer (`status` 0: no answer, the network failed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
}

/// `PUT url` with `blob` as the body and the session header; `progress(sent, total)` as the bytes
/// leave. A stalled connection counts as lost: a minute plus 16 KB/s for the body.
pub async fn put_blob(
    url: &str,
    token: &str,
    blob: &Blob,
    content_type: &str,
    mut progress: impl FnMut(u64, u64) + 'static,
) -> Answer {
    let Ok(xhr) = XmlHttpRequest::new() else {
        return Answer::default();
    };
    if xhr.open("PUT", url).is_err()
        || xhr.set_request_header(SESSION_HEADER, token).is_err()
        || xhr
            .set_request_header("content-type", content_type)
            .is_err()
    {
        return Answer::default();
    }
    let total = blob_size(blob);
    xhr.set_timeout(60_000 + (total / 16) as u32);
    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        let t = if e.length_computable() {
            e.total() as u64
        } else {
            total
        };
        progress(e.loaded() as u64, t);
    });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let mut resolve_fn: Option<Function> = None;
    let done = Promise::new(&mut |resolve, _| resolve_fn = Some(resolve));
    let on_end = Closure::<dyn FnMut()>::new(move || {
        if let Some(r) = &resolve_fn {
            let _ = r.call0(&JsValue::NULL);
        }
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    if xhr.send_with_opt_blob(Some(blob)).is_err() {
        return Answer::default();
    }
    let _ = JsFuture::from(done).await;
    xhr.set_onloadend(None);
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(None);
    }
    drop((on_progress, on_end));
    let status = xhr.status().unwrap_or(0);
    if (200..300).contains(&status) {
        crate::storage::mark_contact();
    }
    Answer {
        status,
        body: xhr.response_text().ok().flatten().unwrap_or_default(),
        retry_after: xhr.get_response_header("retry-after").ok().flatten(),
    }
}

/// A blob's size in bytes.
pub fn blob_size(blob: &Blob) -> u64 {
    blob.size() as u64
}

/// A blob's bytes (`None` if the browser cannot read it).
pub async fn blob_bytes(blob: &Blob) -> Option<Vec<u8>> {
    let buf = JsFuture::from(blob.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

/// A blob of `content_type` holding `bytes`.
pub fn blob_from_bytes(bytes: &[u8], content_type: &str) -> Option<Blob> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let opts = BlobPropertyBag::new();
    opts.set_type(content_type);
    Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()
}
