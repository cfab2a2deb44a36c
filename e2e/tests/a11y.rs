//! Issue 17: the accessibility audit (axe-core with the WCAG 2.0/2.1/2.2 A and AA rules, see
//! `liveform_e2e::a11y`) on every screen of a walk from the link to the result, in English and in
//! a right-to-left language (Persian), in Chromium and Firefox: 0 violations. WebKit runs the walk
//! too (the screens must work there) without the audit.

use liveform_e2e::a11y::{assert_none, audit};
use liveform_e2e::{tests, BoxError, Ctx, TestResult};

fn main() {
    liveform_e2e::suite(
        "a11y",
        tests![
            every_screen_passes_axe_in_english,
            every_screen_passes_axe_in_persian,
            error_pages_pass_axe,
        ],
    );
}

/// The walk: welcome, e-mail (and its error), country, ID type, the camera primer, the live
/// document preview and its photo, the selfie and its photo, finish and result; each screen is
/// audited as the person meets it.
async fn walk(b: &Ctx, lang: &str) -> Result<Vec<String>, BoxError> {
    let mut found = Vec::new();
    let userid = format!("a11y-{lang}-{}", std::process::id());
    b.open(&b.a11y_link(
        &format!(r#"{{"userid":"{userid}"}}"#),
        &format!("&lang={lang}"),
    ))
    .await?;
    b.wait_screen("screen-welcome").await?;
    assert_eq!(b.html_lang().await?, lang, "<html lang>");
    audit(b, "welcome", &mut found).await?;

    b.accept_consent().await?;
    b.wait_screen("screen-email").await?;
    audit(b, "e-mail", &mut found).await?;
    let input = b.testid("email-input").await?;
    input.send_keys("not an address").await?;
    b.testid("email-continue").await?.click().await?;
    b.wait_for("[data-testid=email-error]:not([hidden])")
        .await?;
    audit(b, "e-mail (invalid)", &mut found).await?;
    input.clear().await?;
    input.send_keys("a11y@example.com").await?;
    b.testid("email-continue").await?.click().await?;

    b.wait_screen("screen-country").await?;
    b.wait_until("country names are shown", || async {
        let v = b
            .js(
                "const e = document.querySelector('li[data-testid=country-option][data-code=KOR] .lf-option-name'); \
                 return !!e && e.textContent.trim() !== 'KOR';",
                vec![],
            )
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    })
    .await?;
    audit(b, "country", &mut found).await?;
    b.wait_for("li[data-testid=country-option][data-code=KOR]")
        .await?
        .click()
        .await?;

    b.wait_screen("screen-idtype").await?;
    audit(b, "ID type", &mut found).await?;
    b.wait_for(r#"[data-testid="idtype-option"][data-type="passport"]"#)
        .await?
        .click()
        .await?;

    live_camera(b, "screen-document-front", "document", &mut found).await?;
    b.shoot("screen-document-front").await?;
    audit(b, "document photo", &mut found).await?;
    b.confirm_photo("screen-document-front", "screen-selfie", "")
        .await?;

    live_camera(b, "screen-selfie", "selfie", &mut found).await?;
    b.shoot("screen-selfie").await?;
    audit(b, "selfie photo", &mut found).await?;
    b.confirm_photo("screen-selfie", "screen-finish", "")
        .await?;

    audit(b, "finish", &mut found).await?;
    b.testid("finish-submit").await?.click().await?;
    b.wait_screen("screen-result").await?;
    b.wait_for("[data-testid=result-countdown]").await?;
    audit(b, "result", &mut found).await?;
    Ok(found)
}

/// On a capture step: audits the camera primer when it is shown (it asks before the browser
/// does), lets the camera start, and audits the live view.
async fn live_camera(b: &Ctx, screen: &str, what: &str, found: &mut Vec<String>) -> TestResult {
    b.wait_screen(screen).await?;
    b.wait_until("the capture view is past checking", || async {
        let v = b.js(PHASE_JS, vec![]).await?;
        Ok(matches!(v.as_str(), Some("primer" | "live")))
    })
    .await?;
    if b.js(PHASE_JS, vec![]).await? == "primer" {
        audit(b, &format!("{what}: camera primer"), found).await?;
        b.testid("camera-allow").await?.click().await?;
    }
    b.wait_for("[data-testid=capture][data-phase=live]").await?;
    audit(b, &format!("{what}: live camera"), found).await?;
    Ok(())
}

const PHASE_JS: &str = "const e = document.querySelector('[data-testid=capture]'); \
    return e ? e.getAttribute('data-phase') : '';";

async fn every_screen_passes_axe_in_english(b: Ctx) -> TestResult {
    assert_none(&walk(&b, "en").await?);
    Ok(())
}

async fn every_screen_passes_axe_in_persian(b: Ctx) -> TestResult {
    let found = walk(&b, "fa").await?;
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
