//! The capture steps: the camera preview with its permission primer and every way around a camera
//! that does not work (recovery steps, the integrator's missing `allow="camera"`, in-app browsers,
//! continuing on a phone, a file picker where the project allows it).

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::capture::{CameraError, Facing, Recovery};
use liveform_core::document::{mrz_layout_on, read_still, MrzLayout};
use liveform_core::flow::Step;
use liveform_core::vision::{
    manual_shutter_available, Analyser, AutoCapture, AutoCaptureConfig, CaptureDecision,
    DocumentKind, HintHolder, Issue, HINT_MIN_HOLD_MS,
};
use liveform_core::IdType;

use crate::face::{LivenessPanel, OvalGuide, SelfieGate};
use crate::gate::ShutterClock;
use crate::help::CameraProblem;
use crate::{upload, use_capture, CaptureCtx};
use liveform_core::capture::is_virtual_label;
use liveform_ui::i18n::use_i18n;
use liveform_web::camera::{self, CameraState, FrameGrabber, Permission};
use liveform_web::hooks::{use_camera, use_frame_loop, use_permission_watch, Tick};
use liveform_web::time::{now_ms, perf_now};
use liveform_web::{dom, Blob, HtmlVideoElement};

/// Where the camera part of a capture step is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Checking what the browser allows (no prompt yet).
    Checking,
    /// The primer: what the camera is for; the browser prompt only after the tap.
    Primer,
    Starting,
    Live {
        can_switch: bool,
    },
    /// The page is hidden: the camera is released until it is shown again.
    Paused,
    Problem(CameraError),
}

fn facing_of(step: Step) -> Facing {
    match step {
        Step::Selfie | Step::Liveness => Facing::User,
        _ => Facing::Environment,
    }
}

/// The camera part of a capture step (the main app draws the frame, heading and Back around it).
#[component]
pub fn CaptureView() -> impl IntoView {
    let i18n = use_i18n();
    let ctx = use_capture();
    let step = ctx.config.step;
    let is_capture = step.slot().is_some();
    let phase = RwSignal::new(Phase::Checking);
    let video = NodeRef::<leptos::html::Video>::new();
    // The camera (closed with the view); its running track is recorded with a liveness attempt,
    // and a virtual camera (OBS, ManyCam…) is refused for the selfie and liveness steps.
    let cam = use_camera(video, facing_of(step));
    let virtual_cam = RwSignal::new(false);
    let face_step = matches!(step, Step::Selfie | Step::Liveness);
    // Set after a denial: from then on the Permissions API is watched (until the view goes).
    let watch_grant = RwSignal::new(false);
    let permission = use_permission_watch(watch_grant.into());

    let start = move || {
        // The result arrives through the camera's state.
        if cam.start() {
            phase.set(Phase::Starting);
        }
    };

    // After a denial, retry by itself as soon as the Permissions API reports the camera allowed
    // (the person changed the site setting without reloading).
    let watch_for_grant = move || {
        if watch_grant.try_get_untracked() == Some(false) {
            watch_grant.set(true);
        }
    };
    // Only a change counts (as with the `change` event): not the first reading after a denial.
    Effect::new(move |before: Option<Permission>| {
        let now = permission.get();
        if before.is_some_and(|b| b != now && b != Permission::Unknown)
            && now == Permission::Granted
            && matches!(phase.get_untracked(), Phase::Problem(_) | Phase::Primer)
        {
            start();
        }
        now
    });

    if is_capture {
        Effect::new(move |_| {
            let Some(s) = cam.state.get() else { return };
            let p = match s {
                CameraState::Starting => Phase::Starting,
                CameraState::Live {
                    can_switch,
                    track: t,
                } => {
                    let v = face_step && is_virtual_label(&t.label);
                    if virtual_cam.try_get_untracked() != Some(v) {
                        let _ = virtual_cam.try_set(v);
                    }
                    Phase::Live { can_switch }
                }
                CameraState::Paused => Phase::Paused,
                CameraState::Failed(CameraError::Aborted) if !camera::page_visible() => {
                    Phase::Paused
                }
                CameraState::Failed(e) => Phase::Problem(e),
            };
            // Same phase again (e.g. a retry that fails the same way): keep the screen as it
            // is, with whatever the person had opened on it.
            if phase.try_get_untracked().as_ref() != Some(&p) {
                let _ = phase.try_set(p);
            }
        });
        video.on_load(move |_| {
            if let Err(e) = camera::check() {
                phase.set(Phase::Problem(e));
                return;
            }
            spawn_local(async move {
                match camera::permission().await {
                    Permission::Granted => start(),
                    Permission::Denied => {
                        phase.set(Phase::Problem(CameraError::Denied));
                        watch_for_grant();
                    }
                    _ => phase.set(Phase::Primer),
                }
            });
        });
    }

    Effect::new(move |_| {
        if let Phase::Problem(e) = phase.get() {
            if e.recovery() == Recovery::RetryAfterSettings {
                watch_for_grant();
            }
        }
    });

    let live = move || matches!(phase.get(), Phase::Live { .. }) && !virtual_cam.get();
    // The same, untracked and safe to call after the view is gone (the analysis loops).
    let live_now = move || {
        phase.try_with_untracked(|p| matches!(p, Phase::Live { .. })) == Some(true)
            && virtual_cam.try_get_untracked() == Some(false)
    };
    let slot = step.slot();
    let kind = document_kind(&ctx);
    // Never for liveness: a chosen photo cannot show a live movement.
    let upload_allowed = ctx.config.allow_file_upload && slot.is_some() && step != Step::Liveness;
    // A photo taken (or chosen) and waiting for "Use this photo" / "Retake".
    let still: RwSignal<Option<String>> = RwSignal::new(None);
    let still_blob: StoredValue<Option<Blob>, LocalStorage> = StoredValue::new_local(None);
    // The gate's verdict when the still was taken (document sides; `None` for a photo from a file).
    let device_verdict: StoredValue<Option<&'static str>> = StoredValue::new(None);
    let is_document = document_kind(&ctx).is_some();
    let busy = RwSignal::new(false);
    let gate = DocumentGate::new();
    let selfie = SelfieGate::new();
    on_cleanup(move || {
        if let Some(Some(url)) = still.try_get_untracked() {
            dom::revoke_object_url(&url);
        }
    });

    // The side that carries the document's machine-readable zone: read on the photo before it
    // is sent; an unreadable zone offers a retake (the person may still use the photo).
    let mrz_layout = mrz_layout(&ctx);
    let mrz = RwSignal::new(MrzState::NotRead);
    let mrz_round = StoredValue::new(0u32);
    let read_mrz = move |blob: Blob| {
        let Some(layout) = mrz_layout else { return };
        mrz_round.update_value(|r| *r += 1);
        let round = mrz_round.get_value();
        mrz.set(MrzState::Reading);
        spawn_local(async move {
            // Let the preview paint before the read takes the thread.
            liveform_web::time::sleep(30).await;
            let state = match camera::blob_pixels(&blob).await {
                Some((w, h, rgba)) => {
                    let t = perf_now();
                    let data = read_still(&rgba, w as usize, h as usize, layout);
                    dom::mark("mrz-read-ms", &format!("{:.0}", perf_now() - t));
                    if data.is_some_and(|d| d.mrz_valid) {
                        MrzState::Valid
                    } else {
                        MrzState::Unreadable
                    }
                }
                // The browser cannot give the photo's pixels (no createImageBitmap: iOS before
                // 15): no verdict rather than a false "could not read"; the server reads the
                // upload and the finish screen says what it found.
                None => MrzState::NotRead,
            };
            if mrz_round.try_get_value() == Some(round) {
                let _ = mrz.try_set(state);
            }
        });
    };
    let show_still = move |blob: Blob| {
        if let Some(url) = dom::object_url(&blob) {
            read_mrz(blob.clone());
            still_blob.set_value(Some(blob));
            still.set(Some(url));
        }
    };
    let take = move || {
        if busy.get_untracked() || still.get_untracked().is_some() {
            return;
        }
        let Some(v) = video.get_untracked() else {
            return;
        };
        busy.set(true);
        // What the gate says of this frame: recorded by the server beside its own verdict.
        device_verdict
            .set_value(is_document.then(|| gate.hint.get_untracked().map_or("ok", |i| i.as_str())));
        spawn_local(async move {
            let blob = camera::still_jpeg(&v, STILL_LONG_EDGE, STILL_QUALITY).await;
            let _ = busy.try_set(false);
            if let Some(b) = blob {
                show_still(b);
            }
        });
    };
    let retake = move |_| {
        if let Some(url) = still.get_untracked() {
            dom::revoke_object_url(&url);
        }
        still_blob.set_value(None);
        still.set(None);
        mrz_round.update_value(|r| *r += 1);
        mrz.set(MrzState::NotRead);
        gate.reset();
        selfie.reset();
    };
    // "Use this photo": upload it (the flow moves on once the server holds it; the camera keeps
    // running meanwhile, so a refused photo can be taken again at once).
    let uploads = ctx.uploads.current();
    let uploading = move || uploads.with(Option::is_some);
    let confirm = move |_| {
        let (Some(slot), Some(blob)) = (slot, still_blob.get_value()) else {
            return;
        };
        if ctx.uploads.busy() {
            return;
        }
        ctx.uploads
            .send(slot, blob, "image/jpeg", device_verdict.get_value());
        if let Some(url) = still.get_untracked() {
            dom::revoke_object_url(&url);
        }
        still_blob.set_value(None);
        still.set(None);
    };

    // Documents: analyse the preview ~8 times a second, hold the guidance on screen, capture by
    // itself after a run of good frames; the shutter appears after a few seconds regardless.
    // The gates may take a picture only while the preview is live and nothing is on show, being
    // taken or being sent.
    let may_capture = move || {
        live_now()
            && still.try_with_untracked(Option::is_none) == Some(true)
            && busy.try_get_untracked() == Some(false)
            && uploads.try_with_untracked(Option::is_none) == Some(true)
    };
    if let Some(kind) = kind {
        gate.run(video, Signal::derive(live), kind, may_capture, take);
    }
    // The selfie: the face detector's gate (oval, held hints, auto-capture, manual shutter).
    if step == Step::Selfie {
        selfie.run(video, Signal::derive(live), may_capture, take);
    }
    let is_liveness = step == Step::Liveness;
    let manual_ok = move || match step {
        Step::Selfie => selfie.manual.get(),
        Step::Liveness => false,
        _ => kind.is_none() || gate.manual.get(),
    };
    let file_picked = move |ev: leptos::ev::Event| {
        let Some(file) = dom::take_picked_file(&ev) else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let blob = camera::photo_from_file(&file, STILL_LONG_EDGE, STILL_QUALITY).await;
            let _ = busy.try_set(false);
            match blob {
                Some(b) => {
                    device_verdict.set_value(None);
                    show_still(b)
                }
                None => gate.file_failed.set(true),
            }
        });
    };
    let capture_attr = match facing_of(step) {
        Facing::User => "user",
        Facing::Environment => "environment",
    };
    let switch = move |_| cam.switch_lens();

    view! {
            <div class="lf-capture" data-testid="capture" data-phase=move || phase_name(&phase.get())>
                {move || match phase.get() {
                    Phase::Primer => view! {
                        <div class="lf-primer" data-testid="camera-primer">
                            <p>{move || i18n.t("camera-primer-text")}</p>
                            <p class="lf-hint">{move || i18n.t("camera-primer-hint")}</p>
                            <button class="lf-button" data-testid="camera-allow" on:click=move |_| start()>
                                {move || i18n.t("camera-primer-allow")}
                            </button>
                        </div>
                    }.into_any(),
                    Phase::Problem(e) => view! {
                        <CameraProblem error=e retry=Callback::new(move |_| start())/>
                    }.into_any(),
                    Phase::Paused => view! {
                        <p class="lf-hint" data-testid="camera-paused">{move || i18n.t("camera-paused")}</p>
                    }.into_any(),
                    Phase::Starting | Phase::Checking => view! {
                        <p class="lf-hint" data-testid="camera-starting">{move || i18n.t("camera-starting")}</p>
                    }.into_any(),
                    Phase::Live { .. } => ().into_any(),
                }}
                {is_capture.then(|| view! {
                    <div
                        class=if face_step { "lf-preview lf-preview-face" } else { "lf-preview" }
                        hidden=move || !live() || still.get().is_some() || uploading()
                    >
                        <video node_ref=video data-testid="camera-video" aria-label=move || i18n.t("camera-preview-label")></video>
                        {kind.map(|k| view! {
                            <div
                                class=move || frame_class(gate.good.get())
                                data-kind=k.as_str()
                                aria-hidden="true"
                            ></div>
                        })}
                        {face_step.then(|| view! {
                            <OvalGuide good=Signal::derive(move || selfie.good.get() > 0)/>
                        })}
                    </div>
                    <div class="lf-camera-problem" role="alert" data-testid="camera-virtual" hidden=move || !virtual_cam.get()>
                        <p>{move || i18n.t("camera-virtual")}</p>
                        <button
                            class="lf-button lf-secondary"
                            hidden=move || !matches!(phase.get(), Phase::Live { can_switch: true })
                            on:click=switch
                        >
                            {move || i18n.t("camera-switch")}
                        </button>
                    </div>
                    {(step == Step::Selfie).then(|| view! {
                        <p
                            class="lf-guidance"
                            data-testid="capture-hint"
                            data-hint=move || selfie.hint_key()
                            aria-live="polite"
                            hidden=move || !live() || still.get().is_some() || uploading()
                        >
                            {move || i18n.t(&format!("selfie-hint-{}", selfie.hint_key()))}
                        </p>
                    })}
                    {is_liveness.then(|| view! {
                        <LivenessPanel video=video live=Signal::derive(live) track=cam.track/>
                    })}
                    {kind.map(|_| view! {
                        <p
                            class="lf-guidance"
                            data-testid="capture-hint"
                            data-hint=move || gate.hint_key()
                            aria-live="polite"
                            hidden=move || !live() || still.get().is_some() || uploading()
                        >
                            {move || i18n.t(&format!("capture-hint-{}", gate.hint_key()))}
                        </p>
                    })}
                    <div class="lf-actions" hidden=move || is_liveness || !live() || still.get().is_some() || uploading()>
                        <button
                            class="lf-button"
                            data-testid="shutter"
                            hidden=move || !manual_ok()
                            prop:disabled=move || busy.get()
                            on:click=move |_| take()
                        >
                            {move || i18n.t("camera-shutter")}
                        </button>
                        <button
                            class="lf-button lf-secondary"
                            data-testid="switch-camera"
                            hidden=move || !matches!(phase.get(), Phase::Live { can_switch: true })
                            on:click=switch
                        >
                            {move || i18n.t("camera-switch")}
                        </button>
                    </div>
                    <div class="lf-still" data-testid="capture-still" hidden=move || still.get().is_none()>
                        <img
                            data-testid="capture-preview"
                            alt=move || i18n.t("capture-preview-alt")
                            src=move || still.get().unwrap_or_default()
                        />
                        <p class="lf-hint">{move || i18n.t("capture-check")}</p>
                        {mrz_layout.map(|_| view! {
                            <p
                                class=move || if mrz.get() == MrzState::Unreadable { "lf-notice" } else { "lf-hint" }
                                data-testid="mrz-status"
                                data-mrz=move || mrz.get().name()
                                aria-live="polite"
                            >
                                {move || mrz.get().i18n_key().map(|k| i18n.t(k)).unwrap_or_default()}
                            </p>
                        })}
                        <div class="lf-actions">
                            <button
                                class=move || if mrz.get() == MrzState::Unreadable { "lf-button lf-secondary" } else { "lf-button" }
                                data-testid="capture-confirm"
                                on:click=confirm
                            >
                                {move || i18n.t(if mrz.get() == MrzState::Unreadable { "capture-confirm-anyway" } else { "capture-confirm" })}
                            </button>
                            <button
                                class=move || if mrz.get() == MrzState::Unreadable { "lf-button" } else { "lf-button lf-secondary" }
                                data-testid="capture-retake"
                                on:click=retake
                            >
                                {move || i18n.t("capture-retake")}
                            </button>
                        </div>
                    </div>
                    {upload_allowed.then(|| view! {
                        <div class="lf-file" hidden=move || still.get().is_some() || uploading()>
                            <label class="lf-link-button">
                                <input
                                    type="file"
                                    accept="image/*"
                                    capture=capture_attr
                                    class="lf-sr-only"
                                    data-testid="file-input"
                                    on:change=file_picked
                                />
                                {move || i18n.t("upload-instead")}
                            </label>
                            <p class="lf-hint" role="alert" hidden=move || !gate.file_failed.get()>
                                {move || i18n.t("upload-failed")}
                            </p>
                        </div>
                    })}
                    <upload::UploadArea/>
                })}
            </div>
    }
}

/// Long edge and JPEG quality of a capture: 1920 px keeps the MRZ legible; 0.9 stays under the
/// 450 KB budget for a full-HD document photo (scripts/bench.sh measures both).
const STILL_LONG_EDGE: u32 = 1920;
const STILL_QUALITY: f64 = 0.9;

/// Where the read of the machine-readable zone on a photo stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MrzState {
    /// No photo, or this side carries no zone.
    NotRead,
    Reading,
    /// Read with every check digit holding.
    Valid,
    /// Not found, or a check digit failed: a retake is offered.
    Unreadable,
}

impl MrzState {
    fn name(self) -> &'static str {
        match self {
            MrzState::NotRead => "none",
            MrzState::Reading => "reading",
            MrzState::Valid => "valid",
            MrzState::Unreadable => "unreadable",
        }
    }

    fn i18n_key(self) -> Option<&'static str> {
        match self {
            MrzState::NotRead => None,
            MrzState::Reading => Some("mrz-reading"),
            MrzState::Valid => Some("mrz-valid"),
            MrzState::Unreadable => Some("mrz-unreadable"),
        }
    }
}

/// The zone this step's side carries, for the chosen country and document type
/// (`core::document::mrz_placement`); `None` for every other step and document.
fn mrz_layout(ctx: &CaptureCtx) -> Option<MrzLayout> {
    let flow = ctx.config.flow.as_ref()?;
    mrz_layout_on(flow.country()?, flow.id_type()?, ctx.config.step.slot()?)
}

/// The document geometry for a document step: a passport's data page (TD3) or an ID-1 card.
fn document_kind(ctx: &CaptureCtx) -> Option<DocumentKind> {
    let slot = ctx.config.step.slot()?;
    if !slot.is_document() {
        return None;
    }
    let passport = ctx
        .config
        .flow
        .as_ref()
        .and_then(|f| f.id_type())
        .is_some_and(|t| t == IdType::Passport);
    Some(if passport {
        DocumentKind::Td3
    } else {
        DocumentKind::Id1
    })
}

/// The on-device quality gate's state, shared by the analysis loop and the view.
#[derive(Clone, Copy)]
struct DocumentGate {
    /// The hint on screen (held ≥ 1 s so it does not flicker), `None` while the frame is good.
    hint: RwSignal<Option<Issue>>,
    /// Consecutive good frames so far (the frame turns green).
    good: RwSignal<u32>,
    /// The manual shutter is offered (after a few seconds; never a dead end).
    manual: RwSignal<bool>,
    file_failed: RwSignal<bool>,
    resets: RwSignal<u32>,
}

impl DocumentGate {
    fn new() -> Self {
        DocumentGate {
            hint: RwSignal::new(Some(Issue::NoDocument)),
            good: RwSignal::new(0),
            manual: RwSignal::new(false),
            file_failed: RwSignal::new(false),
            resets: RwSignal::new(0),
        }
    }

    fn reset(&self) {
        self.good.set(0);
        self.resets.update(|r| *r += 1);
    }

    fn hint_key(&self) -> &'static str {
        match self.hint.get() {
            Some(i) => i.as_str(),
            None if self.good.get() > 0 => "hold",
            None => "ok",
        }
    }

    /// The analysis loop (from the first live frame until the view goes): analyses only while
    /// `active()`, calls `capture` when the auto-capture fires.
    fn run(
        self,
        video: NodeRef<leptos::html::Video>,
        live: Signal<bool>,
        kind: DocumentKind,
        active: impl Fn() -> bool + 'static,
        capture: impl Fn() + 'static,
    ) {
        use_frame_loop(live, ANALYSIS_INTERVAL_MS, move || {
            let video: HtmlVideoElement = video.get_untracked()?;
            let Some(mut grabber) = FrameGrabber::new() else {
                self.manual.set(true);
                return None;
            };
            let mut analyser = Analyser::new();
            let mut auto = AutoCapture::new(AutoCaptureConfig::default());
            let mut holder = HintHolder::new(HINT_MIN_HOLD_MS);
            let mut clock = ShutterClock::new(self.manual, self.resets, manual_shutter_available);
            Some(move || {
                let now = now_ms();
                if clock.tick(now) {
                    auto.reset();
                    holder.reset();
                }
                if !active() {
                    return Tick::Next;
                }
                let Some((w, h, rgba)) = grabber.grab(&video, ANALYSIS_GRAB_EDGE) else {
                    return Tick::Next;
                };
                let Ok(report) = analyser.analyse_rgba(rgba, w as usize, h as usize, kind) else {
                    return Tick::Next;
                };
                let shown = holder.update(now, report.primary);
                if self.hint.try_get_untracked() != Some(shown) {
                    let _ = self.hint.try_set(shown);
                }
                match auto.push(&report) {
                    CaptureDecision::Capture => {
                        let _ = self.good.try_set(0);
                        capture();
                    }
                    CaptureDecision::Wait { good_frames } => {
                        if self.good.try_get_untracked() != Some(good_frames) {
                            let _ = self.good.try_set(good_frames);
                        }
                    }
                    CaptureDecision::Done => {}
                }
                Tick::Next
            })
        });
    }
}

/// How often a preview frame is analysed, and at what size it is grabbed (the analyser works at
/// 320 px anyway).
const ANALYSIS_INTERVAL_MS: u32 = 120;
const ANALYSIS_GRAB_EDGE: u32 = 320;

fn frame_class(good_frames: u32) -> &'static str {
    if good_frames > 0 {
        "lf-doc-frame lf-doc-frame-ok"
    } else {
        "lf-doc-frame"
    }
}

fn phase_name(p: &Phase) -> &'static str {
    match p {
        Phase::Checking => "checking",
        Phase::Primer => "primer",
        Phase::Starting => "starting",
        Phase::Live { .. } => "live",
        Phase::Paused => "paused",
        Phase::Problem(_) => "problem",
    }
}
