//! Document capture end to end: the on-device quality gate with real camera feeds (Chromium reads
//! the stills of `core/tests/media/` as a camera, see scripts/make-feeds.sh): a sharp card is
//! captured by itself, front then back, and previewed; a blurred card gets the blur hint and is
//! never captured by itself, while the manual shutter still works; a passport page is captured as
//! a passport (TD3 frame). In Firefox and WebKitGTK (synthetic cameras) the manual path completes.

use liveform_e2e::{tests, BoxError, Ctx, Engine, Group, SuiteOptions, TestResult};
use serde_json::json;
use std::time::{Duration, Instant};

fn main() {
    liveform_e2e::suite_with(
        "document",
        &SuiteOptions::default(),
        &[
            Group::new(tests![manual_capture_path_completes]),
            Group::with_feed(
                "card-front-back.mjpeg",
                tests![sharp_card_is_captured_by_itself_front_and_back],
            ),
            Group::with_feed(
                "card-blur.mjpeg",
                tests![blurred_card_shows_the_blur_hint_and_the_shutter_works],
            ),
            Group::with_feed(
                "passport.mjpeg",
                tests![passport_page_is_captured_as_a_passport],
            ),
        ],
    );
}

fn link(b: &Ctx, id_type: &str) -> String {
    b.gcm_link(
        &format!(
            r#"{{"userid":"doc1","selectedIssuingCountry":"KOR","selectedIdType":"{id_type}"}}"#
        ),
        "&lang=en",
    )
}

async fn js_bool(b: &Ctx, script: &str) -> Result<bool, BoxError> {
    Ok(b.js(script, vec![]).await? == json!(true))
}

const STILL_SHOWN: &str = "const i = document.querySelector('[data-testid=capture-preview]'); \
    return !!i && i.complete && i.naturalWidth > 0 && !i.closest('[hidden]');";
const SHUTTER_SHOWN: &str = "const s = document.querySelector('[data-testid=shutter]'); \
    return !!s && !s.closest('[hidden]') && !s.hidden;";

async fn hint(b: &Ctx) -> Result<String, BoxError> {
    let v = b
        .js(
            "const h = document.querySelector('[data-testid=capture-hint]'); \
             return h ? h.getAttribute('data-hint') : null;",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or("").to_owned())
}

/// On `screen`: lets the camera run (through the primer when it is shown).
async fn live_on(b: &Ctx, screen: &str) -> TestResult {
    b.wait_screen(screen).await?;
    b.wait_until("the camera runs (or asks first)", || async {
        let p = b
            .js(
                "const e = document.querySelector('[data-testid=capture]'); \
                 return e ? e.getAttribute('data-phase') : null;",
                vec![],
            )
            .await?;
        if p == json!("primer") {
            b.testid("camera-allow").await?.click().await?;
        }
        Ok(p == json!("live"))
    })
    .await
}

/// Waits for the still preview without touching the shutter: the auto-capture took it.
async fn auto_captured(b: &Ctx, within: Duration) -> TestResult {
    let deadline = Instant::now() + within;
    loop {
        if js_bool(b, STILL_SHOWN).await? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no auto-capture within {within:?}; hint on screen: {:?}",
                hint(b).await?
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn confirm(b: &Ctx) -> TestResult {
    b.testid("capture-confirm").await?.click().await?;
    Ok(())
}

async fn manual_capture(b: &Ctx) -> TestResult {
    b.wait_until("the manual shutter appears", || async {
        js_bool(b, SHUTTER_SHOWN).await
    })
    .await?;
    b.testid("shutter").await?.click().await?;
    b.wait_until("the photo is previewed", || async {
        js_bool(b, STILL_SHOWN).await
    })
    .await
}

async fn manual_capture_path_completes(b: Ctx) -> TestResult {
    // Every engine's synthetic camera: no document in view, so the manual shutter.
    b.open(&link(&b, "drivers_license")).await?;
    b.accept_consent().await?;
    live_on(&b, "screen-document-front").await?;
    manual_capture(&b).await?;
    confirm(&b).await?;
    live_on(&b, "screen-document-back").await?;
    manual_capture(&b).await?;
    confirm(&b).await?;
    b.wait_screen("screen-selfie").await?;
    Ok(())
}

async fn sharp_card_is_captured_by_itself_front_and_back(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: a camera fed from a file)");
        return Ok(());
    }
    b.open(&link(&b, "drivers_license")).await?;
    b.accept_consent().await?;
    live_on(&b, "screen-document-front").await?;
    auto_captured(&b, Duration::from_secs(20)).await?;
    confirm(&b).await?;
    live_on(&b, "screen-document-back").await?;
    auto_captured(&b, Duration::from_secs(20)).await?;
    let size = b
        .js(
            "const i = document.querySelector('[data-testid=capture-preview]'); \
             return [i.naturalWidth, i.naturalHeight];",
            vec![],
        )
        .await?;
    assert_eq!(
        size,
        json!([640, 480]),
        "the capture keeps the camera's resolution"
    );
    confirm(&b).await?;
    b.wait_screen("screen-selfie").await?;
    Ok(())
}

async fn blurred_card_shows_the_blur_hint_and_the_shutter_works(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: a camera fed from a file)");
        return Ok(());
    }
    b.open(&link(&b, "drivers_license")).await?;
    b.accept_consent().await?;
    live_on(&b, "screen-document-front").await?;
    b.wait_value("guidance", "blur", || hint(&b)).await?;
    // Long enough for many runs of frames: it must never capture by itself.
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        assert!(
            !js_bool(&b, STILL_SHOWN).await?,
            "a blurred card was captured by itself"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    manual_capture(&b).await?;
    confirm(&b).await?;
    b.wait_screen("screen-document-back").await?;
    Ok(())
}

async fn passport_page_is_captured_as_a_passport(b: Ctx) -> TestResult {
    if b.engine != Engine::Chromium {
        eprintln!("    (Chromium only: a camera fed from a file)");
        return Ok(());
    }
    // A userid of its own, to find the submission in the results API.
    let userid = format!(
        "mrz-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    b.open(&b.gcm_link(
        &format!(
            r#"{{"userid":"{userid}","selectedIssuingCountry":"KOR","selectedIdType":"passport"}}"#
        ),
        "&lang=en",
    ))
    .await?;
    b.accept_consent().await?;
    live_on(&b, "screen-document-front").await?;
    let kind = b
        .js(
            "const f = document.querySelector('.lf-doc-frame'); \
             return f ? f.getAttribute('data-kind') : null;",
            vec![],
        )
        .await?;
    assert_eq!(kind, json!("td3"), "the frame has a passport page's shape");
    auto_captured(&b, Duration::from_secs(20)).await?;
    // The form reads the page's machine-readable zone on the photo before sending it.
    b.wait_until("the zone is read on the photo", || async {
        js_bool(
            &b,
            "const m = document.querySelector('[data-testid=mrz-status]'); \
             return !!m && m.getAttribute('data-mrz') === 'valid';",
        )
        .await
    })
    .await?;
    let ms = b
        .js(
            "return document.documentElement.getAttribute('data-lf-mrz-read-ms');",
            vec![],
        )
        .await?;
    eprintln!("    MRZ read on the device: {ms} ms");
    confirm(&b).await?;
    // A passport has one side: on to the selfie.
    b.wait_screen("screen-selfie").await?;
    // The server read the zone too: its fields are in the results API.
    let found = b
        .results_get(
            liveform_e2e::GCM_API_KEY,
            &format!("/v3/submission?userid={userid}"),
        )
        .await?;
    let it = &found["Items"][0];
    assert_eq!(it["ocr"]["mrz_valid"], json!(true), "{found}");
    assert_eq!(it["ocr"]["surname"], json!("ERIKSSON"), "{found}");
    assert_eq!(it["ocr"]["document_number"], json!("L898902C3"), "{found}");
    assert_eq!(it["ocr"]["date_of_birth"], json!("1974-08-12"), "{found}");
    assert_eq!(
        it["verification"]["documents"]["front"]["mrz"]["valid"],
        json!(true),
        "{found}"
    );
    Ok(())
}
