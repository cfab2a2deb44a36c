//! Issue 17: the accessibility audit (axe-core with the WCAG 2.0/2.1/2.2 A and AA rules, see
//! `liveform_e2e::a11y`) on every screen of a walk from the link to the result, in English and in
//! a right-to-left language (Persian), in Chromium and Firefox: 0 violations. WebKit skips the suite
//! (the issue asks for the two engines; `flow.rs` walks the screens in WebKit).

use liveform_e2e::a11y::{assert_none, audit, walk, Check};
use liveform_e2e::{tests, Ctx, Engine, Group, SuiteOptions, TestResult};

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
