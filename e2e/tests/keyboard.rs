//! Issue 17, item 4: the whole flow with the keyboard alone, in Chromium: from the link to the
//! Return URL with Tab, Shift+Tab, Enter, Space and the arrow keys (country list), checking on
//! every focused control that the focus is visible, that it has an accessible name and a target of
//! at least 24×24 CSS px (WCAG 2.5.8), and recording every text the live regions announce on the
//! way (the guidance, upload progress, the countdown). And with `prefers-reduced-motion` emulated,
//! nothing on the screens animates or transitions.

use liveform_e2e::{tests, BoxError, Ctx, Engine, Group, SuiteOptions, TestResult, RETURN_PATH};
use serde_json::{json, Value};

fn main() {
    liveform_e2e::suite_with(
        "keyboard",
        &SuiteOptions {
            engines: &[Engine::Chromium],
            ..SuiteOptions::default()
        },
        &[Group::new(tests![
            keyboard_alone_reaches_the_return_url,
            reduced_motion_stops_every_animation,
        ])],
    );
}

const TAB: &str = "\u{E004}";
const SHIFT_TAB: &str = "\u{E008}\u{E004}\u{E000}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = " ";
const DOWN: &str = "\u{E015}";
const UP: &str = "\u{E013}";

/// The focused element: its test id, tag, accessible name (as the browser computes it for the
/// common cases: label, aria-label(ledby), text), whether its focus shows, and its size.
const FOCUSED_JS: &str = r#"
const e = document.activeElement;
if (!e || e === document.body) return null;
const cs = getComputedStyle(e);
const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
let name = e.getAttribute('aria-label') || '';
const by = e.getAttribute('aria-labelledby');
if (!name && by) name = by.split(' ').map(i => (document.getElementById(i) || {}).textContent || '').join(' ');
if (!name && e.labels && e.labels.length) name = [...e.labels].map(l => l.textContent).join(' ');
if (!name) name = e.textContent || e.value || e.getAttribute('title') || '';
const r = e.getBoundingClientRect();
return { id: e.getAttribute('data-testid') || '', tag: e.tagName.toLowerCase(), name: name.trim(),
         ring, w: r.width, h: r.height, inline: cs.display === 'inline' };
"#;

async fn press(b: &Ctx, keys: &str) -> TestResult {
    b.client.active_element().await?.send_keys(keys).await?;
    Ok(())
}

/// Tabs (or Shift+Tabs) until the control `testid` has the focus, checking every control the
/// focus lands on. Fails after 25 presses.
async fn tab_to(b: &Ctx, testid: &str, key: &str, found: &mut Vec<String>) -> TestResult {
    for _ in 0..25 {
        press(b, key).await?;
        let f: Value = b.js(FOCUSED_JS, vec![]).await?;
        if f.is_null() {
            continue;
        }
        let what = format!("{} [{}] {:?}", f["tag"], f["id"], f["name"]);
        if f["ring"] != json!(true) {
            found.push(format!("no visible focus on {what}"));
        }
        if f["name"].as_str().unwrap_or("").is_empty() {
            found.push(format!("no accessible name on {what}"));
        }
        let (w, h) = (
            f["w"].as_f64().unwrap_or(0.0),
            f["h"].as_f64().unwrap_or(0.0),
        );
        if f["inline"] != json!(true) && (w < 24.0 || h < 24.0) {
            found.push(format!("target {w}×{h} CSS px < 24×24 on {what}"));
        }
        if f["id"] == json!(testid) {
            return Ok(());
        }
    }
    Err(format!("the keyboard never reached {testid}").into())
}

/// Waits until the element `css` exists and is shown.
async fn shown(b: &Ctx, css: &str) -> TestResult {
    b.wait_until(&format!("{css} is shown"), || async {
        let v = b
            .js(
                "const e = document.querySelector(arguments[0]); \
                 return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;",
                vec![json!(css)],
            )
            .await?;
        Ok(v == json!(true))
    })
    .await
}

/// A capture step with the keyboard: the primer's button if it is shown, the shutter, "Use this
/// photo".
async fn capture(b: &Ctx, screen: &str, next: &str, found: &mut Vec<String>) -> TestResult {
    b.wait_screen(screen).await?;
    b.record_live_regions().await?;
    if b.capture_ready().await? == "primer" {
        tab_to(b, "camera-allow", TAB, found).await?;
        press(b, ENTER).await?;
    }
    b.wait_for("[data-testid=capture][data-phase=live]").await?;
    shown(b, "[data-testid=shutter]").await?;
    tab_to(b, "shutter", TAB, found).await?;
    press(b, ENTER).await?;
    shown(b, "[data-testid=capture-confirm]").await?;
    tab_to(b, "capture-confirm", TAB, found).await?;
    press(b, SPACE).await?;
    b.wait_screen(next).await?;
    Ok(())
}

async fn keyboard_alone_reaches_the_return_url(b: Ctx) -> TestResult {
    let mut found = Vec::new();
    let mut announced: Vec<String> = Vec::new();
    b.open(&b.a11y_link(r#"{"userid":"keyboard"}"#, "&lang=en"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    b.record_live_regions().await?;
    // The welcome: focus starts on the heading; the box with Space, Start with Enter; a step back
    // with Shift+Tab on the way proves the order goes both ways.
    tab_to(&b, "consent-checkbox", TAB, &mut found).await?;
    tab_to(&b, "terms-link", SHIFT_TAB, &mut found).await?;
    tab_to(&b, "consent-checkbox", TAB, &mut found).await?;
    press(&b, SPACE).await?;
    tab_to(&b, "consent-start", TAB, &mut found).await?;
    press(&b, ENTER).await?;

    b.wait_screen("screen-email").await?;
    tab_to(&b, "email-input", TAB, &mut found).await?;
    press(&b, "keyboard@example.com").await?;
    press(&b, ENTER).await?;

    // The country: typed, then chosen with the arrow keys and Enter.
    b.wait_screen("screen-country").await?;
    tab_to(&b, "country-search", TAB, &mut found).await?;
    press(&b, "korea").await?;
    b.wait_until("the list is filtered", || async {
        Ok(b.attr_values("li[data-testid=country-option]", "data-code")
            .await?
            .contains(&"KOR".to_string()))
    })
    .await?;
    let active = || async {
        let v = b
            .js(
                "return document.querySelector('[data-testid=country-search]').getAttribute('aria-activedescendant');",
                vec![],
            )
            .await?;
        Ok::<String, BoxError>(v.as_str().unwrap_or("").to_owned())
    };
    let codes = b
        .attr_values("li[data-testid=country-option]", "data-code")
        .await?;
    let first = active().await?;
    press(&b, DOWN).await?;
    if codes.len() > 1 {
        assert_ne!(active().await?, first, "ArrowDown moves the active option");
    }
    press(&b, UP).await?;
    assert_eq!(active().await?, first, "ArrowUp moves it back");
    let want = codes
        .iter()
        .position(|c| c == "KOR")
        .ok_or("KOR is not in the list")?;
    for _ in 0..want {
        press(&b, DOWN).await?;
    }
    assert_eq!(active().await?, "lf-country-KOR");
    press(&b, ENTER).await?;

    b.wait_screen("screen-idtype").await?;
    let mut on_passport = false;
    for _ in 0..12 {
        press(&b, TAB).await?;
        let f = b.js(FOCUSED_JS, vec![]).await?;
        let kind = b
            .js(
                "return document.activeElement.getAttribute('data-type') || '';",
                vec![],
            )
            .await?;
        if f["id"] == json!("idtype-option") && kind == json!("passport") {
            on_passport = true;
            break;
        }
    }
    assert!(on_passport, "the keyboard reaches the passport");
    press(&b, ENTER).await?;

    capture(&b, "screen-document-front", "screen-selfie", &mut found).await?;
    capture(&b, "screen-selfie", "screen-finish", &mut found).await?;

    b.record_live_regions().await?;
    tab_to(&b, "finish-submit", TAB, &mut found).await?;
    press(&b, ENTER).await?;
    b.wait_screen("screen-result").await?;
    shown(&b, "[data-testid=result-countdown]").await?;
    // The countdown can be paused and extended from the keyboard (WCAG 2.2.1).
    tab_to(&b, "result-pause", TAB, &mut found).await?;
    press(&b, ENTER).await?;
    b.wait_for("[data-testid=result-pause][aria-pressed=true]")
        .await?;
    announced.extend(b.live_region_texts().await?);
    tab_to(&b, "result-ok", SHIFT_TAB, &mut found).await?;
    press(&b, ENTER).await?;
    b.wait_until("the browser is at the Return URL", || async {
        Ok(b.client.current_url().await?.path() == RETURN_PATH)
    })
    .await?;

    assert!(
        found.is_empty(),
        "{} problem(s):\n{}",
        found.len(),
        found.join("\n")
    );
    eprintln!("    announced: {announced:#?}");
    let said = |what: &str, any: &[&str]| {
        assert!(
            announced.iter().any(|t| any.iter().any(|w| t.contains(w))),
            "the live regions never announced {what} ({any:?}): {announced:#?}"
        );
    };
    said("the progress", &["Step 1 of"]);
    said("camera guidance", &["document", "face"]);
    said("upload progress", &["Uploading", "Saved", "saved"]);
    said("the countdown", &["You will be taken back", "Paused"]);
    Ok(())
}

/// Every element that animates or transitions (with a duration above 0), plus probes of the
/// classes that move (the spinner, the progress fill, the document frame, the face oval, the hold
/// bar), so that a screen where they are not shown right now is still covered.
const MOTION_JS: &str = r#"
const probes = ['lf-spinner', 'lf-progress-fill', 'lf-doc-frame', 'lf-oval', 'lf-hold-fill'].map(c => {
  const d = document.createElement('div'); d.className = c; document.body.appendChild(d); return d;
});
const out = [];
const secs = (v) => Math.max(...v.split(',').map(x => parseFloat(x) || 0));
for (const e of document.querySelectorAll('body *')) {
  for (const pseudo of [null, '::before', '::after']) {
    const cs = getComputedStyle(e, pseudo);
    const what = e.tagName.toLowerCase() + '.' + String(e.className).split(' ').join('.') + (pseudo || '');
    if (cs.animationName !== 'none' && secs(cs.animationDuration) > 0) out.push(`animation ${cs.animationName} on ${what}`);
    if (secs(cs.transitionDuration) > 0) out.push(`transition ${cs.transitionProperty} on ${what}`);
  }
}
probes.forEach(d => d.remove());
return out;
"#;

async fn motion(b: &Ctx, screen: &str, found: &mut Vec<String>) -> TestResult {
    let v = b.js(MOTION_JS, vec![]).await?;
    for m in v.as_array().cloned().unwrap_or_default() {
        found.push(format!("{screen}: {}", m.as_str().unwrap_or("?")));
    }
    Ok(())
}

async fn reduced_motion_stops_every_animation(b: Ctx) -> TestResult {
    b.cdp(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}),
    )
    .await?;
    let mut found = Vec::new();
    let outcome = async {
        // Without the emulation the same probes do move: the check can see motion.
        b.open(&b.gcm_link(
            r#"{"userid":"motion","selectedIssuingCountry":"KOR","selectedIdType":"passport"}"#,
            "&lang=en",
        ))
        .await?;
        b.wait_screen("screen-welcome").await?;
        motion(&b, "welcome", &mut found).await?;
        b.accept_consent().await?;
        b.wait_screen("screen-document-front").await?;
        b.wait_for("[data-testid=capture]").await?;
        motion(&b, "document", &mut found).await?;
        b.capture_with_shutter("screen-document-front", "screen-selfie", "")
            .await?;
        b.wait_for("[data-testid=capture]").await?;
        motion(&b, "selfie", &mut found).await?;
        b.cdp("Emulation.setEmulatedMedia", json!({"features": []}))
            .await?;
        let mut moving = Vec::new();
        motion(&b, "selfie without the emulation", &mut moving).await?;
        assert!(
            !moving.is_empty(),
            "the check sees the probes move without reduced motion"
        );
        Ok::<(), BoxError>(())
    }
    .await;
    b.cdp("Emulation.setEmulatedMedia", json!({"features": []}))
        .await?;
    outcome?;
    assert!(
        found.is_empty(),
        "moving with reduced motion:\n{}",
        found.join("\n")
    );
    Ok(())
}
