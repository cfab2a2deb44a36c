//! Issue 17: the accessibility audit (axe-core with the WCAG 2.0/2.1/2.2 A and AA rules, see
//! `liveform_e2e::a11y`) on every screen of a walk from the link to the result, on the liveness
//! step, the camera's recovery pages, the handoff panel, the idle warning and error pages, in
//! English and in a right-to-left language (Persian), in Chromium and Firefox: 0 violations. WebKit skips the suite
//! (the issue asks for the two engines; `flow.rs` walks the screens in WebKit).

use liveform_e2e::a11y::{assert_none, audit, walk, Check};
use liveform_e2e::{tests, BoxError, Ctx, Engine, Group, SuiteOptions, TestResult};
use serde_json::json;

fn main() {
    liveform_e2e::suite_with(
        "a11y",
        &SuiteOptions {
            engines: &[Engine::Chromium, Engine::Firefox],
            ..SuiteOptions::default()
        },
        &[Group::new(tests![
            every_screen_passes_axe_in_english,
            every_screen_passes_axe_in_persian,
            error_pages_pass_axe,
            idle_timeout_warns_and_gives_more_time,
            liveness_passes_axe,
            camera_recovery_and_handoff_pass_axe,
        ])],
    );
}

async fn every_screen_passes_axe_in_english(b: Ctx) -> TestResult {
    assert_none(&walk(&b, "en", Check::Axe).await?);
    Ok(())
}

async fn every_screen_passes_axe_in_persian(b: Ctx) -> TestResult {
    let found = walk(&b, "fa", Check::Axe).await?;
    assert_none(&found);
    Ok(())
}

/// Error pages: an unknown project, and a link whose `encrypted` does not decrypt.
async fn error_pages_pass_axe(b: Ctx) -> TestResult {
    let mut found = Vec::new();
    for lang in ["en", "fa"] {
        b.open(&format!("/?pid=nope&lang={lang}")).await?;
        b.wait_screen("screen-error").await?;
        audit(&b, &format!("error page ({lang})"), &mut found).await?;
    }
    assert_none(&found);
    Ok(())
}

/// Moves this tab's record of the server's last answer `ago_s` seconds into the past (as if the
/// person had done nothing since) and returns the session's idle time, from the server.
async fn idle_for(b: &Ctx, ago_s: i64) -> Result<i64, BoxError> {
    let idle = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const s = JSON.parse(sessionStorage.getItem('liveform.session')); \
             fetch('/api/session', {headers: {'x-liveform-session': s.token}}) \
               .then((r) => r.json()).then((v) => done(v.idle_seconds)).catch(() => done(0));",
            vec![],
        )
        .await?
        .as_i64()
        .unwrap_or(0);
    assert!(idle > 0, "the session view gives its idle time");
    b.js(
        "sessionStorage.setItem('liveform.contact', String(Date.now() - arguments[0] * 1000)); return null;",
        vec![json!((idle - ago_s).max(0))],
    )
    .await?;
    Ok(idle)
}

/// WCAG 2.2.1: before the session's idle timeout, a warning (over the first screen's welcome
/// too) counts down and offers more time; the focus is on that button; one press restarts the
/// server's clock and the warning goes; past the end, the page says the session ended.
async fn idle_timeout_warns_and_gives_more_time(b: Ctx) -> TestResult {
    let mut found = Vec::new();
    b.open(&b.a11y_link(r#"{"userid":"idle"}"#, "&lang=en"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    // The app module, behind the welcome, has started and made its own requests (each of which
    // restarts the clock).
    b.wait_for("html[data-lf-app]").await?;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // 60 s before the end: inside the warning's two minutes.
    idle_for(&b, 60).await?;
    b.wait_for("[data-testid=idle-warning]").await?;
    let left = b.testid_text("idle-left").await?;
    let secs: i64 = left
        .split(|c: char| !c.is_ascii_digit())
        .find(|p| !p.is_empty())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("no seconds in {left:?}"))?;
    assert!((1..=60).contains(&secs), "counts down: {left:?}");
    let focused = b
        .js(
            "return document.activeElement.getAttribute('data-testid');",
            vec![],
        )
        .await?;
    assert_eq!(focused, json!("idle-extend"), "the focus is on 'more time'");
    audit(&b, "idle warning", &mut found).await?;
    b.client
        .active_element()
        .await?
        .send_keys("\u{E007}")
        .await?;
    b.wait_until("the warning is gone", || async {
        Ok(b.js(
            "return !document.querySelector('[data-testid=idle-warning]');",
            vec![],
        )
        .await?
            == json!(true))
    })
    .await?;
    // The welcome is as it was, and the flow goes on.
    b.accept_consent().await?;
    b.wait_screen("screen-email").await?;
    // Past the end: the page says so (the next request would get the session-expired page).
    idle_for(&b, -10).await?;
    b.wait_for("[data-testid=idle-ended]").await?;
    audit(&b, "idle: ended", &mut found).await?;
    assert_none(&found);
    Ok(())
}

/// The liveness step (the active-liveness project): its introduction, then the step running (the
/// synthetic camera shows no face, so the guidance asks for one), in English and Persian.
async fn liveness_passes_axe(b: Ctx) -> TestResult {
    let mut found = Vec::new();
    for lang in ["en", "fa"] {
        b.open(&b.live_link(
            &format!(
                r#"{{"userid":"a11y-live-{lang}","selectedIssuingCountry":"KOR","selectedIdType":"passport"}}"#
            ),
            &format!("&lang={lang}"),
        ))
        .await?;
        b.accept_consent().await?;
        b.capture_with_shutter("screen-document-front", "screen-selfie", "")
            .await?;
        b.capture_with_shutter("screen-selfie", "screen-liveness", "")
            .await?;
        b.wait_for("[data-testid=liveness-start]").await?;
        audit(&b, &format!("liveness: introduction ({lang})"), &mut found).await?;
        b.testid("liveness-start").await?.click().await?;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        audit(&b, &format!("liveness: running ({lang})"), &mut found).await?;
    }
    assert_none(&found);
    Ok(())
}

/// Makes the page's camera fail as `name` (a `DOMException` name: `NotAllowedError` when the
/// person or the browser refused, `NotFoundError` when there is no camera), in any engine.
async fn camera_fails_with(b: &Ctx, name: &str) -> TestResult {
    b.js(
        "const n = arguments[0]; \
         navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('e2e', n)); \
         if (n === 'NotFoundError') navigator.mediaDevices.enumerateDevices = () => Promise.resolve([]); \
         return null;",
        vec![json!(name)],
    )
    .await?;
    Ok(())
}

/// The camera's recovery pages (refused: the steps to allow it and "try again"; no camera: go on
/// on a phone) and the handoff panel with its QR code, in English and Persian.
async fn camera_recovery_and_handoff_pass_axe(b: Ctx) -> TestResult {
    let mut found = Vec::new();
    for lang in ["en", "fa"] {
        for (failure, what) in [
            ("NotAllowedError", "refused"),
            ("NotFoundError", "no camera"),
        ] {
            b.open(&b.gcm_link(
                &format!(
                    r#"{{"userid":"a11y-cam-{lang}-{what}","selectedIssuingCountry":"KOR","selectedIdType":"passport"}}"#
                ),
                &format!("&lang={lang}"),
            ))
            .await?;
            b.wait_screen("screen-welcome").await?;
            camera_fails_with(&b, failure).await?;
            b.accept_consent().await?;
            b.wait_screen("screen-document-front").await?;
            b.wait_until("the capture view is past checking", || async {
                let v = b
                    .js(
                        "const e = document.querySelector('[data-testid=capture]'); \
                         return e ? e.getAttribute('data-phase') : '';",
                        vec![],
                    )
                    .await?;
                if v == json!("primer") {
                    b.js(
                        "document.querySelector('[data-testid=camera-allow]').click(); return null;",
                        vec![],
                    )
                    .await?;
                }
                Ok(v == json!("problem"))
            })
            .await?;
            if failure == "NotAllowedError" {
                // The steps to allow the camera in this browser, and "try again".
                b.wait_for("[data-testid=camera-help-steps]").await?;
            }
            audit(&b, &format!("camera {what} ({lang})"), &mut found).await?;
            if failure == "NotFoundError" {
                b.wait_for("[data-testid=handoff-start]")
                    .await?
                    .click()
                    .await?;
                b.wait_for("[data-testid=handoff-qr]").await?;
                audit(&b, &format!("handoff panel ({lang})"), &mut found).await?;
            }
        }
    }
    assert_none(&found);
    Ok(())
}
