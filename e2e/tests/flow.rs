//! The whole flow end to end, from the integrator's link to its Return URL: consent, the three
//! captures (Chromium's fake camera; the project has no active-liveness step, tests/selfie.rs has
//! it; each still is uploaded and stored before the flow moves
//! on), finish, the result page's countdown and the navigation to the Return URL, whose
//! `encrypted` value is decrypted with the project key and checked against the results API.
//! Also: uploads that meet 503s and a dropped connection still complete with one submission
//! holding every capture (the page shows "reconnecting", never an error page); a reload after
//! the front side resumes at the back side; an error page returns with its code.

use liveform_core::launch::crypto;
use liveform_e2e::{
    tests, BoxError, Ctx, TestResult, RETURN_API_KEY, RETURN_KEY, RETURN_PATH, SESSION_STORAGE_KEY,
};
use serde_json::{json, Value};

fn main() {
    liveform_e2e::suite(
        "flow",
        tests![
            link_to_return_url,
            uploads_survive_503s_and_a_dropped_connection,
            reload_after_the_front_resumes_at_the_back,
            error_page_returns_with_its_code,
        ],
    );
}

/// A link straight to the document steps (country and type chosen by the link; the driving
/// licence has a back side).
fn flow_link(b: &Ctx, userid: &str) -> String {
    b.return_link(
        &format!(
            r#"{{"userid":"{userid}","cf1":"order-{userid}","selectedIssuingCountry":"KOR","selectedIdType":"drivers_license"}}"#
        ),
        "&lang=en",
    )
}

/// Records, in the page, every upload state shown and the time from the shutter click to
/// "stored" (`window.__lf`), through a MutationObserver (nothing is missed between polls).
const WATCH_JS: &str = r#"
if (!window.__lf) {
  window.__lf = { states: [], t0: 0, stored: [] };
  const seen = () => {
    const e = document.querySelector('[data-testid=upload-status]');
    if (!e) return;
    const s = e.getAttribute('data-state');
    const w = window.__lf;
    if (w.states[w.states.length - 1] !== s) w.states.push(s);
    if (s === 'stored' && w.t0) { w.stored.push(performance.now() - w.t0); w.t0 = 0; }
  };
  new MutationObserver(seen).observe(document.documentElement,
    { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
}
return null;
"#;

async fn watch(b: &Ctx) -> TestResult {
    b.js(WATCH_JS, vec![]).await?;
    Ok(())
}

async fn watched(b: &Ctx) -> Result<Value, BoxError> {
    b.js("return window.__lf || null;", vec![]).await
}

/// On a capture step: the shutter and "Use this photo" (timed from that click to "stored" by
/// the page's recorder); then the next screen.
async fn capture(b: &Ctx, screen: &str, next: &str) -> TestResult {
    b.wait_screen(screen).await?;
    watch(b).await?;
    b.capture_with_shutter(screen, next, "window.__lf.t0 = performance.now()")
        .await
}

/// Consent, then every capture up to the finish screen. Returns the confirm→stored times (ms).
async fn capture_all(b: &Ctx) -> Result<Vec<f64>, BoxError> {
    b.accept_consent().await?;
    let steps = [
        ("screen-document-front", "screen-document-back"),
        ("screen-document-back", "screen-selfie"),
        ("screen-selfie", "screen-finish"),
    ];
    let mut times = Vec::new();
    for (screen, next) in steps {
        capture(b, screen, next).await?;
        // The step changed: the page's record is still there (same document).
        if let Some(t) = watched(b).await?["stored"]
            .as_array()
            .and_then(|a| a.last())
        {
            times.push(t.as_f64().unwrap_or(0.0));
        }
        b.js(
            "if (window.__lf) window.__lf.stored = []; return null;",
            vec![],
        )
        .await?;
    }
    Ok(times)
}

/// What the server holds for this tab's session (`GET /api/session/captures`).
async fn held(b: &Ctx) -> Result<Value, BoxError> {
    let stored = b
        .session_storage(SESSION_STORAGE_KEY)
        .await?
        .ok_or("no session in sessionStorage")?;
    let token = serde_json::from_str::<Value>(&stored)?["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let (status, body) = liveform_e2e::http_request(
        b.addr()?,
        "GET",
        "/api/session/captures",
        &[("x-liveform-session", token.as_str())],
        None,
    )
    .await?;
    if status != 200 {
        return Err(format!("GET /api/session/captures: {status} {body}").into());
    }
    Ok(serde_json::from_str(&body)?)
}

/// Finish → Submit → result page → (after the countdown) the Return URL. Returns its decrypted
/// fields.
async fn submit_and_return(b: &Ctx) -> Result<Value, BoxError> {
    b.wait_screen("screen-finish").await?;
    let items = b
        .attr_values("[data-testid^=finish-item-]", "data-testid")
        .await?;
    assert_eq!(items.len(), 3, "the summary lists every capture: {items:?}");
    b.testid("finish-submit").await?.click().await?;
    b.wait_screen("screen-result").await?;
    b.wait_value("result status", "pending", || async {
        let v = b
            .js(
                "const e = document.querySelector('[data-testid=result]'); \
                 return e ? e.getAttribute('data-status') : '';",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or("").to_owned())
    })
    .await?;
    b.testid("result-countdown").await?;
    // The countdown (5 s) leaves for the Return URL by itself.
    b.wait_until("the browser is at the Return URL", || async {
        Ok(b.client.current_url().await?.path() == RETURN_PATH)
    })
    .await?;
    let url = b.client.current_url().await?;
    assert!(url.as_str().starts_with(&b.url(RETURN_PATH)), "{url}");
    let encrypted = url
        .query_pairs()
        .find(|(k, _)| k == "encrypted")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no encrypted parameter in {url}"))?;
    let plain = crypto::decrypt_ecb(RETURN_KEY, &encrypted)
        .map_err(|e| format!("decrypting the Return URL: {e:?}"))?;
    Ok(serde_json::from_slice(&plain)?)
}

async fn submission(b: &Ctx, query: &str) -> Result<Value, BoxError> {
    b.results_get(RETURN_API_KEY, &format!("/v3/submission?{query}"))
        .await
}

fn assert_complete(item: &Value) {
    for k in ["idImage", "idBackImage", "selfieImage"] {
        assert!(item["image"][k].is_string(), "{k} missing: {item}");
    }
    // This project has no active-liveness step (tests/selfie.rs covers it).
    assert!(item["image"]["livenessImage"].is_null(), "{item}");
}

async fn link_to_return_url(b: Ctx) -> TestResult {
    b.open(&flow_link(&b, "flow1")).await?;
    let times = capture_all(&b).await?;
    // Bytes per capture, as the server stored them.
    let list = held(&b).await?;
    let caps = list["captures"].as_array().cloned().unwrap_or_default();
    assert_eq!(caps.len(), 3, "{list}");
    assert_eq!(list["missing"], json!([]), "{list}");
    for c in &caps {
        assert_eq!(c["content_type"], "image/jpeg", "{c}");
        eprintln!(
            "flow: {} {} bytes {}x{}",
            c["slot"].as_str().unwrap_or("?"),
            c["bytes"],
            c["width"],
            c["height"]
        );
    }
    eprintln!("flow: confirm→stored (ms, loopback): {times:?}");
    let fields = submit_and_return(&b).await?;
    assert_eq!(fields["kycStatus"], "pending", "{fields}");
    assert_eq!(fields["userid"], "flow1", "{fields}");
    assert_eq!(fields["cf1"], "order-flow1", "{fields}");
    let sid = fields["submissionId"]
        .as_str()
        .ok_or("no submissionId in the Return URL")?
        .to_owned();
    let found = submission(&b, &format!("submission_id={sid}")).await?;
    assert_eq!(found["count"], json!(1), "{found}");
    let item = &found["Items"][0];
    assert_eq!(item["submission_id"], sid.as_str());
    assert_eq!(item["data"]["userid"], "flow1");
    assert_eq!(item["data"]["cf1"], "order-flow1");
    assert_eq!(item["kyc"]["result"], "pending");
    assert_complete(item);
    Ok(())
}

async fn uploads_survive_503s_and_a_dropped_connection(b: Ctx) -> TestResult {
    b.open(&flow_link(&b, "flow2")).await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    // The next two uploads answer 503, the one after loses its connection mid-body.
    b.arm_upload_faults(2, 1).await?;
    capture(&b, "screen-document-front", "screen-document-back").await?;
    let seen = watched(&b).await?;
    let states: Vec<&str> = seen["states"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        states.contains(&"reconnecting"),
        "the page showed the reconnecting state: {states:?}"
    );
    assert_eq!(states.last(), Some(&"stored"), "{states:?}");
    assert!(!states.contains(&"failed"), "{states:?}");
    for (screen, next) in [
        ("screen-document-back", "screen-selfie"),
        ("screen-selfie", "screen-finish"),
    ] {
        capture(&b, screen, next).await?;
    }
    let fields = submit_and_return(&b).await?;
    assert_eq!(fields["userid"], "flow2", "{fields}");
    let found = submission(&b, "userid=flow2").await?;
    assert_eq!(found["count"], json!(1), "exactly one submission: {found}");
    assert_complete(&found["Items"][0]);
    assert_eq!(found["Items"][0]["submission_id"], fields["submissionId"]);
    Ok(())
}

async fn reload_after_the_front_resumes_at_the_back(b: Ctx) -> TestResult {
    b.open(&flow_link(&b, "flow3")).await?;
    b.accept_consent().await?;
    capture(&b, "screen-document-front", "screen-document-back").await?;
    b.client.refresh().await?;
    b.wait_screen("screen-document-back").await?;
    // The server holds the front only.
    let list = held(&b).await?;
    assert_eq!(
        list["missing"],
        json!(["document_back", "selfie"]),
        "{list}"
    );
    Ok(())
}

/// A link that cannot open a session (tampered `encrypted`): the error page asks the server for
/// the project's Return URL with the code and offers it; the button goes there.
async fn error_page_returns_with_its_code(b: Ctx) -> TestResult {
    let bad = liveform_e2e::tampered_ecb(r#"{"userid":"u9"}"#);
    b.open(&format!(
        "/?pid={}&encrypted={}&lang=en",
        liveform_e2e::PID,
        liveform_e2e::urlencode(&bad)
    ))
    .await?;
    b.wait_screen("screen-error").await?;
    let button = b.testid("error-return").await?;
    assert_eq!(button.text().await?.trim(), "Return to the website");
    button.click().await?;
    b.wait_until("the browser is at the Return URL", || async {
        Ok(b.client.current_url().await?.path() == RETURN_PATH)
    })
    .await?;
    let url = b.client.current_url().await?;
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "errorCode")
        .map(|(_, v)| v.into_owned());
    assert_eq!(code.as_deref(), Some("LF-40003"), "{url}");
    Ok(())
}
