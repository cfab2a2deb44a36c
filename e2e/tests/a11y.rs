//! Issue 17: the accessibility audit (axe-core with the WCAG 2.0/2.1/2.2 A and AA rules, see
//! `liveform_e2e::a11y`) on every screen of a walk from the link to the result, on the liveness
//! step, the camera's recovery pages, the handoff panel, the idle warning and error pages, in
//! English and in a right-to-left language (Persian), in Chromium and Firefox: 0 violations. WebKit skips the suite
//! (the issue asks for the two engines; `flow.rs` walks the screens in WebKit).

use liveform_e2e::a11y::{assert_none, audit, idle_for, other_screens, walk, Check};
use liveform_e2e::{tests, Ctx, Engine, Group, SuiteOptions, TestResult};
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
            other_screens_pass_axe,
            idle_timeout_warns_and_gives_more_time,
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

/// The screens off the walk: an error page, the camera refused and missing (with the handoff
/// panel), the liveness step, the idle warning and its end (`liveform_e2e::a11y::other_screens`).
async fn other_screens_pass_axe(b: Ctx) -> TestResult {
    let mut found = Vec::new();
    for lang in ["en", "fa"] {
        found.extend(other_screens(&b, lang, Check::Axe).await?);
    }
    assert_none(&found);
    Ok(())
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
    // The page behind is inert (neither focusable nor read) while the dialog is open.
    let inert = b
        .js(
            "return [...document.getElementById('lf-root').children] \
               .filter((c) => !c.classList.contains('lf-idle-backdrop')) \
               .every((c) => c.inert);",
            vec![],
        )
        .await?;
    assert_eq!(inert, json!(true), "the page behind the dialog is inert");
    audit(&b, "idle warning", &mut found).await?;
    // Enter on "more time" (WebDriver focuses the button first).
    b.testid("idle-extend").await?.send_keys("\u{E007}").await?;
    b.wait_until("the warning is gone", || async {
        Ok(b.js(
            "return !document.querySelector('[data-testid=idle-warning]');",
            vec![],
        )
        .await?
            == json!(true))
    })
    .await?;
    // The welcome is as it was (no longer inert), and the flow goes on.
    let inert = b
        .js(
            "return !!document.querySelector('#lf-root [inert]');",
            vec![],
        )
        .await?;
    assert_eq!(inert, json!(false), "nothing is left inert");
    b.accept_consent().await?;
    b.wait_screen("screen-email").await?;
    // Past the end: the page says so (the next request would get the session-expired page).
    idle_for(&b, -10).await?;
    b.wait_for("[data-testid=idle-ended]").await?;
    audit(&b, "idle: ended", &mut found).await?;
    assert_none(&found);
    Ok(())
}
