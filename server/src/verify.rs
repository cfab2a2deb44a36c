//! The server's own look at every uploaded image (issue 14). Each upload is decoded completely
//! and within bounds (`decode.rs`) before anything is stored, then checked with the same Rust
//! code the form runs on the device:
//!
//! * a document side: `core::vision` on the stored image, for the document kind chosen (outline,
//!   sharpness, glare, brightness, coverage, issues);
//! * the selfie: the `face` detector and `core::selfie::check_still` (one face, ARGOS's size rules,
//!   light, sharpness);
//! * a liveness frame: the detector's faces and a picture signature, kept for the attempt's check
//!   (`core::liveness::verify`) when its record arrives.
//!
//! The work runs off the async runtime on a bounded pool ([`Verifier`]): at most
//! `server.verify_workers` images at once, each on a blocking thread holding one decoded image;
//! further uploads wait for a permit, and nothing else waits for them.

use std::cell::RefCell;
use std::sync::Arc;

use liveform_core::api::CaptureCheck;
use liveform_core::document::{read_document, DocumentData, MrzLayout};
use liveform_core::face::{picture_signature, FaceFrame};
use liveform_core::flow::CaptureSlot;
use liveform_core::selfie::{check_still, StillCheck};
use liveform_core::vision::{Analyser, DocumentKind, Issue};
use serde::{Deserialize, Serialize};

use crate::decode::{self, DecodeError, Decoded, Limits};
use crate::media::Media;

/// A document side as the server saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentCheck {
    /// `id1` (cards) or `td3` (passport page): the kind the person chose.
    pub document: String,
    pub width: u32,
    pub height: u32,
    /// An outline of the document was found.
    pub found: bool,
    /// No issues at all (what the device's gate asks before it takes the photo).
    pub ok: bool,
    /// `core::vision::Issue` names, in priority order.
    pub issues: Vec<String>,
    pub metrics: DocumentMetrics,
    /// What the device's gate said when it took the photo (`?device=` on the upload: `ok` or its
    /// issues), when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_issues: Option<Vec<String>>,
    /// The device saw a document where the server finds none.
    #[serde(default)]
    pub device_disagrees: bool,
    /// The machine-readable zone, on the side of a document that carries one
    /// (`core::document::mrz_placement`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrz: Option<MrzCheck>,
}

/// The machine-readable zone as the server read it. Its fields are personal data: they are
/// kept only sealed (`sealed`, by the upload route with the store's key), never in clear in the
/// `analysis` column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MrzCheck {
    pub layout: MrzLayout,
    /// A zone was found and read.
    pub read: bool,
    /// Every check digit holds.
    pub valid: bool,
    /// Milliseconds the read took.
    pub ms: f32,
    /// The read fields (`DocumentData` JSON), sealed (`pii.rs`, place [`mrz_place`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// The read fields until they are sealed (never serialised).
    #[serde(skip)]
    pub data: Option<Box<DocumentData>>,
}

/// The id of the latest capture of `side` (`None`: the side has none).
pub fn latest_capture_id(
    caps: &[crate::store::StoredCapture],
    side: CaptureSlot,
) -> Option<String> {
    caps.iter()
        .rev()
        .find(|c| c.record.slot == side)
        .map(|c| c.record.capture_id.clone())
}

/// The MRZ check of the latest capture of `side`: that capture's id and the check; `None` when
/// the side has no capture or its capture was not read.
pub fn latest_mrz(
    caps: &[crate::store::StoredCapture],
    side: CaptureSlot,
) -> Option<(String, MrzCheck)> {
    let c = caps.iter().rev().find(|c| c.record.slot == side)?;
    let Some(Analysis::Document(d)) = c.analysis.as_deref().and_then(Analysis::from_json) else {
        return None;
    };
    Some((c.record.capture_id.clone(), d.mrz?))
}

/// The MRZ fields the server read on the latest capture of `side` of submission `sid`, opened:
/// that capture's id and the fields. `None` when that capture has no read zone.
pub fn document_of(
    caps: &[crate::store::StoredCapture],
    side: CaptureSlot,
    sid: &str,
    sealer: &crate::pii::Sealer,
) -> Option<(String, DocumentData)> {
    let (id, check) = latest_mrz(caps, side)?;
    let json = sealer.open(&mrz_place(sid, &id), &check.sealed?).ok()?;
    let data = serde_json::from_str(&json).ok()?;
    Some((id, data))
}

/// Where a capture's sealed MRZ fields live (`pii::Sealer` place).
pub fn mrz_place(submission_id: &str, capture_id: &str) -> String {
    format!("capture/{submission_id}/{capture_id}/mrz")
}

/// The measurements behind a document verdict (`core::vision::Metrics`, rounded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentMetrics {
    pub sharpness: f32,
    pub glare: f32,
    pub brightness: f32,
    pub contrast: f32,
    pub coverage: f32,
    pub aspect: f32,
    pub rotation_deg: f32,
}

/// The selfie as the server saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfieCheck {
    pub width: u32,
    pub height: u32,
    #[serde(flatten)]
    pub check: StillCheck,
    pub brightness: f32,
    pub sharpness: f32,
}

/// A liveness frame as the server saw it: kept for the attempt's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameCheck {
    pub faces: FaceFrame,
    /// `core::face::picture_signature`, hex.
    pub signature: String,
}

/// What the server found in one stored image (the `analysis` column, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Analysis {
    Document(DocumentCheck),
    Selfie(SelfieCheck),
    LivenessFrame(FrameCheck),
}

impl Analysis {
    /// What the person's form is told ([`CaptureRecord::check`](liveform_core::api::CaptureRecord)).
    pub fn capture_check(&self) -> Option<CaptureCheck> {
        match self {
            Analysis::Document(d) => Some(CaptureCheck {
                ok: d.ok,
                issues: d.issues.clone(),
            }),
            Analysis::Selfie(s) => Some(CaptureCheck {
                ok: s.check.ok,
                issues: s.check.issues.clone(),
            }),
            Analysis::LivenessFrame(_) => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".into())
    }

    pub fn from_json(s: &str) -> Option<Analysis> {
        serde_json::from_str(s).ok()
    }
}

impl FrameCheck {
    pub fn signature(&self) -> u64 {
        u64::from_str_radix(&self.signature, 16).unwrap_or(0)
    }
}

/// What to check an upload for.
#[derive(Debug, Clone)]
pub struct Job {
    pub slot: CaptureSlot,
    pub media: Media,
    /// The document kind (document slots).
    pub document: Option<DocumentKind>,
    /// The device gate's verdict on a document side (`?device=`), when sent.
    pub device_issues: Option<Vec<String>>,
    /// The MRZ to read, when this side of the chosen document carries one.
    pub mrz: Option<MrzLayout>,
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("the face detector could not run: {0}")]
    Detector(String),
    #[error("the check was interrupted: {0}")]
    Interrupted(String),
}

type Work = (
    Job,
    Vec<u8>,
    tokio::sync::oneshot::Sender<(Vec<u8>, Result<Analysis, VerifyError>)>,
);

/// The bounded pool: `workers` threads of its own (not the runtime's blocking pool, whose threads
/// also wait on the database and can number hundreds under load), each with one face detector and
/// one analyser, so memory for checks is bounded by the worker count; further uploads queue.
pub struct Verifier {
    queue: std::sync::mpsc::Sender<Work>,
    workers: usize,
}

impl Verifier {
    /// `workers` images at once (0: one per core).
    pub fn new(workers: u32) -> Verifier {
        let n = if workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            workers as usize
        };
        let (tx, rx) = std::sync::mpsc::channel::<Work>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("liveform-verify-{i}"))
                .spawn(move || loop {
                    // The queue closes when the Verifier is dropped: the worker ends.
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((job, data, reply)) = next else {
                        return;
                    };
                    let r = analyse(&job, &data, &Limits::DEFAULT);
                    let _ = reply.send((data, r));
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a verification worker");
            }
        }
        Verifier {
            queue: tx,
            workers: n,
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Decodes and checks `data` on the pool; hands the bytes back with the verdict.
    pub async fn check(&self, job: Job, data: Vec<u8>) -> (Vec<u8>, Result<Analysis, VerifyError>) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if let Err(std::sync::mpsc::SendError((_, data, _))) = self.queue.send((job, data, reply)) {
            return (data, Err(VerifyError::Interrupted("no workers".into())));
        }
        match answer.await {
            Ok(out) => out,
            Err(e) => (
                Vec::new(),
                Err(VerifyError::Interrupted(format!("worker: {e}"))),
            ),
        }
    }
}

thread_local! {
    /// One face detector per worker thread (built once: a few milliseconds and ~1 MB).
    static DETECTOR: RefCell<Option<liveform_face::Detector>> = const { RefCell::new(None) };
    static ANALYSER: RefCell<Analyser> = RefCell::new(Analyser::new());
}

fn detect(img: &Decoded) -> Result<FaceFrame, VerifyError> {
    DETECTOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(
                liveform_face::Detector::new().map_err(|e| VerifyError::Detector(e.to_string()))?,
            );
        }
        let Some(det) = d.as_mut() else {
            return Err(VerifyError::Detector("no detector".into()));
        };
        det.detect(&img.rgba, img.width, img.height)
            .map_err(|e| VerifyError::Detector(e.to_string()))
    })
}

fn round(v: f32, places: i32) -> f32 {
    let m = 10f32.powi(places);
    (v * m).round() / m
}

/// The synchronous check: decode, then the slot's analysis. Public for the benchmark.
pub fn analyse(job: &Job, data: &[u8], limits: &Limits) -> Result<Analysis, VerifyError> {
    let img = decode::decode(job.media, data, limits)?;
    match job.slot {
        CaptureSlot::DocumentFront | CaptureSlot::DocumentBack => {
            let kind = job.document.unwrap_or(DocumentKind::Id1);
            let report = ANALYSER.with(|a| {
                let mut a = a.borrow_mut();
                // The verdict on an upload is the image's alone, whatever this worker saw before.
                a.new_sequence();
                a.analyse_rgba(&img.rgba, img.width as usize, img.height as usize, kind)
            });
            let report = report.map_err(|e| {
                VerifyError::Decode(DecodeError::Corrupt(format!("analysis: {}", e.as_str())))
            })?;
            let m = report.metrics;
            let found = report.quad.is_some();
            let mrz = job.mrz.map(|layout| {
                let t = std::time::Instant::now();
                let luma = luma(&img);
                let (w, h) = (img.width as usize, img.height as usize);
                let data = read_document(&luma, w, h, report.quad.as_ref(), layout);
                MrzCheck {
                    layout,
                    read: data.is_some(),
                    valid: data.as_ref().is_some_and(|d| d.mrz_valid),
                    ms: round(t.elapsed().as_secs_f32() * 1000.0, 1),
                    sealed: None,
                    data: data.map(Box::new),
                }
            });
            let device_saw = job
                .device_issues
                .as_ref()
                .map(|i| !i.iter().any(|x| x == Issue::NoDocument.as_str()));
            Ok(Analysis::Document(DocumentCheck {
                document: kind.as_str().to_owned(),
                width: img.width,
                height: img.height,
                found,
                ok: report.ok,
                issues: report
                    .issues
                    .iter()
                    .map(|i| i.as_str().to_owned())
                    .collect(),
                metrics: DocumentMetrics {
                    sharpness: round(m.sharpness, 3),
                    glare: round(m.glare, 4),
                    brightness: round(m.brightness, 1),
                    contrast: round(m.contrast, 1),
                    coverage: round(m.coverage, 3),
                    aspect: round(m.aspect, 3),
                    rotation_deg: round(m.rotation_deg, 1),
                },
                device_disagrees: device_saw == Some(true) && !found,
                device_issues: job.device_issues.clone(),
                mrz,
            }))
        }
        CaptureSlot::Selfie => {
            let frame = detect(&img)?;
            Ok(Analysis::Selfie(SelfieCheck {
                width: img.width,
                height: img.height,
                check: check_still(&frame),
                brightness: round(frame.brightness, 1),
                sharpness: round(frame.sharpness, 3),
            }))
        }
        CaptureSlot::Liveness => {
            let frame = detect(&img)?;
            let luma = luma(&img);
            let sig = picture_signature(&luma, img.width as usize, img.height as usize);
            Ok(Analysis::LivenessFrame(FrameCheck {
                faces: frame,
                signature: format!("{sig:016x}"),
            }))
        }
    }
}

/// Integer BT.601 luma of the decoded image (in the vision crate: optimised in every profile).
fn luma(img: &Decoded) -> Vec<u8> {
    liveform_core::vision::luma_of_rgba(&img.rgba)
}

/// The device's `?device=` value: `ok`, or comma-separated `core::vision::Issue` names (unknown
/// names dropped, at most ten).
pub fn parse_device_issues(v: &str) -> Option<Vec<String>> {
    if v == "ok" {
        return Some(Vec::new());
    }
    let issues: Vec<String> = v
        .split(',')
        .filter_map(Issue::parse)
        .take(10)
        .map(|i| i.as_str().to_owned())
        .collect();
    (!issues.is_empty()).then_some(issues)
}

/// The `verification` object of the results API and the `submit` webhook: what the server itself
/// established about a submission, per document side, the selfie and liveness, and whether every
/// check passed (`auto_decision = "approved"` approves only then).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub passed: bool,
    /// Why not, as `part: issue` (e.g. `document_front: no_document`, `liveness: not_passed`).
    pub reasons: Vec<String>,
    pub json: serde_json::Value,
}

/// Builds the [`Summary`] of the stored captures and attempts; `liveness_required` when the
/// flow has the liveness step (a missing pass is then a reason).
pub fn summary(
    caps: &[crate::store::StoredCapture],
    attempts: &[crate::store::StoredAttempt],
    liveness_required: bool,
) -> Summary {
    use serde_json::{json, Map, Value};
    let mut reasons = Vec::new();
    let analysis_of = |slot: CaptureSlot| {
        caps.iter()
            .rev()
            .find(|c| c.record.slot == slot)
            .map(|c| c.analysis.as_deref().and_then(Analysis::from_json))
    };
    let mut documents = Map::new();
    for (name, slot) in [
        ("front", CaptureSlot::DocumentFront),
        ("back", CaptureSlot::DocumentBack),
    ] {
        match analysis_of(slot) {
            None => {}
            Some(Some(Analysis::Document(mut d))) => {
                // The sealed fields stay in the store: the summary shows the verdict only.
                if let Some(m) = d.mrz.as_mut() {
                    m.sealed = None;
                }
                for i in &d.issues {
                    reasons.push(format!("document_{name}: {i}"));
                }
                documents.insert(name.into(), json!(d));
            }
            Some(_) => {
                reasons.push(format!("document_{name}: unchecked"));
                documents.insert(name.into(), Value::Null);
            }
        }
    }
    let selfie = match analysis_of(CaptureSlot::Selfie) {
        None => Value::Null,
        Some(Some(Analysis::Selfie(s))) => {
            for i in &s.check.issues {
                reasons.push(format!("selfie: {i}"));
            }
            json!(s)
        }
        Some(_) => {
            reasons.push("selfie: unchecked".into());
            Value::Null
        }
    };
    let server_passed = attempts
        .iter()
        .any(|a| a.passed && a.verification.is_some());
    let device_passed = attempts.iter().any(|a| a.device_passed.unwrap_or(a.passed));
    let outcome = |passed: bool| {
        if attempts.is_empty() {
            "not_run"
        } else if passed {
            "passed"
        } else {
            "failed"
        }
    };
    if (liveness_required || !attempts.is_empty()) && !server_passed {
        reasons.push("liveness: not_passed".into());
    }
    let items: Vec<Value> = attempts
        .iter()
        .map(|a| {
            let check: Value = a
                .verification
                .as_deref()
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or(Value::Null);
            json!({
                "attempt": a.attempt,
                "passed": a.passed && a.verification.is_some(),
                "device_passed": a.device_passed.unwrap_or(a.passed),
                "reasons": check.get("reasons").cloned().unwrap_or(json!([])),
                "steps": check.get("steps").cloned().unwrap_or(json!([])),
                "duration_ms": check.get("duration_ms").cloned().unwrap_or(Value::Null),
                "verified": a.verification.is_some(),
            })
        })
        .collect();
    let liveness = json!({
        "server_outcome": outcome(server_passed),
        "device_outcome": outcome(device_passed),
        "attempts": items,
    });
    let passed = reasons.is_empty();
    Summary {
        json: json!({
            "passed": passed,
            "reasons": reasons,
            "documents": documents,
            "selfie": selfie,
            "liveness": liveness,
        }),
        passed,
        reasons,
    }
}
