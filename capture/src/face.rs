//! Selfie and active liveness on the face detector (the `face/` worker, off the main thread):
//! the selfie gate (oval guide, held hints, auto-capture, the manual shutter after a few seconds)
//! and the liveness panel: the attempt opened on the server (`POST /api/session/liveness/open`),
//! the session's challenge sequence run on device by `liveform_core::liveness::Attempt`, the
//! frames it judged uploaded as evidence while it runs (the server re-runs the detector on them
//! and judges them with the same checks), the attempt recorded with `POST /api/session/liveness`,
//! and the server's outcome shown (three failures → `SE-50021`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::api::CaptureList;
use liveform_core::capture::is_virtual_label;
use liveform_core::face::FaceFrame;
use liveform_core::flow::CaptureSlot;
use liveform_core::liveness::{
    Attempt, AttemptState, AttemptsOutcome, Challenge, Evidence, LivenessAnswer, OpenedAttempt,
    StepOutcome, TrackInfo, KEEP_FRAMES, MAX_ATTEMPTS,
};
use liveform_core::selfie::{SelfieAutoCapture, SelfieHint};
use liveform_core::vision::{HintHolder, HINT_MIN_HOLD_MS};
use liveform_core::{ErrorBody, ErrorCode};

use crate::gate::ShutterClock;
use crate::handoff::HandoffPanel;
use crate::upload::sleep;
use crate::{use_capture, CaptureCtx, CaptureEvent};
use liveform_ui::i18n::use_i18n;
use liveform_web::api;
use liveform_web::camera::{self, FrameGrabber, JpegCanvas};
use liveform_web::hooks::{use_face_feed, use_frame_loop, FramePixels, Tick, UseFaceFeed};
use liveform_web::time::{now_ms, perf_now};
use liveform_web::{Blob, HtmlVideoElement};

/// Frames go to the detector at this long edge (BlazeFace works at 128 px; the face box's
/// brightness and sharpness are measured on this frame). The liveness evidence is these very
/// frames, so this is also its size: 320×240 from a 4:3 camera, 320×180 from a 16:9 one (the
/// server wants at least 180 px on the shorter side).
const FACE_GRAB_EDGE: u32 = 320;
/// The server's minimum for the shorter side of a liveness frame (docs/api.md): a camera wider
/// (or taller) than 16:9 is grabbed larger so that its frames still reach it.
const MIN_EVIDENCE_SIDE: u32 = 180;
/// How often the loop looks for a new frame (the worker takes one at a time: a slow phone just
/// analyses fewer).
const LOOP_MS: u32 = 100;
/// JPEG quality of the liveness evidence frames.
const FRAME_QUALITY: f64 = 0.85;
/// Evidence frames uploaded at once, at most.
const PARALLEL_UPLOADS: usize = 3;
/// Kept frames' pixels held per attempt: the evidence names frames among the last
/// [`KEEP_FRAMES`] kept ones; one more for slack.
const RING_FRAMES: usize = KEEP_FRAMES + 1;
/// How long "Done" shows before the flow moves on.
const PASSED_PAUSE_MS: u32 = 400;

/// A phone held sideways: a touch screen in landscape with little height.
pub fn landscape_phone() -> bool {
    liveform_web::dom::matches_media(
        "(orientation: landscape) and (pointer: coarse) and (max-height: 600px)",
    )
}

/// The long edge frames are grabbed at for a `width × height` video: [`FACE_GRAB_EDGE`], or more
/// where the shorter side would fall below [`MIN_EVIDENCE_SIDE`].
fn grab_edge(width: u32, height: u32) -> u32 {
    let (long, short) = (width.max(height), width.min(height));
    if short == 0 {
        return FACE_GRAB_EDGE;
    }
    FACE_GRAB_EDGE.max((MIN_EVIDENCE_SIDE * long).div_ceil(short))
}

/// The selfie gate's state, shared by its loop and the view.
#[derive(Clone, Copy)]
pub struct SelfieGate {
    /// The hint on screen (held ≥ 1 s), `None` while the face is good.
    pub hint: RwSignal<Option<SelfieHint>>,
    /// Ready frames in a row (the oval turns green).
    pub good: RwSignal<u32>,
    /// The manual shutter is offered (after a few seconds, or at once without a detector).
    pub manual: RwSignal<bool>,
    /// The face detector is not available here (the shutter is the way).
    pub unavailable: RwSignal<bool>,
    resets: RwSignal<u32>,
}

impl SelfieGate {
    pub fn new() -> Self {
        SelfieGate {
            hint: RwSignal::new(Some(SelfieHint::NoFace)),
            good: RwSignal::new(0),
            manual: RwSignal::new(false),
            unavailable: RwSignal::new(false),
            resets: RwSignal::new(0),
        }
    }

    pub fn reset(&self) {
        self.good.set(0);
        self.resets.update(|r| *r += 1);
    }

    /// The translation key's tail for the guidance line.
    pub fn hint_key(&self) -> &'static str {
        if self.unavailable.get() {
            return "unavailable";
        }
        match self.hint.get() {
            Some(h) => h.as_str(),
            None if self.good.get() > 0 => "hold",
            None => "ok",
        }
    }

    /// The loop (from the first live frame until the view goes, with the face detector's
    /// worker): analyses only while `active()`, calls `capture` when the auto-capture fires.
    pub fn run(
        self,
        video: NodeRef<leptos::html::Video>,
        live: Signal<bool>,
        active: impl Fn() -> bool + 'static,
        capture: impl Fn() + 'static,
    ) {
        let feed = use_face_feed(live, false);
        use_frame_loop(live, LOOP_MS, move || {
            let video: HtmlVideoElement = video.get_untracked()?;
            let Some(mut grabber) = FrameGrabber::new() else {
                self.unavailable.set(true);
                self.manual.set(true);
                feed.stop();
                return None;
            };
            let mut auto = SelfieAutoCapture::default();
            let mut holder: HintHolder<SelfieHint> = HintHolder::new(HINT_MIN_HOLD_MS);
            let mut clock = ShutterClock::new(
                self.manual,
                self.resets,
                liveform_core::selfie::manual_shutter_available,
            );
            Some(move || {
                let now = now_ms();
                if feed.has_failed() && self.unavailable.try_get_untracked() == Some(false) {
                    let _ = self.unavailable.try_set(true);
                    let _ = self.manual.try_set(true);
                }
                if clock.tick(now) {
                    auto.reset();
                    holder.reset();
                }
                if !active() {
                    return Tick::Next;
                }
                if landscape_phone() {
                    auto.reset();
                    let shown = holder.update(now, Some(SelfieHint::RotatePhone));
                    if self.hint.try_get_untracked() != Some(shown) {
                        let _ = self.hint.try_set(shown);
                    }
                    let _ = self.good.try_set(0);
                    return Tick::Next;
                }
                feed.feed(&mut grabber, &video, grab_edge);
                let Some(frame) = feed.take() else {
                    return Tick::Next;
                };
                let d = auto.push(&frame);
                let shown = holder.update(now, d.hint);
                if self.hint.try_get_untracked() != Some(shown) {
                    let _ = self.hint.try_set(shown);
                }
                if self.good.try_get_untracked() != Some(d.good_frames) {
                    let _ = self.good.try_set(d.good_frames);
                }
                if d.capture {
                    let _ = self.good.try_set(0);
                    capture();
                }
                Tick::Next
            })
        });
    }
}

impl Default for SelfieGate {
    fn default() -> Self {
        Self::new()
    }
}

/// The oval guide over the selfie and liveness previews (`liveform_core::selfie::OVAL`).
#[component]
pub fn OvalGuide(#[prop(into)] good: Signal<bool>) -> impl IntoView {
    let o = liveform_core::selfie::OVAL;
    // The preview keeps the camera's aspect; the oval's width follows it in CSS (aspect-ratio).
    // Set through the CSSOM (`style:`), which the CSP's `style-src 'self'` allows; a `style`
    // attribute would be refused.
    view! {
        <div
            class=move || if good.get() { "lf-oval lf-oval-ok" } else { "lf-oval" }
            style:--lf-oval-cx=format!("{:.1}%", o.cx * 100.0)
            style:--lf-oval-cy=format!("{:.1}%", o.cy * 100.0)
            style:--lf-oval-h=format!("{:.1}%", o.ry * 200.0)
            style:--lf-oval-ratio=o.ratio.to_string()
            aria-hidden="true"
            data-testid="oval"
        ></div>
    }
}

/// Where the liveness panel is.
#[derive(Debug, Clone, PartialEq)]
enum Live {
    /// What is coming, and "Start".
    Intro,
    /// Opening the attempt on the server (`POST /api/session/liveness/open`).
    Opening,
    /// The attempt could not be opened: try again.
    OpenFailed { code: String },
    /// A step is running.
    Running {
        step: usize,
        challenge: Challenge,
        held: u8,
        wrong_way: bool,
        hint: Option<SelfieHint>,
        seconds_left: u64,
        offer_more: bool,
    },
    /// The page was hidden or the camera paused: the clock is stopped.
    Paused,
    /// Sending the last evidence frames and the record.
    Sending { done: usize, total: usize },
    /// The server did not pass the attempt; `left` attempts remain. `device` is the device's own
    /// outcome when the attempt failed there; `None` when the device saw the movements but the
    /// server's check of the frames did not (`reasons`, `verify::Reason` names).
    Failed {
        device: Option<StepOutcome>,
        reasons: Vec<String>,
        left: u8,
    },
    /// The record could not be sent: try again (the frames are stored).
    SendFailed { code: String },
    /// Passed by the server: the flow moves on.
    Passed,
}

fn outcome_key(o: StepOutcome) -> &'static str {
    match o {
        StepOutcome::Passed => "liveness-passed",
        StepOutcome::WrongDirection => "liveness-failed-wrong-way",
        StepOutcome::TimedOut => "liveness-failed-timeout",
    }
}

/// The line for an attempt the device passed and the server did not, by its reasons.
fn server_reason_key(reasons: &[String]) -> &'static str {
    let has = |r: &str| reasons.iter().any(|x| x == r);
    if has("no_face") || has("several_faces") || has("discontinuous") {
        "liveness-server-face"
    } else if has("too_fast") {
        "liveness-server-too-fast"
    } else {
        "liveness-server-unconfirmed"
    }
}

/// Where the liveness step stands on the server: the session's challenges (not in the flow the
/// main app hands over), the attempts stored so far, and their outcome.
async fn standing(token: &str) -> Option<CaptureList> {
    api::captures(token).await.ok()
}

/// An evidence frame, encoded, waiting for (or in) its upload.
struct Job {
    step: usize,
    seq: u32,
    blob: Blob,
}

/// What the running attempt needs between ticks and clicks, and its evidence uploads.
struct Run {
    attempt: Attempt,
    /// The server's id for the attempt (from the opening); uploads of another attempt that end
    /// late are ignored by it.
    attempt_id: String,
    /// The pixels of the last kept frames ([`liveform_core::liveness::Tick::keep`]), by `seq`.
    ring: VecDeque<(u32, FramePixels)>,
    /// Passed or failed: no more frames go to it.
    ended: bool,
    /// Encoded frames waiting for an upload slot.
    queue: VecDeque<Job>,
    /// Evidence frames being encoded, waiting or uploading (not yet stored or failed).
    busy: usize,
    /// Uploads under way (at most [`PARALLEL_UPLOADS`]).
    in_flight: usize,
    /// Frames the attempt took as evidence, their JPEG bytes, the last one's capture id.
    stored: usize,
    bytes: u64,
    last_id: Option<String>,
    /// `(frames, bytes)` on the page (`data-evidence-frames`, `data-evidence-bytes`).
    stats: RwSignal<(usize, u64)>,
}

impl Run {
    fn new(attempt: Attempt, attempt_id: String, stats: RwSignal<(usize, u64)>) -> Run {
        Run {
            attempt,
            attempt_id,
            ring: VecDeque::with_capacity(RING_FRAMES),
            ended: false,
            queue: VecDeque::new(),
            busy: 0,
            in_flight: 0,
            stored: 0,
            bytes: 0,
            last_id: None,
            stats,
        }
    }

    fn keep(&mut self, seq: u32, pixels: FramePixels) {
        while self.ring.len() >= RING_FRAMES {
            self.ring.pop_front();
        }
        self.ring.push_back((seq, pixels));
    }
}

type SharedRun = Rc<RefCell<Option<Run>>>;

/// Encodes the frames an [`Evidence`] names (from the pixels the detector analysed) and queues
/// their uploads, in the background.
fn send_evidence(ctx: &CaptureCtx, r: &SharedRun, jpeg: Option<&JpegCanvas>, ev: Evidence) {
    let mut encodings = Vec::new();
    let id = {
        let mut b = r.borrow_mut();
        let Some(run) = b.as_mut() else { return };
        for seq in &ev.seqs {
            let started = jpeg.and_then(|j| {
                let (_, p) = run.ring.iter().find(|(q, _)| q == seq)?;
                j.encode(p.width, p.height, &p.rgba, FRAME_QUALITY)
            });
            match started {
                Some(f) => {
                    run.busy += 1;
                    encodings.push((*seq, f));
                }
                None => leptos::logging::warn!(
                    "liveness: evidence frame {seq} of step {} could not be encoded",
                    ev.step
                ),
            }
        }
        run.attempt_id.clone()
    };
    for (seq, encoding) in encodings {
        let (ctx, r, id, step) = (ctx.clone(), r.clone(), id.clone(), ev.step);
        spawn_local(async move {
            let blob = encoding.await;
            {
                let mut b = r.borrow_mut();
                let Some(run) = b.as_mut().filter(|run| run.attempt_id == id) else {
                    return;
                };
                match blob {
                    Some(blob) => run.queue.push_back(Job { step, seq, blob }),
                    None => {
                        run.busy -= 1;
                        leptos::logging::warn!("liveness: evidence frame {seq} was not encoded");
                    }
                }
            }
            pump(&ctx, &r);
        });
    }
}

/// Starts queued uploads while fewer than [`PARALLEL_UPLOADS`] run.
fn pump(ctx: &CaptureCtx, r: &SharedRun) {
    loop {
        let (id, job) = {
            let mut b = r.borrow_mut();
            let Some(run) = b.as_mut() else { return };
            if run.in_flight >= PARALLEL_UPLOADS {
                return;
            }
            let Some(job) = run.queue.pop_front() else {
                return;
            };
            run.in_flight += 1;
            (run.attempt_id.clone(), job)
        };
        spawn_local(send_frame(ctx.clone(), r.clone(), id, job));
    }
}

/// One evidence frame to the `liveness` slot (retried like every upload: network errors, 408, 429
/// and 5xx until it is stored), then reported to the attempt. A frame refused for good is left
/// out: the record goes without it and the server judges what it has (no dead end).
async fn send_frame(ctx: CaptureCtx, r: SharedRun, id: String, job: Job) {
    let size = job.blob.size() as u64;
    let result = ctx
        .uploads
        .send_quiet(CaptureSlot::Liveness, job.blob.clone(), "image/jpeg")
        .await;
    {
        let mut b = r.borrow_mut();
        let Some(run) = b.as_mut().filter(|run| run.attempt_id == id) else {
            return;
        };
        run.in_flight -= 1;
        run.busy -= 1;
        match result {
            Ok(capture_id) => {
                if run.attempt.add_frame(job.step, job.seq, capture_id.clone()) {
                    run.stored += 1;
                    run.bytes += size;
                    run.last_id = Some(capture_id);
                    let _ = run.stats.try_set((run.stored, run.bytes));
                    leptos::logging::log!(
                        "liveness evidence: step {} frame {}: {size} bytes ({} frames, {} bytes in this attempt)",
                        job.step,
                        job.seq,
                        run.stored,
                        run.bytes
                    );
                }
            }
            Err(code) => {
                leptos::logging::warn!(
                    "liveness: evidence frame {} of step {} refused ({code})",
                    job.seq,
                    job.step
                );
            }
        }
    }
    pump(&ctx, &r);
}

/// The e2e timing marks on the panel (`data-last-frame-ms`, `data-outcome-ms`: `performance.now()`
/// when the attempt's final frame was pushed, and when the server's outcome reached the screen).
#[derive(Clone, Copy)]
struct Marks {
    last_frame: RwSignal<Option<f64>>,
    outcome: RwSignal<Option<f64>>,
}

/// The liveness step's panel under the preview. `live()` says the preview is running; `track`
/// is the camera's (recorded with the attempt); the feed's worker is started here.
#[component]
pub fn LivenessPanel(
    video: NodeRef<leptos::html::Video>,
    #[prop(into)] live: Signal<bool>,
    #[prop(into)] track: Signal<Option<camera::TrackInfo>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let ctx = use_capture();
    let ctx_sv = StoredValue::new_local(ctx.clone());
    let state = RwSignal::new(Live::Intro);
    let seq: RwSignal<Option<Vec<Challenge>>> = RwSignal::new(None);
    let load_failed = RwSignal::new(false);
    let detector_failed = RwSignal::new(false);
    let marks = Marks {
        last_frame: RwSignal::new(None),
        outcome: RwSignal::new(None),
    };
    let stats = RwSignal::new((0usize, 0u64));
    let run: SharedRun = Rc::new(RefCell::new(None));
    let run_sv = StoredValue::new_local(run.clone());
    let load = move || {
        let Some(ctx) = ctx_sv.try_get_value() else {
            return;
        };
        load_failed.set(false);
        spawn_local(async move {
            let Some(list) = standing(&ctx.config.token).await else {
                let _ = load_failed.try_set(true);
                return;
            };
            match list.liveness_status.map(|a| a.outcome) {
                // Three failures already (another tab, a reload): the coded page.
                Some(AttemptsOutcome::Failed) => {
                    ctx.emit(CaptureEvent::Failed {
                        code: ErrorCode::LivenessFailed.id().to_owned(),
                    });
                    return;
                }
                // Passed before a reload: on with the latest frame.
                Some(AttemptsOutcome::Passed) => {
                    if let Some(c) = list
                        .captures
                        .iter()
                        .rev()
                        .find(|c| c.slot == CaptureSlot::Liveness)
                    {
                        ctx.emit(CaptureEvent::Captured {
                            slot: CaptureSlot::Liveness,
                            capture_id: c.capture_id.clone(),
                        });
                        return;
                    }
                }
                _ => {}
            }
            let _ = seq.try_set(Some(list.liveness));
        });
    };
    load();

    // "Start" (and "Try again"): the server opens the attempt (its id, its number), then the first
    // challenge runs.
    let start = move || {
        if matches!(
            state.get_untracked(),
            Live::Opening | Live::Running { .. } | Live::Paused | Live::Sending { .. }
        ) {
            return;
        }
        let Some(challenges) = seq.get_untracked() else {
            return;
        };
        let Some(ctx) = ctx_sv.try_get_value() else {
            return;
        };
        state.set(Live::Opening);
        marks.last_frame.set(None);
        marks.outcome.set(None);
        stats.set((0, 0));
        spawn_local(async move {
            let opened: Result<OpenedAttempt, ErrorBody> =
                api::open_liveness(&ctx.config.token).await;
            match opened {
                Ok(o) => {
                    let first = challenges.first().copied().unwrap_or(Challenge::Centre);
                    let attempt = Attempt::new(o.attempt, challenges, now_ms());
                    let Some(r) = run_sv.try_get_value() else {
                        return;
                    };
                    *r.borrow_mut() = Some(Run::new(attempt, o.attempt_id, stats));
                    let _ = state.try_set(Live::Running {
                        step: 0,
                        challenge: first,
                        held: 0,
                        wrong_way: false,
                        hint: None,
                        seconds_left: liveform_core::liveness::STEP_TIME_MS / 1000,
                        offer_more: false,
                    });
                }
                Err(e) if e.code == ErrorCode::LivenessFailed.id() => {
                    ctx.emit(CaptureEvent::Failed { code: e.code });
                }
                Err(e) => {
                    // Refused (e.g. already passed in another tab): where does it stand?
                    if e.code == ErrorCode::LivenessInvalid.id() {
                        load();
                    }
                    let _ = state.try_set(Live::OpenFailed { code: e.code });
                }
            }
        });
    };
    // The detector runs from the moment the preview is live: before "Start" it guides the face
    // into the oval; then it feeds the attempt.
    let face_h = RwSignal::new(0.0f32);
    let pre_hint: RwSignal<Option<SelfieHint>> = RwSignal::new(Some(SelfieHint::NoFace));
    {
        let ctx = ctx.clone();
        let feed = use_face_feed(live, true);
        use_frame_loop(live, LOOP_MS, move || {
            panel_loop(
                ctx,
                video.get_untracked()?,
                Signals {
                    state,
                    face_h,
                    pre_hint,
                    detector_failed,
                    marks,
                },
                run_sv,
                feed,
                live,
                track,
            )
        });
    }
    let more_time = move |_| {
        if let Some(r) = run_sv.try_get_value() {
            if let Some(run) = r.borrow_mut().as_mut() {
                run.attempt.extend();
            }
        }
    };
    let resend = {
        let ctx = ctx.clone();
        move |_| {
            spawn_local(finish_attempt(ctx.clone(), state, run_sv, track, marks));
        }
    };
    let steps_text = move |step: usize| {
        let total = seq.with(|s| s.as_ref().map_or(0, Vec::len));
        i18n.tf(
            "liveness-step",
            &[
                ("current", &(step + 1).to_string()),
                ("total", &total.to_string()),
            ],
        )
    };
    let guidance = move || match state.get() {
        Live::Running {
            challenge,
            wrong_way,
            hint,
            ..
        } => {
            if let Some(h) = hint {
                i18n.t(&h.i18n_key())
            } else if wrong_way {
                format!(
                    "{} {}",
                    i18n.t("liveness-wrong-way"),
                    i18n.t(&challenge.i18n_key())
                )
            } else {
                i18n.t(&challenge.i18n_key())
            }
        }
        _ => String::new(),
    };
    let mark = |s: RwSignal<Option<f64>>| move || s.get().map(|v| format!("{v:.1}"));

    view! {
        <div
            class="lf-liveness"
            data-testid="liveness"
            data-face-h=move || format!("{:.3}", face_h.get())
            data-last-frame-ms=mark(marks.last_frame)
            data-outcome-ms=mark(marks.outcome)
            data-evidence-frames=move || stats.get().0
            data-evidence-bytes=move || stats.get().1
            data-state=move || match state.get() {
                Live::Intro => "intro",
                Live::Opening => "opening",
                Live::OpenFailed { .. } => "open-failed",
                Live::Running { .. } => "running",
                Live::Paused => "paused",
                Live::Sending { .. } => "sending",
                Live::Failed { .. } => "failed",
                Live::SendFailed { .. } => "send-failed",
                Live::Passed => "passed",
            }
        >
            {move || match state.get() {
                Live::Intro => view! {
                    <div class="lf-liveness-intro">
                        <p>{move || i18n.t("liveness-intro")}</p>
                        <p class="lf-guidance" data-testid="liveness-face" aria-live="polite">
                            {move || pre_hint.get().map_or_else(
                                || i18n.t("liveness-face-ready"),
                                |h| i18n.t(&h.i18n_key()),
                            )}
                        </p>
                        <p class="lf-hint">{move || i18n.t("liveness-intro-time")}</p>
                        <p class="lf-hint" role="alert" hidden=move || !load_failed.get()>
                            {move || i18n.t("liveness-load-failed")}
                        </p>
                        <button class="lf-button lf-secondary" hidden=move || !load_failed.get() on:click=move |_| load()>
                            {move || i18n.t("error-retry")}
                        </button>
                        <button
                            class="lf-button"
                            data-testid="liveness-start"
                            prop:disabled=move || !live.get() || seq.with(Option::is_none)
                            on:click=move |_| start()
                        >
                            {move || i18n.t("liveness-start")}
                        </button>
                    </div>
                }.into_any(),
                Live::Opening => view! {
                    <p class="lf-hint" role="status" data-testid="liveness-opening">{move || i18n.t("liveness-opening")}</p>
                }.into_any(),
                Live::OpenFailed { code } => view! {
                    <div role="alert">
                        <p data-testid="liveness-open-failed">{i18n.tf("liveness-open-failed", &[("code", &code)])}</p>
                        <button
                            class="lf-button"
                            data-testid="liveness-open-retry"
                            prop:disabled=move || seq.with(Option::is_none)
                            on:click=move |_| start()
                        >
                            {move || i18n.t("error-retry")}
                        </button>
                    </div>
                }.into_any(),
                Live::Running { step, challenge, held, seconds_left, offer_more, .. } => view! {
                    <div class="lf-liveness-run" data-challenge=challenge.as_str()>
                        <p class="lf-hint" data-testid="liveness-step">{steps_text(step)}</p>
                        <p class="lf-guidance lf-challenge" data-testid="liveness-challenge" aria-live="assertive">
                            {guidance}
                        </p>
                        <div class="lf-hold" aria-hidden="true">
                            <div class="lf-hold-fill" style:width=format!(
                                "{}%",
                                u32::from(held) * 100 / u32::from(liveform_core::liveness::HOLD_FRAMES)
                            )></div>
                        </div>
                        <p class="lf-hint" data-testid="liveness-time">
                            {i18n.tf("liveness-time-left", &[("seconds", &seconds_left.to_string())])}
                        </p>
                        {offer_more.then(|| view! {
                            <button class="lf-button lf-secondary" data-testid="liveness-more-time" on:click=more_time>
                                {move || i18n.t("liveness-more-time")}
                            </button>
                        })}
                    </div>
                }.into_any(),
                Live::Paused => view! {
                    <p class="lf-hint" data-testid="liveness-paused">{move || i18n.t("liveness-paused")}</p>
                }.into_any(),
                Live::Sending { done, total } => view! {
                    <p class="lf-hint" role="status" data-testid="liveness-sending">
                        {i18n.tf("liveness-sending", &[("done", &done.to_string()), ("total", &total.to_string())])}
                    </p>
                }.into_any(),
                Live::Failed { device, reasons, left } => {
                    let key = device.map_or_else(|| server_reason_key(&reasons), outcome_key);
                    view! {
                        <div class="lf-liveness-failed" role="alert">
                            <p
                                data-testid="liveness-failed"
                                data-outcome=match device {
                                    Some(StepOutcome::WrongDirection) => "wrong_direction",
                                    Some(StepOutcome::TimedOut) => "timed_out",
                                    Some(StepOutcome::Passed) => "passed",
                                    None => "server",
                                }
                                data-server-reasons=reasons.join(",")
                            >
                                {i18n.t(key)}
                            </p>
                            <p class="lf-hint" data-testid="liveness-attempts-left">
                                {i18n.tf("liveness-attempts-left", &[("count", &left.to_string())])}
                            </p>
                            <button class="lf-button" data-testid="liveness-retry" on:click=move |_| start()>
                                {move || i18n.t("liveness-retry")}
                            </button>
                        </div>
                    }.into_any()
                }
                Live::SendFailed { code } => view! {
                    <div role="alert">
                        <p data-testid="liveness-send-failed">{i18n.tf("liveness-send-failed", &[("code", &code)])}</p>
                        <button class="lf-button" data-testid="liveness-resend" on:click=resend.clone()>
                            {move || i18n.t("error-retry")}
                        </button>
                    </div>
                }.into_any(),
                Live::Passed => view! {
                    <p class="lf-hint" role="status" data-testid="liveness-passed">{move || i18n.t("liveness-passed")}</p>
                }.into_any(),
            }}
            <p class="lf-hint" role="status" hidden=move || !detector_failed.get()>
                {move || i18n.t("liveness-no-detector")}
            </p>
            // No dead end where the detector cannot run (Safari before 16.4 has no wasm SIMD):
            // the same session continues on another phone.
            <Show when=move || detector_failed.get()>
                <HandoffPanel/>
            </Show>
        </div>
    }
}

/// The panel's signals the loop updates.
#[derive(Clone, Copy)]
struct Signals {
    state: RwSignal<Live>,
    /// The best face's box height (frame fraction, 0 without a face): shown as `data-face-h`.
    face_h: RwSignal<f32>,
    /// Before "Start": what to fix about the face.
    pre_hint: RwSignal<Option<SelfieHint>>,
    detector_failed: RwSignal<bool>,
    marks: Marks,
}

/// The panel's loop, from the first live frame until the step goes: frames to the detector;
/// before an attempt, guidance; during one, the attempt's verdicts on screen, the pixels of the
/// frames it keeps, and the evidence it names encoded and uploaded at once; when it ends,
/// [`finish_attempt`] (the loop waits for it). Makes the per-frame callback of
/// [`use_frame_loop`]; `None` without a canvas to grab frames with.
#[allow(clippy::too_many_arguments)]
fn panel_loop(
    ctx: CaptureCtx,
    video: HtmlVideoElement,
    sig: Signals,
    run: StoredValue<SharedRun, LocalStorage>,
    feed: UseFaceFeed,
    live: Signal<bool>,
    track: Signal<Option<camera::TrackInfo>>,
) -> Option<impl FnMut() -> Tick> {
    let state = sig.state;
    let Some(mut grabber) = FrameGrabber::new() else {
        sig.detector_failed.set(true);
        feed.stop();
        return None;
    };
    let jpeg = JpegCanvas::new();
    let mut paused = false;
    let mut holder: HintHolder<SelfieHint> = HintHolder::new(HINT_MIN_HOLD_MS);
    Some(move || {
        let Some(r) = run.try_get_value() else {
            return Tick::Stop;
        };
        let now = now_ms();
        let active = live.try_get_untracked().unwrap_or(false) && camera::page_visible();
        // The detector may be unavailable: the clock still runs (no face), never a hang.
        let frame = if feed.has_failed() {
            let _ = sig.detector_failed.try_set(true);
            Some((FaceFrame::default(), None))
        } else {
            if active {
                feed.feed(&mut grabber, &video, grab_edge);
            }
            // The answer to the previous frame sent, with the pixels the detector analysed (the
            // grabber's canvas already holds the next frame).
            feed.take_with_pixels()
        };
        if let Some((f, _)) = &frame {
            let h = f.faces.first().map_or(0.0, |b| b.h);
            if (sig.face_h.try_get_untracked().unwrap_or(0.0) - h).abs() > 0.001 {
                let _ = sig.face_h.try_set(h);
            }
        }
        let running = r.borrow().as_ref().is_some_and(|run| !run.ended);
        if !running {
            if let Some((f, _)) = &frame {
                let hint = if landscape_phone() {
                    Some(SelfieHint::RotatePhone)
                } else {
                    liveform_core::selfie::assess(f).hint
                };
                let shown = holder.update(now, hint);
                if sig.pre_hint.try_get_untracked() != Some(shown) {
                    let _ = sig.pre_hint.try_set(shown);
                }
            }
            return Tick::Next;
        }
        let tick = {
            let mut b = r.borrow_mut();
            let Some(run) = b.as_mut() else {
                return Tick::Next;
            };
            if !active {
                if !paused {
                    run.attempt.pause(now);
                    paused = true;
                    let _ = state.try_set(Live::Paused);
                }
                return Tick::Next;
            }
            if paused {
                run.attempt.resume(now);
                paused = false;
            }
            let Some((frame, pixels)) = frame else {
                return Tick::Next;
            };
            let tick = run.attempt.push(&frame, now);
            // This frame (`tick.seq`) may be named as evidence later: hold its pixels.
            if tick.keep {
                if let Some(p) = pixels {
                    run.keep(tick.seq, p);
                }
            }
            let offer = run.attempt.offer_extension(now);
            (tick, offer)
        };
        let (tick, offer) = tick;
        let ended = matches!(
            tick.state,
            AttemptState::Passed | AttemptState::Failed { .. }
        );
        if ended {
            let _ = sig.marks.last_frame.try_set(Some(perf_now()));
        }
        if let Some(ev) = tick.upload {
            send_evidence(&ctx, &r, jpeg.as_ref(), ev);
        }
        match tick.state {
            AttemptState::Running {
                step,
                challenge,
                held,
                wrong_way,
                hint,
                remaining_ms,
            } => {
                let next = Live::Running {
                    step,
                    challenge,
                    held,
                    wrong_way,
                    hint,
                    seconds_left: remaining_ms.div_ceil(1000),
                    offer_more: offer,
                };
                if state.try_get_untracked().as_ref() != Some(&next) {
                    let _ = state.try_set(next);
                }
            }
            AttemptState::Paused => {}
            AttemptState::Passed | AttemptState::Failed { .. } => {
                if let Some(run) = r.borrow_mut().as_mut() {
                    run.ended = true;
                    run.ring.clear();
                }
                holder.reset();
                return Tick::Wait(Box::pin(finish_attempt(
                    ctx.clone(),
                    state,
                    run,
                    track,
                    sig.marks,
                )));
            }
        }
        Tick::Next
    })
}

/// Waits for the evidence still on its way (most of it left during the attempt), records the
/// attempt with the server, and shows the server's outcome: the next step on a pass, "Try again"
/// on a failure, the coded page (`SE-50021`) after the last one.
async fn finish_attempt(
    ctx: CaptureCtx,
    state: RwSignal<Live>,
    run: StoredValue<SharedRun, LocalStorage>,
    track: Signal<Option<camera::TrackInfo>>,
    marks: Marks,
) {
    let Some(r) = run.try_get_value() else { return };
    loop {
        let (pending, busy, done) = {
            let b = r.borrow();
            let Some(run) = b.as_ref() else { return };
            (run.attempt.frames_pending(), run.busy, run.stored)
        };
        let next = Live::Sending {
            done,
            total: done + pending,
        };
        if state.try_get_untracked().as_ref() != Some(&next) {
            let _ = state.try_set(next);
        }
        // All stored, or nothing more on its way (a frame refused or not encoded: the server
        // judges what arrived).
        if pending == 0 || busy == 0 {
            break;
        }
        sleep(20).await;
    }
    let (record, attempt_id, last_id) = {
        let info = track.try_get_untracked().flatten().unwrap_or_default();
        let t = TrackInfo {
            virtual_label: is_virtual_label(&info.label),
            label: info.label,
            width: info.width,
            height: info.height,
            frame_rate: info.frame_rate as f32,
            facing_mode: Some("user".into()),
        };
        let b = r.borrow();
        let Some(run) = b.as_ref() else { return };
        (
            run.attempt.record(t),
            run.attempt_id.clone(),
            run.last_id.clone(),
        )
    };
    let Some(mut record) = record else {
        let _ = state.try_set(Live::SendFailed {
            code: ErrorCode::Runtime.id().to_owned(),
        });
        return;
    };
    record.attempt_id = attempt_id;
    let answer: Result<LivenessAnswer, _> = api::post_liveness(&ctx.config.token, &record).await;
    match answer {
        Ok(a) => {
            let _ = marks.outcome.try_set(Some(perf_now()));
            match a.outcome {
                AttemptsOutcome::Passed => {
                    let _ = state.try_set(Live::Passed);
                    sleep(PASSED_PAUSE_MS).await;
                    if let Some(id) =
                        last_id.or_else(|| record.frame_ids().last().map(str::to_owned))
                    {
                        ctx.emit(CaptureEvent::Captured {
                            slot: CaptureSlot::Liveness,
                            capture_id: id,
                        });
                    }
                }
                AttemptsOutcome::Retry => {
                    // The device's own failure, if it failed; else the server's check did not
                    // confirm what the device saw.
                    let device = (!record.passed).then(|| {
                        record
                            .steps
                            .last()
                            .map(|s| s.outcome)
                            .unwrap_or(StepOutcome::TimedOut)
                    });
                    let _ = state.try_set(Live::Failed {
                        device,
                        reasons: a.reasons,
                        left: a.attempts_left.min(MAX_ATTEMPTS),
                    });
                }
                AttemptsOutcome::Failed => {
                    ctx.emit(CaptureEvent::Failed {
                        code: a
                            .error_code
                            .unwrap_or_else(|| ErrorCode::LivenessFailed.id().to_owned()),
                    });
                }
            }
        }
        Err(e) if e.code == ErrorCode::LivenessFailed.id() => {
            let _ = marks.outcome.try_set(Some(perf_now()));
            ctx.emit(CaptureEvent::Failed { code: e.code });
        }
        Err(e) => {
            let _ = state.try_set(Live::SendFailed { code: e.code });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_grabbed_large_enough_for_the_server() {
        // 4:3 and 16:9 cameras, either way up: 320 on the long edge.
        assert_eq!(grab_edge(640, 480), 320);
        assert_eq!(grab_edge(1280, 720), 320);
        assert_eq!(grab_edge(720, 1280), 320);
        // Wider than 16:9: larger, so that the shorter side still reaches 180.
        assert_eq!(grab_edge(640, 240), 480);
        assert_eq!(grab_edge(2560, 1080), 427);
        assert_eq!(grab_edge(0, 0), 320);
        // The grabber's rounding (FrameGrabber::grab) keeps the shorter side at 180 or more.
        for (w, h) in [
            (640u32, 240u32),
            (2560, 1080),
            (1280, 720),
            (1000, 333),
            (333, 1000),
        ] {
            let scale = f64::from(grab_edge(w, h)) / f64::from(w.max(h));
            let short = (f64::from(w.min(h)) * scale).round();
            assert!(short >= 180.0, "{w}x{h}: {short}");
        }
    }
}
