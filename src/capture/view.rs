//! The capture steps: the camera preview with its permission primer and every way around a camera
//! that does not work (recovery steps, the integrator's missing `allow="camera"`, in-app browsers,
//! continuing on a phone, a file picker where the project allows it).

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::capture::{CameraError, Facing, Recovery};
use liveform_core::flow::Step;

use crate::browser::camera::{self, Camera, CameraState, Permission, PermissionWatch};
use crate::capture::help::CameraProblem;
use crate::capture::{still, upload, use_capture};
use crate::i18n::use_i18n;

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
    let cam: StoredValue<Option<Camera>, LocalStorage> = StoredValue::new_local(None);
    let watch: StoredValue<Option<PermissionWatch>, LocalStorage> = StoredValue::new_local(None);

    let start = move || {
        let Some(c) = cam.get_value() else { return };
        phase.set(Phase::Starting);
        spawn_local(async move {
            // The result arrives through the state callback.
            let _ = c.start().await;
        });
    };

    // After a denial, retry by itself as soon as the Permissions API reports the camera allowed
    // (the person changed the site setting without reloading).
    let watch_for_grant = move || {
        spawn_local(async move {
            let w = camera::watch_permission(move |p| {
                if p == Permission::Granted
                    && matches!(phase.get_untracked(), Phase::Problem(_) | Phase::Primer)
                {
                    start();
                }
            })
            .await;
            watch.set_value(Some(w));
        });
    };

    if is_capture {
        video.on_load(move |el| {
            let el: web_sys::HtmlVideoElement = el;
            let c = Camera::new(el, facing_of(step), move |s| {
                let p = match s {
                    CameraState::Starting => Phase::Starting,
                    CameraState::Live { can_switch, .. } => Phase::Live { can_switch },
                    CameraState::Paused => Phase::Paused,
                    CameraState::Failed(CameraError::Aborted) if !camera::page_visible() => {
                        Phase::Paused
                    }
                    CameraState::Failed(e) => Phase::Problem(e),
                };
                // Same phase again (e.g. a retry that fails the same way): keep the screen as
                // it is, with whatever the person had opened on it.
                if phase.get_untracked() != p {
                    phase.set(p);
                }
            });
            cam.set_value(Some(c));
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
        on_cleanup(move || {
            if let Some(c) = cam.try_get_value().flatten() {
                c.close();
            }
            let _ = watch.try_update_value(|w| w.take());
        });
    }

    Effect::new(move |_| {
        if let Phase::Problem(e) = phase.get() {
            if e.recovery() == Recovery::RetryAfterSettings {
                watch_for_grant();
            }
        }
    });

    let live = move || matches!(phase.get(), Phase::Live { .. });
    let shutter = move |_| {
        // A JPEG of the current frame, uploaded; the flow moves on once the server holds it
        // (`upload::UploadArea` shows the progress).
        let (Some(slot), Some(v)) = (step.slot(), video.get_untracked()) else {
            return;
        };
        if upload::busy(&ctx) {
            return;
        }
        let ctx = ctx.clone();
        spawn_local(async move {
            match still::capture_jpeg(&v).await {
                Some(blob) => {
                    upload::upload(&ctx, slot, blob, "image/jpeg");
                }
                None => {
                    upload::failed(&ctx, slot, liveform_core::ErrorCode::Runtime);
                }
            }
        });
    };
    let switch = move |_| {
        if let Some(c) = cam.get_value() {
            spawn_local(async move {
                let _ = c.switch_lens().await;
            });
        }
    };

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
                    <div class="lf-preview" hidden=move || !live()>
                        <video node_ref=video data-testid="camera-video" aria-label=move || i18n.t("camera-preview-label")></video>
                    </div>
                    <div class="lf-actions" hidden=move || !live()>
                        <button class="lf-button" data-testid="shutter" on:click=shutter>
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
                    <upload::UploadArea/>
                })}
            </div>
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
