//! The camera engine end to end, in the engine chosen by `E2E_BROWSER`: the capture module loads
//! on the document step, the primer asks before the browser does, the preview runs. In Chromium
//! also: a denied permission gives the recovery screen and a grant starts the preview without a
//! reload (WebDriver "Set Permissions"); hiding the page releases the camera and showing it
//! re-acquires a new stream; a frame whose permissions policy blocks the camera gets the message
//! for the integrator; an in-app browser gets the "open in your browser" screen; a desktop hands
//! the session to a phone with a one-time link and follows it.

use fantoccini::wd::WebDriverCompatibleCommand;
use liveform_e2e::{tests, BoxError, Ctx, Engine, TestResult};
use serde_json::json;

fn main() {
    liveform_e2e::suite(
        "camera",
        tests![
            primer_then_live_preview,
            denied_gives_recovery_then_grant_starts_without_reload,
            hidden_page_releases_and_reacquires_the_camera,
            frame_without_camera_permission_tells_the_integrator,
            in_app_browser_gets_the_open_in_browser_screen,
            handoff_link_continues_on_another_device,
            a_photo_from_the_device_is_downscaled_and_previewed,
        ],
    );
}

/// A real same-origin document to act from (JSON shown as text; permissions and frames need a
/// real origin, which a 404 error page is not).
const HOST_PAGE: &str = "/locales/en.json";

/// A link straight to the document step (country and type chosen by the link).
fn document_link(b: &Ctx) -> String {
    b.gcm_link(
        r#"{"userid":"cam1","selectedIssuingCountry":"KOR","selectedIdType":"drivers_license"}"#,
        "&lang=en",
    )
}

/// W3C WebDriver "Set Permissions" for the camera on the current origin.
#[derive(Debug)]
struct SetCameraPermission(&'static str);

impl WebDriverCompatibleCommand for SetCameraPermission {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/permissions", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"descriptor": {"name": "camera"}, "state": self.0}).to_string()),
        )
    }
}

async fn set_camera(b: &Ctx, state: &'static str) -> TestResult {
    b.client.issue_cmd(SetCameraPermission(state)).await?;
    Ok(())
}

/// The capture module's phase (`data-phase`), once it has mounted.
async fn phase(b: &Ctx) -> Result<String, BoxError> {
    let v = b
        .js(
            "const e = document.querySelector('[data-testid=capture]'); \
             return e ? e.getAttribute('data-phase') : null;",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or("").to_owned())
}

async fn wait_phase(b: &Ctx, wanted: &'static [&'static str]) -> Result<String, BoxError> {
    b.wait_until(&format!("capture phase in {wanted:?}"), || async {
        Ok(wanted.contains(&phase(b).await?.as_str()))
    })
    .await?;
    phase(b).await
}

/// Whether the preview plays frames from a live track.
const PREVIEW_JS: &str = "const v = document.querySelector('[data-testid=camera-video]'); \
    if (!v || !v.srcObject) return null; \
    const t = v.srcObject.getVideoTracks()[0]; \
    return {w: v.videoWidth, h: v.videoHeight, paused: v.paused, state: t ? t.readyState : 'none', \
            inline: v.hasAttribute('playsinline'), muted: v.muted};";

async fn wait_preview_plays(b: &Ctx) -> TestResult {
    b.wait_until("the preview plays a live track", || async {
        let v = b.js(PREVIEW_JS, vec![]).await?;
        Ok(v["w"].as_u64().unwrap_or(0) > 0
            && v["paused"] == json!(false)
            && v["state"] == json!("live"))
    })
    .await?;
    let v = b.js(PREVIEW_JS, vec![]).await?;
    assert_eq!(v["inline"], json!(true), "the video plays inline: {v}");
    assert_eq!(v["muted"], json!(true), "the video is muted: {v}");
    Ok(())
}

/// Opens the document step and lets the camera run (through the primer when it is shown).
async fn to_live_preview(b: &Ctx) -> TestResult {
    b.open(&document_link(b)).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    if wait_phase(b, &["primer", "live"]).await? == "primer" {
        b.testid("camera-allow").await?.click().await?;
    }
    wait_phase(b, &["live"]).await?;
    wait_preview_plays(b).await
}

async fn primer_then_live_preview(b: Ctx) -> TestResult {
    b.open(&document_link(&b)).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    // The capture module is a separate download: it mounts inside the step.
    let first = wait_phase(&b, &["primer", "live"]).await?;
    if first == "primer" {
        // Nothing asked the browser yet: no stream before the tap.
        let v = b.js(PREVIEW_JS, vec![]).await?;
        assert!(v.is_null(), "no stream before the primer's button: {v}");
        b.testid("camera-allow").await?.click().await?;
    }
    wait_phase(&b, &["live"]).await?;
    wait_preview_plays(&b).await?;
    // The guidance speaks (a synthetic camera shows no document), and the manual shutter
    // appears after a few seconds so nobody is blocked.
    let hint = b.testid("capture-hint").await?;
    assert!(
        hint.attr("aria-live").await?.as_deref() == Some("polite"),
        "guidance is announced"
    );
    let shutter = b.testid("shutter").await?;
    b.wait_until("the manual shutter appears", || {
        let shutter = shutter.clone();
        async move { Ok(shutter.is_displayed().await?) }
    })
    .await?;
    // Manual capture: preview with retake / confirm.
    shutter.click().await?;
    b.wait_until("the captured photo is previewed", || async {
        let v = b
            .js(
                "const i = document.querySelector('[data-testid=capture-preview]'); \
                 return !!i && i.complete && i.naturalWidth > 0 && !i.closest('[hidden]');",
                vec![],
            )
            .await?;
        Ok(v == json!(true))
    })
    .await?;
    b.testid("capture-retake").await?.click().await?;
    wait_preview_plays(&b).await?;
    Ok(())
}

async fn denied_gives_recovery_then_grant_starts_without_reload(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: WebDriver Set Permissions)");
        return Ok(());
    }
    // Permissions are per origin: be on the origin first.
    b.open(HOST_PAGE).await?;
    set_camera(&b, "denied").await?;
    let outcome = async {
        b.open(&document_link(&b)).await?;
        b.accept_consent().await?;
        b.wait_screen("screen-document-front").await?;
        wait_phase(&b, &["problem"]).await?;
        let problem = b.wait_for("[data-testid=camera-problem]").await?;
        assert_eq!(
            problem.attr("data-code").await?.as_deref(),
            Some("LF-60101"),
            "camera denied"
        );
        let steps = b.testid("camera-help-steps").await?;
        assert_eq!(
            steps.attr("data-browser").await?.as_deref(),
            Some("chrome"),
            "the steps for desktop Chrome"
        );
        // Mark the page: a reload would lose this.
        b.js("window.__lfMarker = 42; return null;", vec![]).await?;
        set_camera(&b, "granted").await?;
        // The Permissions API reports the change; the page starts the camera by itself.
        wait_phase(&b, &["live"]).await?;
        wait_preview_plays(&b).await?;
        let marker = b.js("return window.__lfMarker || null;", vec![]).await?;
        assert_eq!(marker, json!(42), "the page was not reloaded");
        Ok::<(), BoxError>(())
    }
    .await;
    // Leave the browser as the other tests expect it.
    set_camera(&b, "granted").await?;
    outcome
}

async fn hidden_page_releases_and_reacquires_the_camera(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: page visibility through tab switching)");
        return Ok(());
    }
    to_live_preview(&b).await?;
    b.js(
        "window.__lfOld = document.querySelector('[data-testid=camera-video]').srcObject; \
         window.__lfHidden = 0; \
         document.addEventListener('visibilitychange', () => { \
           if (document.visibilityState === 'hidden') window.__lfHidden++; }); \
         return null;",
        vec![],
    )
    .await?;
    let form = b.client.window().await?;
    let other = b.client.new_window(true).await?;
    b.client.switch_to_window(other.handle.clone()).await?;
    b.cdp("Page.bringToFront", json!({})).await?;
    b.open(HOST_PAGE).await?;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    b.client.close_window().await?;
    b.client.switch_to_window(form).await?;
    b.cdp("Page.bringToFront", json!({})).await?;
    let hidden = b.js("return window.__lfHidden;", vec![]).await?;
    assert!(
        hidden.as_u64().unwrap_or(0) >= 1,
        "the form's page was hidden while the other tab was in front ({hidden})"
    );
    wait_phase(&b, &["live"]).await?;
    wait_preview_plays(&b).await?;
    let v = b
        .js(
            "const v = document.querySelector('[data-testid=camera-video]'); \
             return {same: v.srcObject === window.__lfOld, \
                     old: window.__lfOld.getVideoTracks()[0].readyState};",
            vec![],
        )
        .await?;
    assert_eq!(v["old"], json!("ended"), "the old stream was released: {v}");
    assert_eq!(v["same"], json!(false), "a new stream was acquired: {v}");
    Ok(())
}

async fn frame_without_camera_permission_tells_the_integrator(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: document.featurePolicy)");
        return Ok(());
    }
    // A host page whose iframe does not delegate the camera (`allow="camera 'none'"`, as a
    // cross-origin iframe without `allow="camera"` would be).
    b.open(HOST_PAGE).await?;
    b.js(
        "document.body.textContent = ''; const f = document.createElement('iframe'); \
         f.setAttribute('allow', \"camera 'none'\"); \
         f.style.width = '400px'; f.style.height = '700px'; \
         f.src = arguments[0]; document.body.appendChild(f); return null;",
        vec![json!(document_link(&b))],
    )
    .await?;
    b.wait_for("iframe").await?;
    b.client.enter_frame(0).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    wait_phase(&b, &["problem"]).await?;
    let problem = b.wait_for("[data-testid=camera-problem]").await?;
    assert_eq!(
        problem.attr("data-code").await?.as_deref(),
        Some("LF-60104"),
        "blocked by the permissions policy"
    );
    let text = b.testid_text("camera-integrator").await?;
    assert!(text.contains("allow=\"camera\""), "names the fix: {text}");
    // And a way forward for the person: continue on a phone.
    b.testid("handoff-start").await?;
    b.client.enter_parent_frame().await?;
    Ok(())
}

async fn in_app_browser_gets_the_open_in_browser_screen(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: user-agent override through DevTools)");
        return Ok(());
    }
    let ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
              Version/4.0 Chrome/126.0.0.0 Mobile Safari/537.36 Instagram 340.0.0.22.109 Android";
    b.cdp(
        "Network.setUserAgentOverride",
        json!({"userAgent": ua, "platform": "Android"}),
    )
    .await?;
    let outcome = async {
        b.open(&document_link(&b)).await?;
        b.accept_consent().await?;
        b.wait_screen("screen-document-front").await?;
        wait_phase(&b, &["problem"]).await?;
        b.testid("camera-escape").await?;
        // The Android escape: an intent: link that opens the same session in Chrome.
        let open = b.wait_for("[data-testid=escape-open]").await?;
        let href = open.attr("href").await?.unwrap_or_default();
        assert!(
            href.starts_with("intent://127.0.0.1:") && href.contains("handoff="),
            "intent link to this server's handoff URL: {href}"
        );
        assert!(href.contains("package=com.android.chrome"), "{href}");
        // No stream was requested.
        let v = b.js(PREVIEW_JS, vec![]).await?;
        assert!(v.is_null(), "no camera in the in-app browser: {v}");
        Ok::<(), BoxError>(())
    }
    .await;
    b.cdp("Network.setUserAgentOverride", json!({"userAgent": ""}))
        .await?;
    outcome
}

async fn handoff_link_continues_on_another_device(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: reaches the handoff panel through the blocked frame)");
        return Ok(());
    }
    // The desktop: a frame without the camera offers "continue on my phone".
    b.open(HOST_PAGE).await?;
    b.js(
        "document.body.textContent = ''; const f = document.createElement('iframe'); \
         f.setAttribute('allow', \"camera 'none'\"); \
         f.style.width = '400px'; f.style.height = '900px'; \
         f.src = arguments[0]; document.body.appendChild(f); return null;",
        vec![json!(document_link(&b))],
    )
    .await?;
    b.wait_for("iframe").await?;
    b.client.enter_frame(0).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    b.testid("handoff-start").await?.click().await?;
    let link = b.wait_for("[data-testid=handoff-link]").await?;
    let url = link.attr("href").await?.unwrap_or_default();
    assert!(url.contains("/?handoff="), "{url}");
    let svg = b
        .js(
            "const q = document.querySelector('[data-testid=handoff-qr] svg'); \
             return q ? q.getAttribute('viewBox') : null;",
            vec![],
        )
        .await?;
    assert!(svg.is_string(), "the QR code is an inline SVG");
    let desktop = b.client.window().await?;

    // The phone (another tab: its own sessionStorage) opens the link.
    let phone = b.client.new_window(true).await?;
    b.client.switch_to_window(phone.handle.clone()).await?;
    b.client.goto(&url).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    let search = b.location_search().await?;
    assert!(
        !search.contains("handoff"),
        "the one-time code left the address bar: {search}"
    );
    // The code works once: another device gets the coded page.
    let third = b.client.new_window(true).await?;
    b.client.switch_to_window(third.handle.clone()).await?;
    b.client.goto(&url).await?;
    let info = b.settled_screen().await?;
    assert_eq!(info.screen, "screen-error");
    assert_eq!(info.error_code.as_deref(), Some("LF-20003"), "used code");
    b.client.close_window().await?;
    b.client.switch_to_window(phone.handle.clone()).await?;
    b.client.close_window().await?;

    // The desktop follows along.
    b.client.switch_to_window(desktop).await?;
    b.client.enter_frame(0).await?;
    b.wait_until("the desktop shows that the phone took over", || async {
        let s = b
            .js(
                "const e = document.querySelector('[data-testid=handoff-status]'); \
                 return e ? e.getAttribute('data-state') : null;",
                vec![],
            )
            .await?;
        Ok(s == json!("claimed"))
    })
    .await?;
    b.client.enter_parent_frame().await?;
    Ok(())
}

/// A 24-bit BMP of `w`×`h` (a left-to-right grey ramp): decodable by every engine, written without
/// an image library.
fn bmp(w: u32, h: u32) -> Vec<u8> {
    let row = (w * 3).div_ceil(4) * 4;
    let size = 54 + row * h;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"BM");
    for v in [size, 0, 54, 40] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(w as i32).to_le_bytes());
    out.extend_from_slice(&(h as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    for v in [0u32, row * h, 2835, 2835, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for _ in 0..h {
        for x in 0..w {
            let g = (x * 255 / w.max(1)) as u8;
            out.extend_from_slice(&[g, g, g]);
        }
        out.resize(out.len() + (row - w * 3) as usize, 0);
    }
    out
}

async fn a_photo_from_the_device_is_downscaled_and_previewed(b: Ctx) -> TestResult {
    if b.engine == Engine::Webkit {
        eprintln!("    (not WebKitGTK: its driver cannot type a path into a file input)");
        return Ok(());
    }
    // The GCM project allows file upload; a 2600×1200 photo must arrive at 1920×886.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("photo.bmp");
    std::fs::write(&path, bmp(2600, 1200))?;
    b.open(&document_link(&b)).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    wait_phase(&b, &["primer", "live"]).await?;
    let input = b.wait_for("[data-testid=file-input]").await?;
    input.send_keys(&path.display().to_string()).await?;
    b.wait_until("the chosen photo is previewed", || async {
        let v = b
            .js(
                "const i = document.querySelector('[data-testid=capture-preview]'); \
                 return !!i && i.complete && i.naturalWidth > 0 && !i.closest('[hidden]');",
                vec![],
            )
            .await?;
        Ok(v == json!(true))
    })
    .await?;
    let size = b
        .js(
            "const i = document.querySelector('[data-testid=capture-preview]'); \
             return [i.naturalWidth, i.naturalHeight];",
            vec![],
        )
        .await?;
    assert_eq!(
        size,
        json!([1920, 886]),
        "downscaled to a 1920 px long edge"
    );
    b.testid("capture-confirm").await?;
    Ok(())
}
