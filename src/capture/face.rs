//! Selfie and active liveness on the face detector (the `face/` worker, off the main thread):
//! the selfie gate (oval guide, held hints, auto-capture, the manual shutter after a few seconds)
//! and the liveness panel (the session's challenge sequence, checked on device by
//! `liveform_core::liveness::Attempt`, frames uploaded for the server's passive check, the
//! attempt recorded with `POST /api/session/liveness`, three failures → `SE-50021`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::api::CaptureList;
use liveform_core::capture::is_virtual_label;
use liveform_core::face::FaceFrame;
use liveform_core::flow::CaptureSlot;
use liveform_core::liveness::{
    AttemptState, AttemptsOutcome, Challenge, LivenessAnswer, StepOutcome, TrackInfo, MAX_ATTEMPTS,
};
use liveform_core::selfie::{SelfieAutoCapture, SelfieHint};
use liveform_core::vision::{HintHolder, HINT_MIN_HOLD_MS};
use liveform_core::ErrorCode;

use crate::browser::api;
use crate::browser::camera::{self, FrameGrabber};
use crate::browser::face::FaceWorker;
use crate::capture::gate::{now_ms, ShutterClock};
use crate::capture::handoff::HandoffPanel;
use crate::capture::upload::{sleep, upload_quiet};
use crate::capture::{use_capture, CaptureCtx, CaptureEvent};
use crate::i18n::use_i18n;

/// Frames go to the detector at this long edge (BlazeFace works at 128 px; the face box's
/// brightness and sharpness are measured on this frame).
const FACE_GRAB_EDGE: u32 = 256;
/// How often the loop looks for a new frame (the worker takes one at a time: a slow phone just
/// analyses fewer).
const LOOP_MS: u32 = 100;
/// Liveness frames sent for the server's passive check: long edge and JPEG quality.
const FRAME_EDGE: u32 = 640;
const FRAME_QUALITY: f64 = 0.85;

/// A phone held sideways: a touch screen in landscape with little height.
pub fn landscape_phone() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(orientation: landscape) and (pointer: coarse) and (max-height: 600px)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}

/// The detector worker and the latest answer not yet read.
#[derive(Clone)]
pub struct FaceFeed {
    worker: Rc<RefCell<Option<FaceWorker>>>,
    latest: Rc<RefCell<Option<FaceFrame>>>,
    /// Detection could not start (old browser without wasm SIMD, blocked download).
    pub failed: Rc<Cell<bool>>,
    /// The last detection time in the worker (ms), for the page's diagnostics.
    pub detect_ms: Rc<Cell<f64>>,
}

impl FaceFeed {
    pub fn start() -> FaceFeed {
        let latest: Rc<RefCell<Option<FaceFrame>>> = Rc::new(RefCell::new(None));
        let failed = Rc::new(Cell::new(false));
        let detect_ms = Rc::new(Cell::new(0.0));
        let (l, d, f) = (latest.clone(), detect_ms.clone(), failed.clone());
        let worker = match FaceWorker::spawn(move |r, ms| match r {
            Ok(frame) => {
                d.set(ms);
                *l.borrow_mut() = Some(frame);
            }
            Err(_) => f.set(true),
        }) {
            Ok(w) => Some(w),
            Err(_) => {
                failed.set(true);
                None
            }
        };
        FaceFeed {
            worker: Rc::new(RefCell::new(worker)),
            latest,
            failed,
            detect_ms,
        }
    }

    /// Sends the current preview frame when the worker is idle.
    pub fn feed(&self, grabber: &mut FrameGrabber, video: &web_sys::HtmlVideoElement) {
        let w = self.worker.borrow();
        let Some(worker) = w.as_ref() else { return };
        if !worker.is_ready() || worker.busy() {
            return;
        }
        if let Some((fw, fh, rgba)) = grabber.grab(video, FACE_GRAB_EDGE) {
            worker.send(rgba, fw, fh);
        }
    }

    /// The newest analysed frame, once.
    pub fn take(&self) -> Option<FaceFrame> {
        self.latest.borrow_mut().take()
    }

    pub fn stop(&self) {
        if let Some(w) = self.worker.borrow_mut().take() {
            w.terminate();
        }
    }
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

    /// The loop: runs while `alive`, analyses only while `active()`, calls `capture` when the
    /// auto-capture fires.
    pub async fn run(
        self,
        video: web_sys::HtmlVideoElement,
        alive: StoredValue<bool>,
        active: impl Fn() -> bool + 'static,
        capture: impl Fn() + 'static,
    ) {
        let Some(mut grabber) = FrameGrabber::new() else {
            self.unavailable.set(true);
            self.manual.set(true);
            return;
        };
        let feed = FaceFeed::start();
        let mut auto = SelfieAutoCapture::default();
        let mut holder: HintHolder<SelfieHint> = HintHolder::new(HINT_MIN_HOLD_MS);
        let mut clock = ShutterClock::new(
            self.manual,
            self.resets,
            liveform_core::selfie::manual_shutter_available,
        );
        while alive.try_get_value() == Some(true) {
            sleep(LOOP_MS).await;
            let now = now_ms();
            if feed.failed.get() && self.unavailable.try_get_untracked() == Some(false) {
                let _ = self.unavailable.try_set(true);
                let _ = self.manual.try_set(true);
            }
            if clock.tick(now) {
                auto.reset();
                holder.reset();
            }
            if !active() {
                continue;
            }
            if landscape_phone() {
                auto.reset();
                let shown = holder.update(now, Some(SelfieHint::RotatePhone));
                if self.hint.try_get_untracked() != Some(shown) {
                    let _ = self.hint.try_set(shown);
                }
                let _ = self.good.try_set(0);
                continue;
            }
            feed.feed(&mut grabber, &video);
            let Some(frame) = feed.take() else { continue };
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
        }
        feed.stop();
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
    /// Sending the frames and the record.
    Sending { done: usize, total: usize },
    /// The attempt failed; `left` attempts remain.
    Failed { outcome: StepOutcome, left: u8 },
    /// Sending failed: try again (the frames are kept).
    SendFailed { code: String },
    /// Passed and recorded: the flow moves on.
    Passed,
}

fn outcome_key(o: StepOutcome) -> &'static str {
    match o {
        StepOutcome::Passed => "liveness-passed",
        StepOutcome::WrongDirection => "liveness-failed-wrong-way",
        StepOutcome::TimedOut => "liveness-failed-timeout",
    }
}

/// Where the liveness step stands on the server: the session's challenges (not in the flow the
/// main app hands over), the attempts stored so far, and their outcome.
async fn standing(token: &str) -> Option<CaptureList> {
    api::get_with_session("/api/session/captures", token)
        .await
        .ok()
}

/// What the running attempt needs between ticks and clicks.
struct Run {
    attempt: liveform_core::liveness::Attempt,
    /// `(step, jpeg)` frames grabbed, uploaded when the attempt ends.
    frames: Vec<(usize, web_sys::Blob)>,
    /// Passed or failed: no more frames go to it.
    ended: bool,
}

/// The liveness step's panel under the preview. `live()` says the preview is running; `track`
/// is the camera's (recorded with the attempt); the feed's worker is started here.
#[component]
pub fn LivenessPanel(
    video: NodeRef<leptos::html::Video>,
    #[prop(into)] live: Signal<bool>,
    track: StoredValue<Option<camera::TrackInfo>, LocalStorage>,
    alive: StoredValue<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let ctx = use_capture();
    let state = RwSignal::new(Live::Intro);
    let seq: RwSignal<Option<Vec<Challenge>>> = RwSignal::new(None);
    let load_failed = RwSignal::new(false);
    let detector_failed = RwSignal::new(false);
    // The next attempt's number (the server refuses a repeated one; a reload asks it again).
    let next_attempt = RwSignal::new(1u8);
    let run: Rc<RefCell<Option<Run>>> = Rc::new(RefCell::new(None));
    let run_sv = StoredValue::new_local(run.clone());
    let load = {
        let ctx = ctx.clone();
        move || {
            let ctx = ctx.clone();
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
                let _ = next_attempt.try_set(list.liveness_attempts.saturating_add(1));
                let _ = seq.try_set(Some(list.liveness));
            });
        }
    };
    load();
    let reload = {
        let load = load.clone();
        move |_| load()
    };

    let start = {
        move || {
            let Some(challenges) = seq.get_untracked() else {
                return;
            };
            let number = next_attempt.get_untracked();
            let attempt = liveform_core::liveness::Attempt::new(number, challenges, now_ms());
            if let Some(r) = run_sv.try_get_value() {
                *r.borrow_mut() = Some(Run {
                    attempt,
                    frames: Vec::new(),
                    ended: false,
                });
            }
            state.set(Live::Running {
                step: 0,
                challenge: seq
                    .get_untracked()
                    .and_then(|s| s.first().copied())
                    .unwrap_or(Challenge::Centre),
                held: 0,
                wrong_way: false,
                hint: None,
                seconds_left: liveform_core::liveness::STEP_TIME_MS / 1000,
                offer_more: false,
            });
        }
    };
    // The detector runs from the moment the preview is live: before "Start" it guides the face
    // into the oval; then it feeds the attempt.
    let face_h = RwSignal::new(0.0f32);
    let pre_hint: RwSignal<Option<SelfieHint>> = RwSignal::new(Some(SelfieHint::NoFace));
    {
        let ctx = ctx.clone();
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            if !live.get() {
                return false;
            }
            let Some(v) = video.get_untracked() else {
                return false;
            };
            spawn_local(panel_loop(
                ctx.clone(),
                v,
                Signals {
                    state,
                    face_h,
                    pre_hint,
                    detector_failed,
                    next_attempt,
                },
                run_sv,
                alive,
                live,
                track,
            ));
            true
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
            spawn_local(finish_attempt(
                ctx.clone(),
                state,
                run_sv,
                track,
                next_attempt,
            ));
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

    view! {
        <div class="lf-liveness" data-testid="liveness" data-face-h=move || format!("{:.3}", face_h.get()) data-state=move || match state.get() {
            Live::Intro => "intro",
            Live::Running { .. } => "running",
            Live::Paused => "paused",
            Live::Sending { .. } => "sending",
            Live::Failed { .. } => "failed",
            Live::SendFailed { .. } => "send-failed",
            Live::Passed => "passed",
        }>
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
                        <button class="lf-button lf-secondary" hidden=move || !load_failed.get() on:click=reload.clone()>
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
                Live::Failed { outcome, left } => view! {
                    <div class="lf-liveness-failed" role="alert">
                        <p data-testid="liveness-failed" data-outcome=match outcome {
                            StepOutcome::WrongDirection => "wrong_direction",
                            StepOutcome::TimedOut => "timed_out",
                            StepOutcome::Passed => "passed",
                        }>{i18n.t(outcome_key(outcome))}</p>
                        <p class="lf-hint" data-testid="liveness-attempts-left">
                            {i18n.tf("liveness-attempts-left", &[("count", &left.to_string())])}
                        </p>
                        <button class="lf-button" data-testid="liveness-retry" on:click=move |_| start()>
                            {move || i18n.t("liveness-retry")}
                        </button>
                    </div>
                }.into_any(),
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
    next_attempt: RwSignal<u8>,
}

/// The panel's loop, from the first live frame until the step goes: frames to the detector;
/// before an attempt, guidance; during one, the attempt's verdicts on screen and frames grabbed
/// when it asks; when it ends, [`finish_attempt`].
#[allow(clippy::too_many_arguments)]
async fn panel_loop(
    ctx: CaptureCtx,
    video: web_sys::HtmlVideoElement,
    sig: Signals,
    run: StoredValue<Rc<RefCell<Option<Run>>>, LocalStorage>,
    alive: StoredValue<bool>,
    live: Signal<bool>,
    track: StoredValue<Option<camera::TrackInfo>, LocalStorage>,
) {
    let state = sig.state;
    let Some(mut grabber) = FrameGrabber::new() else {
        sig.detector_failed.set(true);
        return;
    };
    let feed = FaceFeed::start();
    let mut paused = false;
    let mut holder: HintHolder<SelfieHint> = HintHolder::new(HINT_MIN_HOLD_MS);
    loop {
        sleep(LOOP_MS).await;
        if alive.try_get_value() != Some(true) {
            feed.stop();
            return;
        }
        let Some(r) = run.try_get_value() else {
            feed.stop();
            return;
        };
        let now = now_ms();
        let active = live.try_get_untracked().unwrap_or(false) && camera::page_visible();
        // The detector may be unavailable: the clock still runs (no face), never a hang.
        let frame = if feed.failed.get() {
            let _ = sig.detector_failed.try_set(true);
            Some(FaceFrame::default())
        } else {
            if active {
                feed.feed(&mut grabber, &video);
            }
            feed.take()
        };
        if let Some(f) = &frame {
            let h = f.faces.first().map_or(0.0, |b| b.h);
            if (sig.face_h.try_get_untracked().unwrap_or(0.0) - h).abs() > 0.001 {
                let _ = sig.face_h.try_set(h);
            }
        }
        let running = r.borrow().as_ref().is_some_and(|run| !run.ended);
        if !running {
            if let Some(f) = &frame {
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
            continue;
        }
        let tick = {
            let mut b = r.borrow_mut();
            let Some(run) = b.as_mut() else { continue };
            if !active {
                if !paused {
                    run.attempt.pause(now);
                    paused = true;
                    let _ = state.try_set(Live::Paused);
                }
                continue;
            }
            if paused {
                run.attempt.resume(now);
                paused = false;
            }
            let Some(frame) = frame else { continue };
            let tick = run.attempt.push(&frame, now);
            let offer = run.attempt.offer_extension(now);
            (tick, offer)
        };
        let (tick, offer) = tick;
        if let Some(g) = tick.grab {
            if let Some(blob) = camera::still_jpeg(&video, FRAME_EDGE, FRAME_QUALITY).await {
                if let Some(run) = r.borrow_mut().as_mut() {
                    run.frames.push((g.step, blob));
                }
            }
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
                }
                holder.reset();
                finish_attempt(ctx.clone(), state, run, track, sig.next_attempt).await;
            }
        }
    }
}

/// Uploads the attempt's frames, records it with the server, and moves on: the next step on a
/// pass, "Try again" on a failure, the coded page (`SE-50021`) after the last one.
async fn finish_attempt(
    ctx: CaptureCtx,
    state: RwSignal<Live>,
    run: StoredValue<Rc<RefCell<Option<Run>>>, LocalStorage>,
    track: StoredValue<Option<camera::TrackInfo>, LocalStorage>,
    next_attempt: RwSignal<u8>,
) {
    let Some(r) = run.try_get_value() else { return };
    let frames: Vec<(usize, web_sys::Blob)> = match r.borrow_mut().as_mut() {
        Some(run) => std::mem::take(&mut run.frames),
        None => return,
    };
    let total = frames.len();
    let mut left = Vec::new();
    let mut failure = None;
    let mut last_id = None;
    for (i, (step, blob)) in frames.into_iter().enumerate() {
        let _ = state.try_set(Live::Sending { done: i, total });
        if failure.is_some() {
            left.push((step, blob));
            continue;
        }
        match upload_quiet(&ctx, CaptureSlot::Liveness, blob.clone(), "image/jpeg").await {
            Ok(id) => {
                if let Some(run) = r.borrow_mut().as_mut() {
                    run.attempt.add_frame(step, id.clone());
                }
                last_id = Some(id);
            }
            Err(code) => {
                failure = Some(code);
                left.push((step, blob));
            }
        }
    }
    if let Some(code) = failure {
        if let Some(run) = r.borrow_mut().as_mut() {
            run.frames = left;
        }
        let _ = state.try_set(Live::SendFailed { code });
        return;
    }
    let _ = state.try_set(Live::Sending { done: total, total });
    let record = {
        let info = track.try_get_value().flatten().unwrap_or_default();
        let t = TrackInfo {
            virtual_label: is_virtual_label(&info.label),
            label: info.label,
            width: info.width,
            height: info.height,
            frame_rate: info.frame_rate as f32,
            facing_mode: Some("user".into()),
        };
        r.borrow().as_ref().and_then(|run| run.attempt.record(t))
    };
    let Some(record) = record else {
        let _ = state.try_set(Live::SendFailed {
            code: ErrorCode::Runtime.id().to_owned(),
        });
        return;
    };
    let number = record.attempt;
    let answer: Result<LivenessAnswer, _> =
        api::post_with_session("/api/session/liveness", &ctx.config.token, Some(&record)).await;
    match answer {
        Ok(a) => {
            let _ = next_attempt.try_set(number.saturating_add(1));
            match a.outcome {
                AttemptsOutcome::Passed => {
                    let _ = state.try_set(Live::Passed);
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
                    let outcome = record
                        .steps
                        .last()
                        .map(|s| s.outcome)
                        .unwrap_or(StepOutcome::TimedOut);
                    let _ = state.try_set(Live::Failed {
                        outcome,
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
            ctx.emit(CaptureEvent::Failed { code: e.code });
        }
        Err(e) => {
            let _ = state.try_set(Live::SendFailed { code: e.code });
        }
    }
}
