//! `use_upload_queue`: the capture screens' uploads. One `PUT /api/capture/{capture_id}?slot=…`
//! per capture (raw body, session header), sent with `XMLHttpRequest` for byte-level progress, and
//! retried with the same client-made capture id (the server stores it once) until the server
//! holds it or refuses it for good. The decisions (backoff with full jitter, `Retry-After`,
//! which answers are retried, the states) are `liveform_core::upload`.
//!
//! Until stored, the capture's id, type and (when small enough) its bytes stay in
//! `sessionStorage` under `liveform.upload.<slot>`: after a reload the step re-sends them with
//! the same id (answered `200` if the first attempt had in fact arrived).
//!
//! Signals out: the screen's current upload ([`UploadQueue::current`]) and each upload's
//! [`UploadState`]. Cleanup: when the component that called the hook unmounts, every upload loop
//! stops at its next step (no request is retried for a screen that is gone).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::flow::CaptureSlot;
use liveform_core::upload::{
    capture_id, classify, failure_code, from_base64, parse_retry_after, retry_delay_ms, to_base64,
    Outcome, UploadState,
};
use liveform_core::{ErrorBody, ErrorCode};
use serde::{Deserialize, Serialize};

use crate::keys::UPLOAD_KEY_PREFIX;
use crate::storage;
use crate::time::{random_bytes, sleep};
use crate::xhr::{self, blob_bytes, blob_from_bytes, blob_size, Answer};
use crate::Blob;

/// Bytes of a capture kept in `sessionStorage` for a re-send after a reload (Base64 makes them
/// a third larger; the storage holds about 5 MB per origin).
const MAX_KEPT_BYTES: u64 = 1_500_000;
/// How long "Saved" shows before the flow moves on.
const SAVED_PAUSE_MS: u32 = 400;

/// One capture's upload, for the screens: its reactive state.
#[derive(Clone)]
pub struct UploadHandle {
    pub slot: CaptureSlot,
    pub capture_id: String,
    pub state: RwSignal<UploadState>,
    /// Set by "Retry now": ends the current wait.
    pub retry_now: RwSignal<bool>,
    /// Extra query for the upload (`&device=…`: the gate's verdict on a document side).
    query: String,
}

impl UploadHandle {
    fn set(&self, s: UploadState) {
        let _ = self.state.try_set(s);
    }
}

/// What waits in `sessionStorage` until the server holds it.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    capture_id: String,
    content_type: String,
    /// Base64 of the bytes (absent when too large to keep).
    #[serde(default)]
    data: Option<String>,
}

fn pending_key(slot: CaptureSlot) -> String {
    [UPLOAD_KEY_PREFIX, slot.name()].concat()
}

/// A random `u32` for the jitter (a fixed mid value if the browser has no `crypto`).
fn random_u32() -> u32 {
    random_bytes::<4>().map_or(u32::MAX / 2, u32::from_le_bytes)
}

/// The queue of one mount of the capture screens (see [`use_upload_queue`]). `Clone`, cheap.
#[derive(Clone)]
pub struct UploadQueue {
    token: std::sync::Arc<str>,
    current: RwSignal<Option<UploadHandle>>,
    on_stored: StoredValue<Rc<dyn Fn(CaptureSlot, String)>, LocalStorage>,
    /// Set on cleanup: every loop ends at its next step.
    closed: StoredValue<bool>,
    /// The hook caller's owner: uploads started from event handlers belong to it.
    owner: Owner,
}

/// The upload queue for the session `token`. `on_stored(slot, capture_id)` runs once the server
/// holds a capture sent with [`UploadQueue::send`] (after a short "Saved"), never after unmount.
pub fn use_upload_queue(
    token: &str,
    on_stored: impl Fn(CaptureSlot, String) + 'static,
) -> UploadQueue {
    let closed = StoredValue::new(false);
    on_cleanup(move || {
        let _ = closed.try_set_value(true);
    });
    let on_stored: Rc<dyn Fn(CaptureSlot, String)> = Rc::new(on_stored);
    UploadQueue {
        token: token.into(),
        current: RwSignal::new(None),
        on_stored: StoredValue::new_local(on_stored),
        closed,
        owner: Owner::current().unwrap_or_default(),
    }
}

impl UploadQueue {
    /// The screen's current upload (its status is shown; "take another" clears it).
    pub fn current(&self) -> RwSignal<Option<UploadHandle>> {
        self.current
    }

    fn open(&self) -> bool {
        self.closed.try_get_value() == Some(false)
    }

    /// Whether an upload of this screen is under way or done (the shutter waits).
    pub fn busy(&self) -> bool {
        self.current.with_untracked(|u| {
            u.as_ref().is_some_and(|h| {
                h.state
                    .try_with_untracked(|s| !matches!(s, UploadState::Failed { .. }))
                    .unwrap_or(false)
            })
        })
    }

    fn handle(
        &self,
        slot: CaptureSlot,
        id: String,
        state: UploadState,
        query: String,
    ) -> UploadHandle {
        self.owner.with(|| UploadHandle {
            slot,
            capture_id: id,
            state: RwSignal::new(state),
            retry_now: RwSignal::new(false),
            query,
        })
    }

    /// Uploads `blob` for `slot` under a new capture id; the returned handle shows the
    /// progress. `device`: what the document gate said when the photo was taken (`ok` or its
    /// issue), sent as `&device=` for the server to record beside its own verdict.
    pub fn send(
        &self,
        slot: CaptureSlot,
        blob: Blob,
        content_type: &str,
        device: Option<&str>,
    ) -> UploadHandle {
        match random_bytes::<16>() {
            Some(r) => {
                let query = device.map(|d| ["&device=", d].concat()).unwrap_or_default();
                self.start(slot, capture_id(&r), blob, content_type, true, query)
            }
            None => self.fail(slot, ErrorCode::Runtime),
        }
    }

    /// A handle that failed before sending (no frame, no `crypto`): shown like any failure.
    pub fn fail(&self, slot: CaptureSlot, code: ErrorCode) -> UploadHandle {
        let h = self.handle(
            slot,
            String::new(),
            UploadState::Failed {
                code: code.id().to_owned(),
            },
            String::new(),
        );
        self.current.set(Some(h.clone()));
        h
    }

    fn start(
        &self,
        slot: CaptureSlot,
        id: String,
        blob: Blob,
        content_type: &str,
        keep: bool,
        query: String,
    ) -> UploadHandle {
        let h = self.handle(slot, id, UploadState::Queued, query);
        self.current.set(Some(h.clone()));
        spawn_local(
            self.clone()
                .run(h.clone(), blob, content_type.to_owned(), keep, true),
        );
        h
    }

    /// Re-sends what a reload interrupted for `slot` (same capture id), if its bytes were kept.
    pub fn resume(&self, slot: CaptureSlot) -> Option<UploadHandle> {
        let p: Pending = storage::get(&pending_key(slot))?;
        let bytes = p.data.as_deref().and_then(from_base64);
        let Some(bytes) = bytes else {
            storage::remove(&pending_key(slot));
            return None;
        };
        let blob = blob_from_bytes(&bytes, &p.content_type)?;
        Some(self.start(
            slot,
            p.capture_id,
            blob,
            &p.content_type,
            false,
            String::new(),
        ))
    }

    /// Uploads one liveness frame (or any capture that must not move the flow on): no progress
    /// on screen, no copy kept for a reload, the same retries. The capture id once the server
    /// holds it, else the failure's code.
    pub async fn send_quiet(
        &self,
        slot: CaptureSlot,
        blob: Blob,
        content_type: &str,
    ) -> Result<String, String> {
        let r = random_bytes::<16>().ok_or_else(|| ErrorCode::Runtime.id().to_owned())?;
        let h = self.handle(slot, capture_id(&r), UploadState::Queued, String::new());
        self.clone()
            .run(h.clone(), blob, content_type.to_owned(), false, false)
            .await;
        match h.state.try_get_untracked() {
            Some(UploadState::Stored { capture_id }) => Ok(capture_id),
            Some(UploadState::Failed { code }) => Err(code),
            _ => Err(ErrorCode::Network.id().to_owned()),
        }
    }

    /// Whether the loop for `h` goes on: the queue is open and the handle's signals live.
    fn alive(&self, h: &UploadHandle) -> bool {
        self.open() && h.state.try_get_untracked().is_some()
    }

    async fn run(self, h: UploadHandle, blob: Blob, content_type: String, keep: bool, emit: bool) {
        if keep {
            keep_pending(&h, &content_type, &blob).await;
        }
        let url = crate::api::capture_url(&h.capture_id, h.slot, &h.query);
        let mut attempt = 0u32;
        loop {
            if !self.alive(&h) {
                return; // the screen went away
            }
            attempt = attempt.saturating_add(1);
            h.set(UploadState::Sending {
                sent: 0,
                total: blob.size() as u64,
            });
            let a = send_once(&url, &self.token, &blob, &content_type, &h).await;
            let code = serde_json::from_str::<ErrorBody>(&a.body)
                .ok()
                .map(|e| e.code);
            match classify(a.status, code.as_deref()) {
                Outcome::Stored => {
                    storage::remove(&pending_key(h.slot));
                    h.set(UploadState::Stored {
                        capture_id: h.capture_id.clone(),
                    });
                    if !emit {
                        return;
                    }
                    sleep(SAVED_PAUSE_MS).await;
                    if self.alive(&h) {
                        if let Some(f) = self.on_stored.try_get_value() {
                            f(h.slot, h.capture_id.clone());
                        }
                    }
                    return;
                }
                Outcome::Fail => {
                    storage::remove(&pending_key(h.slot));
                    h.set(UploadState::Failed {
                        code: failure_code(a.status, code.as_deref()),
                    });
                    return;
                }
                Outcome::Retry => {
                    let now = crate::time::date_now() as u64;
                    let ra = a
                        .retry_after
                        .as_deref()
                        .and_then(|v| parse_retry_after(v, Some(now)));
                    let mut left = retry_delay_ms(attempt, ra, random_u32());
                    let _ = h.retry_now.try_set(false);
                    while left > 0 {
                        if !self.alive(&h) {
                            return;
                        }
                        h.set(UploadState::Reconnecting {
                            attempt,
                            retry_in_ms: left,
                        });
                        let step = left.min(250);
                        sleep(step).await;
                        left -= step;
                        if h.retry_now.try_get_untracked().unwrap_or(false) {
                            break;
                        }
                    }
                }
            }
        }
    }
}

/// Drops the kept copy of `slot` when the server already holds that capture (its answer was
/// lost to a reload).
pub fn forget_if_stored(slot: CaptureSlot, capture_id: &str) {
    let key = pending_key(slot);
    if storage::get::<Pending>(&key).is_some_and(|p| p.capture_id == capture_id) {
        storage::remove(&key);
    }
}

async fn keep_pending(h: &UploadHandle, content_type: &str, blob: &Blob) {
    let mut p = Pending {
        capture_id: h.capture_id.clone(),
        content_type: content_type.to_owned(),
        data: None,
    };
    let key = pending_key(h.slot);
    if blob_size(blob) <= MAX_KEPT_BYTES {
        if let Some(bytes) = blob_bytes(blob).await {
            p.data = Some(to_base64(&bytes));
            storage::set(&key, &p);
            if storage::get::<Pending>(&key).is_some() {
                return;
            }
            p.data = None; // over the storage quota: keep the id only
        }
    }
    storage::set(&key, &p);
}

async fn send_once(
    url: &str,
    token: &str,
    blob: &Blob,
    content_type: &str,
    h: &UploadHandle,
) -> Answer {
    let state = h.state;
    xhr::put_blob(url, token, blob, content_type, move |sent, total| {
        let _ = state.try_set(UploadState::Sending { sent, total });
    })
    .await
}
