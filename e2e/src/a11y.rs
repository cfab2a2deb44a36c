//! The accessibility audit of every screen (issue 17): axe-core, pinned by
//! `scripts/ensure-tools.sh` (`AXE_VERSION`) in `tools/node_modules/axe-core/axe.min.js`, injected
//! through WebDriver into the page as it is, with the WCAG 2.0, 2.1 and 2.2 A and AA rules.
//!
//! Every violation fails; there is no exception for any rule (contrast, names and labels, ARIA and
//! target size included). Incomplete results ("needs review", e.g. contrast over a live camera
//! picture that axe cannot compute) are not violations and are printed, not failed.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::{BoxError, Ctx, Engine};

/// The axe rule tags run: WCAG 2.0, 2.1 and 2.2, levels A and AA.
pub const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Where axe-core's browser build is (`AXE_JS`, else the repo's `tools/node_modules`).
pub fn axe_path() -> PathBuf {
    std::env::var_os("AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../tools/node_modules/axe-core/axe.min.js")
        })
}

/// The engines the audit runs in (the issue's: Chromium and Firefox).
pub fn audited(engine: Engine) -> bool {
    matches!(engine, Engine::Chromium | Engine::Firefox)
}

const RUN_JS: &str = r#"
const done = arguments[arguments.length - 1];
const tags = arguments[0];
window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then(r => done({
    version: window.axe.version,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({ target: n.target.join(' '), html: n.html.slice(0, 200),
                                 summary: n.failureSummary }))
    })),
    incomplete: r.incomplete.map(v => v.id)
  }))
  .catch(e => done({ error: String(e) }));
"#;

/// Audits the page as it is now and adds each violation to `found` (as one readable line per
/// element), labelled `screen`. In engines other than Chromium and Firefox it does nothing.
pub async fn audit(b: &Ctx, screen: &str, found: &mut Vec<String>) -> Result<(), BoxError> {
    if !audited(b.engine) {
        return Ok(());
    }
    let loaded = b
        .js("return typeof window.axe === 'object';", vec![])
        .await?;
    if loaded != json!(true) {
        let path = axe_path();
        let src = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e} (scripts/ensure-tools.sh --browsers installs axe-core)",
                path.display()
            )
        })?;
        b.js(&format!("{src}\n;return null;"), vec![]).await?;
    }
    let r: Value = b.client.execute_async(RUN_JS, vec![json!(TAGS)]).await?;
    if let Some(e) = r["error"].as_str() {
        return Err(format!("axe on {screen}: {e}").into());
    }
    let violations = r["violations"].as_array().cloned().unwrap_or_default();
    eprintln!(
        "    axe {} on {screen}: {} violation(s); needs review: {}",
        r["version"].as_str().unwrap_or("?"),
        violations.len(),
        r["incomplete"]
    );
    for v in violations {
        for n in v["nodes"].as_array().cloned().unwrap_or_default() {
            found.push(format!(
                "[{}] {screen}: {} ({}) at {} — {} — {}",
                b.engine.name(),
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                n["target"].as_str().unwrap_or("?"),
                n["summary"].as_str().unwrap_or("").replace('\n', " "),
                n["html"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// Fails with every violation found, if any.
pub fn assert_none(found: &[String]) {
    assert!(
        found.is_empty(),
        "{} accessibility violation(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The walk through every screen, checked on each one.
// ---------------------------------------------------------------------------------------------

/// What is checked on each screen of [`walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// [`audit`] (axe).
    Axe,
    /// [`layout`]: nothing clipped, overlapping or scrolling sideways.
    Layout,
    /// [`layout`] with the text at 200 % (the root font size doubled, as a browser's text zoom
    /// does; the form sizes its text in `rem`).
    TextZoom,
    /// [`screenshot`]: the viewport as a PNG in `$CONTACT_SHEET_DIR/<lang>/` (the pictures for
    /// reviewers of `scripts/contact-sheets.sh`). Finds nothing.
    Screenshot,
}

/// Runs `check` on the page as it is now, labelled `screen`.
pub async fn check(
    b: &Ctx,
    check: Check,
    screen: &str,
    found: &mut Vec<String>,
) -> Result<(), BoxError> {
    match check {
        Check::Axe => audit(b, screen, found).await,
        Check::Layout => layout(b, screen, found).await,
        Check::TextZoom => {
            b.js(
                "document.documentElement.style.fontSize = '200%'; return null;",
                vec![],
            )
            .await?;
            layout(b, &format!("{screen} (text at 200 %)"), found).await
        }
        Check::Screenshot => screenshot(b, screen).await,
    }
}

/// The directory [`Check::Screenshot`] saves into (one subdirectory per language).
pub const SCREENSHOT_DIR_VAR: &str = "CONTACT_SHEET_DIR";

/// Waits for the web fonts, two frames and the CSS transitions (0.2 s at most) to settle.
const SETTLE_JS: &str = r#"
const done = arguments[arguments.length - 1];
document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(
  () => setTimeout(() => done(null), 300))));
"#;

/// `welcome`, `e-mail-invalid`, `document-camera-primer`: `screen` for a file name.
pub fn slug(screen: &str) -> String {
    let mut out = String::new();
    for c in screen.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Saves the viewport, scrolled to the top, as `$CONTACT_SHEET_DIR/<lang>/NN-<slug of screen>.png`
/// (`<lang>` is `<html lang>`; `NN` is one more than the PNGs already there, so the files sort in
/// the order the screens were met: empty the directory before a walk). A page taller than the
/// viewport gets a second picture scrolled to the bottom, `<screen> (scrolled)`, so that no text
/// is missing. The page's scroll position is put back.
pub async fn screenshot(b: &Ctx, screen: &str) -> Result<(), BoxError> {
    let root = std::env::var_os(SCREENSHOT_DIR_VAR)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("Check::Screenshot needs {SCREENSHOT_DIR_VAR}"))?;
    let dir = PathBuf::from(root).join(b.html_lang().await?);
    std::fs::create_dir_all(&dir)?;
    let y = b.js("return window.scrollY;", vec![]).await?;
    let below = b
        .js(
            "window.scrollTo({ top: 0, behavior: 'instant' }); \
             return document.documentElement.scrollHeight - window.innerHeight;",
            vec![],
        )
        .await?;
    save_viewport(b, &dir, screen).await?;
    if below.as_f64().unwrap_or(0.0) > 1.0 {
        b.js(
            "window.scrollTo({ top: document.documentElement.scrollHeight, behavior: 'instant' }); \
             return null;",
            vec![],
        )
        .await?;
        save_viewport(b, &dir, &format!("{screen} (scrolled)")).await?;
    }
    b.js(
        "window.scrollTo({ top: arguments[0], behavior: 'instant' }); return null;",
        vec![y],
    )
    .await?;
    Ok(())
}

/// Waits for the page to settle and saves the viewport as the next `NN-<slug>.png` in `dir`.
async fn save_viewport(b: &Ctx, dir: &std::path::Path, screen: &str) -> Result<(), BoxError> {
    let n = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count()
        + 1;
    b.client.execute_async(SETTLE_JS, vec![]).await?;
    let png = b.client.screenshot().await?;
    let file = dir.join(format!("{n:02}-{}.png", slug(screen)));
    std::fs::write(&file, png)?;
    eprintln!("    screenshot of {screen}: {}", file.display());
    Ok(())
}

/// On a capture step: checks the camera primer when it is shown (it asks before the browser
/// does), lets the camera start, and checks the live view.
async fn live_camera(
    b: &Ctx,
    kind: Check,
    screen: &str,
    what: &str,
    found: &mut Vec<String>,
) -> Result<(), BoxError> {
    b.wait_screen(screen).await?;
    if b.capture_ready().await? == "primer" {
        check(b, kind, &format!("{what}: camera primer"), found).await?;
        b.testid("camera-allow").await?.click().await?;
    }
    b.wait_for("[data-testid=capture][data-phase=live]").await?;
    check(b, kind, &format!("{what}: live camera"), found).await?;
    Ok(())
}

/// A walk through every screen of the accessibility project (`e2e-a11y`) in `lang`: welcome,
/// e-mail (and its error), country, ID type, the camera primers, the live document view and its
/// photo, the selfie and its photo, finish and result; `kind` is checked on each as the person
/// meets it. Returns what the checks found.
pub async fn walk(b: &Ctx, lang: &str, kind: Check) -> Result<Vec<String>, BoxError> {
    let mut found = Vec::new();
    let userid = format!("a11y-{lang}-{kind:?}-{}", std::process::id());
    b.open(&b.a11y_link(
        &format!(r#"{{"userid":"{userid}"}}"#),
        &format!("&lang={lang}"),
    ))
    .await?;
    b.wait_screen("screen-welcome").await?;
    assert_eq!(b.html_lang().await?, lang, "<html lang>");
    check(b, kind, "welcome", &mut found).await?;

    b.accept_consent().await?;
    b.wait_screen("screen-email").await?;
    check(b, kind, "e-mail", &mut found).await?;
    let input = b.testid("email-input").await?;
    input.send_keys("not an address").await?;
    assert_eq!(
        input.prop("value").await?.as_deref(),
        Some("not an address"),
        "the text arrives as typed"
    );
    b.testid("email-continue").await?.click().await?;
    b.wait_for("[data-testid=email-error]:not([hidden])")
        .await?;
    check(b, kind, "e-mail (invalid)", &mut found).await?;
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
    check(b, kind, "country", &mut found).await?;
    b.wait_for("li[data-testid=country-option][data-code=KOR]")
        .await?
        .click()
        .await?;

    b.wait_screen("screen-idtype").await?;
    check(b, kind, "ID type", &mut found).await?;
    b.wait_for(r#"[data-testid="idtype-option"][data-type="passport"]"#)
        .await?
        .click()
        .await?;

    live_camera(b, kind, "screen-document-front", "document", &mut found).await?;
    b.shoot("screen-document-front").await?;
    check(b, kind, "document photo", &mut found).await?;
    b.confirm_photo("screen-document-front", "screen-selfie", "")
        .await?;

    live_camera(b, kind, "screen-selfie", "selfie", &mut found).await?;
    b.shoot("screen-selfie").await?;
    check(b, kind, "selfie photo", &mut found).await?;
    b.confirm_photo("screen-selfie", "screen-finish", "")
        .await?;

    check(b, kind, "finish", &mut found).await?;
    b.testid("finish-submit").await?.click().await?;
    b.wait_screen("screen-result").await?;
    b.wait_for("[data-testid=result-countdown]").await?;
    // The countdown must not leave while the checks run.
    if let Ok(pause) = b.testid("result-pause").await {
        pause.click().await?;
    }
    check(b, kind, "result", &mut found).await?;
    Ok(found)
}

/// Moves this tab's record of the server's last answer back so that the session's idle time ends
/// `ago_s` seconds from now (as if the person had done nothing since; negative: ended that long
/// ago), and returns the session's idle time, from the server.
pub async fn idle_for(b: &Ctx, ago_s: i64) -> Result<i64, BoxError> {
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

/// Makes the page's camera fail as `name` (a `DOMException` name: `NotAllowedError` when the
/// person or the browser refused, `NotFoundError` when there is no camera), in any engine. The
/// camera permission reads "prompt" (as on a first visit), so the primer is shown first.
async fn camera_fails_with(b: &Ctx, name: &str) -> Result<(), BoxError> {
    b.js(
        "const n = arguments[0]; \
         navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('e2e', n)); \
         if (n === 'NotFoundError') navigator.mediaDevices.enumerateDevices = () => Promise.resolve([]); \
         if (navigator.permissions) { const q = navigator.permissions.query.bind(navigator.permissions); \
           navigator.permissions.query = (d) => d && d.name === 'camera' \
             ? Promise.resolve({ state: 'prompt', onchange: null, \
                 addEventListener() {}, removeEventListener() {} }) : q(d); } \
         return null;",
        vec![json!(name)],
    )
    .await?;
    Ok(())
}

/// The screens off [`walk`], in `lang`, each checked with `kind`: an error page (unknown
/// project); the camera primer (in every engine: the permission is made to read "prompt"); the
/// camera refused (the steps to allow it, "try again") and missing (go on on a
/// phone: the handoff panel with its QR code; the camera is made to fail through
/// `getUserMedia`, so every engine reaches them); the liveness step (the active-liveness
/// project: its introduction, then running, where the synthetic camera shows no face); the idle
/// warning and its end (over the liveness introduction).
pub async fn other_screens(b: &Ctx, lang: &str, kind: Check) -> Result<Vec<String>, BoxError> {
    let mut found = Vec::new();
    let run = std::process::id();
    b.open(&format!("/?pid=nope&lang={lang}")).await?;
    b.wait_screen("screen-error").await?;
    check(b, kind, "error page", &mut found).await?;

    for (failure, what) in [("NotAllowedError", "refused"), ("NotFoundError", "missing")] {
        b.open(&b.gcm_link(
            &format!(
                r#"{{"userid":"cam-{lang}-{what}-{kind:?}-{run}","selectedIssuingCountry":"KOR","selectedIdType":"passport"}}"#
            ),
            &format!("&lang={lang}"),
        ))
        .await?;
        b.wait_screen("screen-welcome").await?;
        camera_fails_with(b, failure).await?;
        b.accept_consent().await?;
        b.wait_screen("screen-document-front").await?;
        if failure == "NotAllowedError" {
            // The primer, before the browser would ask.
            b.wait_for("[data-testid=capture][data-phase=primer]")
                .await?;
            check(b, kind, "camera primer", &mut found).await?;
        }
        b.wait_until("the camera's problem is shown", || async {
            let v = b.capture_phase().await?;
            if v == "primer" {
                b.js(
                    "document.querySelector('[data-testid=camera-allow]').click(); return null;",
                    vec![],
                )
                .await?;
            }
            Ok(v == "problem")
        })
        .await?;
        if failure == "NotAllowedError" {
            b.wait_for("[data-testid=camera-help-steps]").await?;
        }
        check(b, kind, &format!("camera {what}"), &mut found).await?;
        if failure == "NotFoundError" {
            b.wait_for("[data-testid=handoff-start]")
                .await?
                .click()
                .await?;
            b.wait_for("[data-testid=handoff-qr]").await?;
            check(b, kind, "handoff panel", &mut found).await?;
        }
    }

    b.open(&b.live_link(
        &format!(
            r#"{{"userid":"live-{lang}-{kind:?}-{run}","selectedIssuingCountry":"KOR","selectedIdType":"passport"}}"#
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
    check(b, kind, "liveness: introduction", &mut found).await?;

    // The idle warning, then its end, over the step (nothing is sent while the person reads);
    // then the clock as it really is, and the step goes on.
    idle_for(b, 60).await?;
    b.wait_for("[data-testid=idle-warning]").await?;
    check(b, kind, "idle warning", &mut found).await?;
    let idle = idle_for(b, -10).await?;
    b.wait_for("[data-testid=idle-ended]").await?;
    check(b, kind, "idle: ended", &mut found).await?;
    idle_for(b, idle).await?;
    b.wait_until("the idle notice is gone", || async {
        Ok(b.js("return !document.querySelector('.lf-idle');", vec![])
            .await?
            == json!(true))
    })
    .await?;

    b.testid("liveness-start").await?.click().await?;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    check(b, kind, "liveness: running", &mut found).await?;
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Layout: nothing clipped, overlapping or scrolling sideways.
// ---------------------------------------------------------------------------------------------

/// Every visible element with text of its own: a block whose content is wider than its box
/// (`scrollWidth > clientWidth`), an inline one that leaves the viewport, two text boxes of
/// unrelated elements that overlap (under an open modal dialog, only the dialog's), and a page
/// wider than the viewport. Hidden things, the
/// screen-reader-only live region and `<option>`s (drawn by the browser's own picker) are left
/// out.
const LAYOUT_JS: &str = r#"
const out = [];
const vw = document.documentElement.clientWidth;
const sw = document.documentElement.scrollWidth;
if (sw > vw + 1) out.push(`the page scrolls sideways: ${sw} > ${vw} CSS px`);
const name = (e) => {
  const t = e.getAttribute('data-testid');
  return e.tagName.toLowerCase() + (t ? `[data-testid=${t}]` : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '');
};
const boxes = [];
for (const e of document.querySelectorAll('body *')) {
  if (e.closest('[hidden], .lf-sr-only, option, select, script, style, template, #lf-fallback')) continue;
  const own = [...e.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
  if (!own.length) continue;
  const cs = getComputedStyle(e);
  if (cs.display === 'none' || cs.visibility === 'hidden' || e.getClientRects().length === 0) continue;
  const text = e.textContent.trim().slice(0, 60);
  if (cs.display !== 'inline' && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {
    out.push(`clipped: ${name(e)} (${e.scrollWidth} > ${e.clientWidth} CSS px): "${text}"`);
  }
  for (const n of own) {
    const r = document.createRange();
    r.selectNodeContents(n);
    for (const b of r.getClientRects()) {
      if (b.width < 1 || b.height < 1) continue;
      if (b.left < -1 || b.right > vw + 1) out.push(`outside the viewport: ${name(e)} [${Math.round(b.left)}, ${Math.round(b.right)}] of ${vw}: "${text}"`);
      boxes.push({ e, b, text });
    }
  }
}
// Under an open modal dialog the page is covered by its backdrop: only the dialog's own text
// boxes must not overlap.
const modal = document.querySelector('[aria-modal=true]');
for (let i = 0; i < boxes.length; i++) {
  for (let j = i + 1; j < boxes.length; j++) {
    const p = boxes[i], q = boxes[j];
    if (p.e === q.e || p.e.contains(q.e) || q.e.contains(p.e)) continue;
    if (modal && !(modal.contains(p.e) && modal.contains(q.e))) continue;
    const w = Math.min(p.b.right, q.b.right) - Math.max(p.b.left, q.b.left);
    const h = Math.min(p.b.bottom, q.b.bottom) - Math.max(p.b.top, q.b.top);
    if (w > 2 && h > 2) out.push(`overlap: ${name(p.e)} "${p.text}" and ${name(q.e)} "${q.text}" (${Math.round(w)}×${Math.round(h)} CSS px)`);
  }
}
return out;
"#;

/// Checks [`LAYOUT_JS`] on the page as it is now.
pub async fn layout(b: &Ctx, screen: &str, found: &mut Vec<String>) -> Result<(), BoxError> {
    let v = b.js(LAYOUT_JS, vec![]).await?;
    let problems: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    eprintln!("    layout on {screen}: {} problem(s)", problems.len());
    found.extend(problems.into_iter().map(|p| format!("{screen}: {p}")));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The pseudo-locale.
// ---------------------------------------------------------------------------------------------

/// English made "foreign" and 40 % longer, to find text that does not fit: letters accented
/// (`Step` → `Šţéþ`), `{placeholders}` kept, pseudo-words appended, all in brackets so that a cut
/// end shows.
pub fn pseudo(s: &str) -> String {
    let mut out = String::from("⟦");
    let mut in_placeholder = false;
    for c in s.chars() {
        match c {
            '{' => in_placeholder = true,
            '}' => in_placeholder = false,
            _ => {}
        }
        out.push(if in_placeholder { c } else { accent(c) });
    }
    let target = (s.chars().count() * 14).div_ceil(10);
    let mut n = s.chars().count();
    let words = ["ŵöŕđ", "ļöñĝéŕ", "ţéẋţ", "ƒöŕ", "ŝþáçé"];
    let mut i = 0;
    while n < target {
        let w = words[i % words.len()];
        out.push(' ');
        out.push_str(w);
        n += w.chars().count() + 1;
        i += 1;
    }
    out.push('⟧');
    out
}

fn accent(c: char) -> char {
    match c {
        'a' => 'á',
        'c' => 'ç',
        'e' => 'é',
        'g' => 'ĝ',
        'i' => 'í',
        'n' => 'ñ',
        'o' => 'ö',
        'r' => 'ŕ',
        's' => 'š',
        't' => 'ţ',
        'u' => 'ü',
        'y' => 'ý',
        'z' => 'ž',
        'A' => 'Å',
        'C' => 'Ç',
        'E' => 'É',
        'I' => 'Í',
        'O' => 'Ö',
        'S' => 'Š',
        'U' => 'Ü',
        c => c,
    }
}

/// A copy of the built SPA (`LIVEFORM_DIST`, else `dist/`) in `target/e2e-pseudo-dist/` whose
/// `lang` strings are the pseudo-locale of English (main and capture module): everything else is
/// linked to the original. Returns its path, for `LIVEFORM_DIST`.
pub fn pseudo_dist(lang: &str) -> std::io::Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dist = std::env::var_os("LIVEFORM_DIST")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("dist"));
    let dist = std::fs::canonicalize(dist)?;
    let out = root.join("target/e2e-pseudo-dist");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    for e in std::fs::read_dir(&dist)? {
        let e = e?;
        if e.file_name() != "locales" {
            std::os::unix::fs::symlink(e.path(), out.join(e.file_name()))?;
        }
    }
    copy_tree(&dist.join("locales"), &out.join("locales"))?;
    for part in ["", "capture/"] {
        let en: serde_json::Map<String, Value> = serde_json::from_str(&std::fs::read_to_string(
            root.join(format!("locales/{part}en.json")),
        )?)?;
        let p: serde_json::Map<String, Value> = en
            .into_iter()
            .map(|(k, v)| (k, json!(pseudo(v.as_str().unwrap_or("")))))
            .collect();
        let file = out.join(format!("locales/{part}{lang}.json"));
        std::fs::write(&file, serde_json::to_string(&p)?)?;
        for ext in ["br", "gz"] {
            let _ = std::fs::remove_file(file.with_extension(format!("json.{ext}")));
        }
    }
    Ok(out)
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        } else {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("e-mail (invalid)"), "e-mail-invalid");
        assert_eq!(
            super::slug("document: camera primer"),
            "document-camera-primer"
        );
        assert_eq!(super::slug("ID type"), "id-type");
    }

    #[test]
    fn pseudo_keeps_placeholders_and_is_longer() {
        let p = super::pseudo("Step {current} of {total}");
        assert!(p.contains("{current}") && p.contains("{total}"), "{p}");
        assert!(p.starts_with("⟦Šţép"), "{p}");
        assert!(
            p.chars().count() >= "Step {current} of {total}".len() * 14 / 10,
            "{p}"
        );
    }
}
