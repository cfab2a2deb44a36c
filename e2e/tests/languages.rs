//! Issue 17: the 26 languages in the browser. Every language renders the welcome in its own
//! words and direction; the language switch keeps the session; Persian mirrors the layout
//! (progress, Back, lists) but not the camera preview; a pseudo-locale (English accented and 40 %
//! longer, served as `fi` from a copy of the SPA, `target/e2e-pseudo-dist/`) fits every screen at
//! 320 CSS px (the walk's and `other_screens`: error page, camera recovery, handoff, liveness,
//! idle warning); and the English screens hold with the text at 200 %.

use liveform_core::lang::{is_rtl, SUPPORTED};
use liveform_e2e::a11y::{other_screens, pseudo_dist, walk, Check};
use liveform_e2e::flow::session_token;
use liveform_e2e::{http_get, tests, BoxError, Ctx, Engine, TestResult, GCM_PID};
use serde_json::json;

/// The language served as the pseudo-locale.
const PSEUDO: &str = "fi";

fn main() {
    match pseudo_dist(PSEUDO) {
        Ok(dist) => std::env::set_var("LIVEFORM_DIST", dist),
        Err(e) => {
            eprintln!("languages: cannot make the pseudo-locale's copy of the SPA: {e}");
            std::process::exit(1);
        }
    }
    liveform_e2e::suite(
        "languages",
        tests![
            every_language_renders_the_welcome,
            switching_the_language_keeps_the_session,
            persian_mirrors_the_layout_but_not_the_camera,
            pseudo_locale_fits_every_screen_at_320_px,
            text_at_200_percent_fits_every_screen,
        ],
    );
}

async fn welcome_title(b: &Ctx) -> Result<String, BoxError> {
    Ok(b.testid("welcome-title")
        .await?
        .text()
        .await?
        .trim()
        .to_owned())
}

/// Is one of the strings' keys (`welcome-title`): what `t()` shows for a string it does not have.
fn looks_like_a_key(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
    [
        include_str!("../../locales/en.json"),
        include_str!("../../locales/capture/en.json"),
    ]
    .iter()
    .any(|j| j.contains(&format!("\n  \"{w}\":")))
}

async fn every_language_renders_the_welcome(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(r#"{"userid":"langs"}"#, "&lang=en"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    let english = welcome_title(&b).await?;
    let addr = b.addr()?;
    for lang in SUPPORTED {
        // The address keeps pid and lang: the tab's session resumes in the other language.
        b.open(&format!("/?pid={GCM_PID}&lang={lang}")).await?;
        b.wait_screen("screen-welcome").await?;
        b.wait_value("<html lang>", lang, || b.html_lang()).await?;
        let dir = if is_rtl(lang) { "rtl" } else { "ltr" };
        assert_eq!(b.html_dir().await?, dir, "{lang}: <html dir>");
        let title = welcome_title(&b).await?;
        if lang != "en" {
            assert_ne!(title, english, "{lang}: the welcome is still in English");
        }
        let text = b.testid("screen-welcome").await?.text().await?;
        let keys: Vec<&str> = text
            .split_whitespace()
            .filter(|w| looks_like_a_key(w))
            .collect();
        assert!(keys.is_empty(), "{lang}: keys on screen: {keys:?}");
        let selected = b
            .js(
                "return document.querySelector('[data-testid=language-select]').value;",
                vec![],
            )
            .await?;
        assert_eq!(
            selected,
            json!(lang),
            "{lang}: the switch shows the language"
        );
        for path in [
            format!("/locales/{lang}.json"),
            format!("/locales/capture/{lang}.json"),
            format!("/locales/countries/{lang}.json"),
        ] {
            let (status, _) = http_get(addr, &path).await?;
            assert_eq!(status, 200, "GET {path}");
        }
    }
    Ok(())
}

async fn switching_the_language_keeps_the_session(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(r#"{"userid":"switch"}"#, "&lang=en"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    let english = welcome_title(&b).await?;
    let token = session_token(&b).await?;
    // The box ticked before the switch stays ticked after it.
    b.testid("consent-checkbox").await?.click().await?;
    b.testid("language-select")
        .await?
        .select_by_value("de")
        .await?;
    b.wait_value("<html lang>", "de", || b.html_lang()).await?;
    b.wait_screen("screen-welcome").await?;
    assert!(
        b.testid("consent-checkbox").await?.is_selected().await?,
        "the consent box is still ticked"
    );
    assert!(
        b.testid("consent-start").await?.is_enabled().await?,
        "Start is enabled"
    );
    assert_eq!(
        b.location_search().await?,
        format!("?pid={GCM_PID}&lang=de"),
        "the address keeps pid and the new lang"
    );
    assert_ne!(
        welcome_title(&b).await?,
        english,
        "the welcome is in German"
    );
    assert_eq!(session_token(&b).await?, token, "the same session resumed");
    // Right to left from the switch as from a link; then on to the next step in that language.
    b.testid("language-select")
        .await?
        .select_by_value("ar")
        .await?;
    b.wait_value("<html lang>", "ar", || b.html_lang()).await?;
    assert_eq!(b.html_dir().await?, "rtl");
    assert_eq!(session_token(&b).await?, token, "the same session resumed");
    b.accept_consent().await?;
    b.wait_screen("screen-country").await?;
    assert_eq!(b.html_lang().await?, "ar");
    Ok(())
}

/// `[left, right]` of the first element matching `css`.
async fn span(b: &Ctx, css: &str) -> Result<(f64, f64), BoxError> {
    let v = b
        .js(
            "const e = document.querySelector(arguments[0]); \
             if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.right];",
            vec![json!(css)],
        )
        .await?;
    let l = v[0].as_f64().ok_or_else(|| format!("no {css}"))?;
    let r = v[1].as_f64().ok_or_else(|| format!("no {css}"))?;
    Ok((l, r))
}

async fn persian_mirrors_the_layout_but_not_the_camera(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(r#"{"userid":"rtl"}"#, "&lang=fa"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    assert_eq!(b.html_dir().await?, "rtl", "<html dir>");
    b.accept_consent().await?;
    b.wait_screen("screen-country").await?;
    // Back sits on the right, before the progress text in reading order.
    let back = span(&b, "[data-testid=back]").await?;
    let text = span(&b, "[data-testid=progress]").await?;
    assert!(
        back.0 > text.1 - 1.0,
        "Back {back:?} is right of the progress text {text:?}"
    );
    // The progress fills from the right.
    let bar = span(&b, ".lf-progress").await?;
    let fill = span(&b, ".lf-progress-fill").await?;
    assert!(
        (bar.1 - fill.1).abs() < 1.5 && fill.0 > bar.0 + 1.0,
        "fill {fill:?} in {bar:?}"
    );
    // List items start at the right.
    b.wait_for("li[data-testid=country-option][data-code=KOR] .lf-option-name")
        .await?;
    let item = span(&b, "li[data-testid=country-option][data-code=KOR]").await?;
    let name = span(
        &b,
        "li[data-testid=country-option][data-code=KOR] .lf-option-name",
    )
    .await?;
    assert!(
        item.1 - name.1 < name.0 - item.0,
        "the name {name:?} sits at the right of its item {item:?}"
    );
    b.wait_for("li[data-testid=country-option][data-code=KOR]")
        .await?
        .click()
        .await?;
    b.wait_for(r#"[data-testid="idtype-option"][data-type="passport"]"#)
        .await?
        .click()
        .await?;
    b.wait_screen("screen-document-front").await?;
    if b.capture_ready().await? == "primer" {
        b.testid("camera-allow").await?.click().await?;
    }
    b.wait_for("[data-testid=capture][data-phase=live]").await?;
    // The camera picture is not mirrored and stays centred in its frame.
    let v = b
        .js(
            "const v = document.querySelector('[data-testid=camera-video]'); \
             const p = v.parentElement.getBoundingClientRect(); const r = v.getBoundingClientRect(); \
             return {t: getComputedStyle(v).transform, d: (r.left + r.right) / 2 - (p.left + p.right) / 2};",
            vec![],
        )
        .await?;
    assert_eq!(
        v["t"],
        json!("none"),
        "the document preview is not flipped: {v}"
    );
    assert!(v["d"].as_f64().unwrap_or(99.0).abs() < 1.5, "centred: {v}");
    Ok(())
}

/// At 320 CSS px (Chromium's device emulation), with every string 40 % longer.
async fn pseudo_locale_fits_every_screen_at_320_px(b: Ctx) -> TestResult {
    fits_everywhere(&b, 320, PSEUDO, Check::Layout).await
}

/// English with the text at 200 %, on a phone-sized 640 CSS px (as 200 % zoom of a 320 px
/// screen leaves 320; here the text alone grows).
async fn text_at_200_percent_fits_every_screen(b: Ctx) -> TestResult {
    fits_everywhere(&b, 640, "en", Check::TextZoom).await
}

/// Every screen (the walk and `other_screens`) in `lang` at `width` CSS px passes the layout
/// `check`; the pseudo-locale is seen on screen.
async fn fits_everywhere(b: &Ctx, width: u32, lang: &str, check: Check) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: device emulation)");
        return Ok(());
    }
    narrow(b, width).await?;
    let found = walk(b, lang, check).await;
    let shown = b.body_text().await;
    let other = other_screens(b, lang, check).await;
    b.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
        .await?;
    let mut found = found?;
    found.extend(other?);
    if lang == PSEUDO {
        let shown = shown?;
        assert!(
            shown.contains('⟦'),
            "the pseudo-locale is on screen: {shown:?}"
        );
    }
    assert!(
        found.is_empty(),
        "{} layout problem(s):\n{}",
        found.len(),
        found.join("\n")
    );
    Ok(())
}

async fn narrow(b: &Ctx, width: u32) -> TestResult {
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": 720, "deviceScaleFactor": 2, "mobile": true}),
    )
    .await?;
    Ok(())
}
