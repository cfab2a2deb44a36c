//! Issue 17, item 5 (pictures for reviewers): every screen of the walk of `a11y.rs`
//! (`liveform_e2e::a11y::walk`) and of `other_screens`, in each of the 26 languages, on a phone
//! (Chromium's device emulation, 390×844 CSS px at 1×, the fake camera), saved as PNGs in
//! `$CONTACT_SHEET_DIR/<lang>/NN-<screen>.png`. `scripts/contact-sheets.sh` runs it and composes
//! one contact sheet per language.
//!
//! Without `CONTACT_SHEET_DIR` it does nothing (scripts/test-e2e.sh runs every e2e target);
//! Chromium only. `CONTACT_SHEET_LANGS` (codes separated by spaces or commas) limits the run to
//! some languages.

use std::path::PathBuf;

use liveform_core::lang::SUPPORTED;
use liveform_e2e::a11y::{other_screens, walk, Check, SCREENSHOT_DIR_VAR};
use liveform_e2e::{tests, Ctx, Engine, Group, SuiteOptions, TestResult};
use serde_json::json;

/// The phone: CSS px at device scale factor 1 (the screenshots are this size).
const WIDTH: u32 = 390;
const HEIGHT: u32 = 844;

fn main() {
    let listing = std::env::args().any(|a| a == "--list");
    if std::env::var_os(SCREENSHOT_DIR_VAR).is_none_or(|v| v.is_empty()) && !listing {
        println!("\nrunning 1 test (contact_sheets)");
        println!(
            "test every_screen_in_every_language ... skipped ({SCREENSHOT_DIR_VAR} is not set; \
             scripts/contact-sheets.sh sets it)"
        );
        println!("\ntest result: ok. 0 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n");
        return;
    }
    // 27 walks take minutes, not the default 120 s of one test.
    if std::env::var_os("E2E_TEST_TIMEOUT_SECS").is_none() {
        std::env::set_var("E2E_TEST_TIMEOUT_SECS", "1800");
    }
    liveform_e2e::suite_with(
        "contact_sheets",
        &SuiteOptions {
            engines: &[Engine::Chromium],
            ..SuiteOptions::default()
        },
        &[Group::new(tests![every_screen_in_every_language])],
    );
}

/// The languages to photograph: `CONTACT_SHEET_LANGS`, else all of them.
fn languages() -> Result<Vec<&'static str>, String> {
    let wanted = std::env::var("CONTACT_SHEET_LANGS").unwrap_or_default();
    let wanted: Vec<&str> = wanted.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    if let Some(bad) = wanted.iter().find(|w| !SUPPORTED.contains(w)) {
        return Err(format!(
            "CONTACT_SHEET_LANGS: {bad:?} is not one of {SUPPORTED:?}"
        ));
    }
    Ok(SUPPORTED
        .into_iter()
        .filter(|l| wanted.is_empty() || wanted.contains(l))
        .collect())
}

async fn every_screen_in_every_language(b: Ctx) -> TestResult {
    let root = PathBuf::from(std::env::var_os(SCREENSHOT_DIR_VAR).unwrap_or_default());
    let mut failed = Vec::new();
    for lang in languages()? {
        let dir = root.join(lang);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        eprintln!("  {lang}");
        // A new tab per language (an empty sessionStorage); the emulation is the tab's.
        b.fresh_tab().await?;
        b.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await?;
        if let Err(e) = language(&b, lang).await {
            eprintln!("    {lang} failed: {e}");
            failed.push(format!("{lang}: {e}"));
        }
    }
    b.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
        .await?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} language(s) failed:\n{}",
            failed.len(),
            failed.join("\n")
        )
        .into())
    }
}

/// The walk's screens, then the others (`other_screens`: error page, camera primer and
/// recovery, handoff panel, liveness, idle warning).
async fn language(b: &Ctx, lang: &str) -> TestResult {
    walk(b, lang, Check::Screenshot).await?;
    other_screens(b, lang, Check::Screenshot).await?;
    Ok(())
}
