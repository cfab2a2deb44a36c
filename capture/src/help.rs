//! What the person sees when the camera does not work: never a dead end. Each failure gets its
//! next step ([`Recovery`]): browser-specific settings steps and a retry (automatic when the
//! Permissions API reports the change), a message for the integrator when the frame lacks
//! `allow="camera"`, an "open in your browser" escape from in-app browsers, and continuing on
//! another device.

use leptos::prelude::*;
use liveform_core::capture::{CameraError, Escape, RecoveryBrowser};
use liveform_core::capture::{Platform, Recovery};

use crate::handoff::HandoffPanel;
use liveform_ui::i18n::use_i18n;
use liveform_ui::Heading;
use liveform_web::camera;

fn browser_key(b: RecoveryBrowser) -> &'static str {
    match b {
        RecoveryBrowser::IosSafari => "ios-safari",
        RecoveryBrowser::ChromeAndroid => "chrome-android",
        RecoveryBrowser::SamsungInternet => "samsung",
        RecoveryBrowser::DesktopChrome => "chrome",
        RecoveryBrowser::DesktopFirefox => "firefox",
        RecoveryBrowser::DesktopSafari => "safari",
        RecoveryBrowser::Other => "other",
    }
}

#[component]
pub fn CameraProblem(error: CameraError, retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let code = error.code();
    let key = code.message_key();
    let recovery = error.recovery();
    let ua = camera::user_agent();
    let title = Signal::derive(move || i18n.t(&format!("{key}-title")));
    let retry_button = move || {
        view! {
            <button class="lf-button" data-testid="camera-retry" on:click=move |_| retry.run(())>
                {move || i18n.t("error-retry")}
            </button>
        }
    };
    let body = match recovery {
        Recovery::RetryAfterSettings => {
            let b = browser_key(ua.recovery_browser());
            view! {
                <ol class="lf-steps" data-testid="camera-help-steps" data-browser=b>
                    {(1..=3).map(|n| view! { <li>{move || i18n.t(&format!("camera-help-{b}-{n}"))}</li> }).collect_view()}
                </ol>
                <p class="lf-hint">{move || i18n.t("camera-help-auto")}</p>
                {retry_button()}
            }
            .into_any()
        }
        Recovery::Retry | Recovery::CloseOtherApps | Recovery::TryLooserConstraints => {
            retry_button().into_any()
        }
        Recovery::AskIntegrator => view! {
            <p class="lf-integrator" data-testid="camera-integrator">
                {move || i18n.t("camera-integrator-text")}
            </p>
            <HandoffPanel/>
        }
        .into_any(),
        Recovery::OpenInBrowser => {
            let escape = ua.escape;
            let ios = ua.platform == Platform::Ios;
            view! { <EscapeApp escape=escape ios=ios/> }.into_any()
        }
        Recovery::UseAnotherDevice => view! { <HandoffPanel/> }.into_any(),
        Recovery::Reload => view! {
            <button class="lf-button" data-testid="camera-reload" on:click=move |_| liveform_web::location::reload()>
                {move || i18n.t("camera-reload")}
            </button>
        }
        .into_any(),
    };
    view! {
        <div class="lf-camera-problem" data-testid="camera-problem" data-code=code.id()>
            <Heading text=title testid="camera-problem-title"/>
            <p role="alert" data-testid="camera-problem-action">{move || i18n.t(&format!("{key}-action"))}</p>
            {body}
            <p class="lf-code">
                {move || i18n.t("error-code-label")} " " <span data-testid="camera-error-code">{code.id()}</span>
            </p>
        </div>
    }
}

/// In-app browsers (Instagram, KakaoTalk, …) give no camera: open the same session in the real
/// browser — a direct link where the platform has one (Android `intent:` to Chrome, KakaoTalk's
/// and LINE's own "open outside" links), the copyable link, and the steps through the app's menu.
#[component]
fn EscapeApp(escape: Option<Escape>, ios: bool) -> impl IntoView {
    let i18n = use_i18n();
    let url = crate::handoff::use_handoff_url();
    let open_href = move || url.get().and_then(|u| escape.and_then(|e| e.url(&u)));
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(u) = url.get_untracked() {
            liveform_web::dom::copy_text(&u);
            copied.set(true);
        }
    };
    view! {
        <div class="lf-escape" data-testid="camera-escape">
            {move || open_href().map(|href| view! {
                <a class="lf-button" data-testid="escape-open" href=href rel="noopener">
                    {move || i18n.t("camera-escape-open")}
                </a>
            })}
            <button class="lf-button lf-secondary" data-testid="escape-copy" prop:disabled=move || url.get().is_none() on:click=copy>
                {move || i18n.t("camera-escape-copy")}
            </button>
            <p aria-live="polite" class="lf-hint" data-testid="escape-copied">
                {move || if copied.get() { i18n.t("camera-escape-copied") } else { String::new() }}
            </p>
            <p class="lf-hint">
                {move || i18n.t(if ios { "camera-escape-steps-ios" } else { "camera-escape-steps-android" })}
            </p>
        </div>
    }
}
