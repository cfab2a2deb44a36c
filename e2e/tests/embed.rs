//! The form inside an integrator's frame (issue 9): the host kit's example page
//! (`/embed/example.html`, served from the second loopback origin `http://localhost:PORT`, which
//! the e2e project lists in `allowed_origins`) embeds the form (`http://127.0.0.1:PORT`) and
//! records every event it hears (`window.liveformEvents`). The events come from the form's
//! origin, in order (`ready`, the steps, `complete` with the Return URL), the frame never loads
//! the Return URL, and the host's commands (`set_language`, `close`) work. A project that does
//! not list the host's origin cannot be framed by it (`frame-ancestors`), and a host that is not
//! listed hears nothing even where framing is allowed ('self').

use liveform_e2e::{tests, urlencode, BoxError, Ctx, TestResult, RETURN_PATH};
use serde_json::Value;

fn main() {
    liveform_e2e::suite(
        "embed",
        tests![
            host_hears_every_event_through_complete,
            host_commands_switch_language_and_close,
            unlisted_origins_get_nothing,
        ],
    );
}

const LINK_JSON: &str =
    r#"{"userid":"embed1","selectedIssuingCountry":"KOR","selectedIdType":"drivers_license"}"#;

/// The example host page on `origin` embedding `form_link` (a path on the form server).
fn host_page(b: &Ctx, origin: &str, form_link: &str) -> String {
    format!(
        "{origin}/embed/example.html?form={}",
        urlencode(&b.url(form_link))
    )
}

async fn events(b: &Ctx) -> Result<Vec<Value>, BoxError> {
    let v = b.js("return window.liveformEvents || [];", vec![]).await?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

fn types(ev: &[Value]) -> Vec<String> {
    ev.iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Waits until the host has heard an event of `kind` (at least `count` of them).
async fn wait_event(b: &Ctx, kind: &str, count: usize) -> Result<Vec<Value>, BoxError> {
    b.wait_until(&format!("the host hears {count} × {kind}"), || async {
        Ok(types(&events(b).await?)
            .iter()
            .filter(|t| *t == kind)
            .count()
            >= count)
    })
    .await?;
    events(b).await
}

async fn host_hears_every_event_through_complete(b: Ctx) -> TestResult {
    let link = b.ecb_link(LINK_JSON, "&lang=en");
    b.client
        .goto(&host_page(&b, &b.other_origin(), &link))
        .await?;
    let ev = wait_event(&b, "step", 1).await?;
    let t = types(&ev);
    assert_eq!(
        t.first().map(String::as_str),
        Some("ready"),
        "ready first: {t:?}"
    );
    let ready = &ev[0]["payload"];
    assert_eq!(ready["lang"], "en");
    let nonce = ready["nonce"].as_str().unwrap_or("");
    assert!(
        nonce.len() == 32 && nonce.chars().all(|c| c.is_ascii_hexdigit()),
        "a fresh 128-bit nonce: {nonce}"
    );
    let first_step = ev
        .iter()
        .find(|e| e["type"] == "step")
        .cloned()
        .unwrap_or_default();
    assert_eq!(first_step["payload"]["step"], "consent", "{first_step}");
    assert_eq!(first_step["payload"]["index"], 1);

    // Through the form inside the frame.
    b.wait_for("iframe").await?;
    b.client.enter_frame(0).await?;
    // Script clicks: WebKitGTK's driver misplaces pointer clicks inside a cross-origin frame (the
    // welcome's language switch moved the box and Start to where its clicks miss).
    b.wait_screen("screen-welcome").await?;
    b.js(
        "document.querySelector('[data-testid=consent-checkbox]').click(); \
         document.querySelector('[data-testid=consent-start]').click(); return null;",
        vec![],
    )
    .await?;
    let steps = [
        ("screen-document-front", "screen-document-back"),
        ("screen-document-back", "screen-selfie"),
        ("screen-selfie", "screen-finish"),
    ];
    for (screen, next) in steps {
        b.capture_with_shutter(screen, next, "").await?;
    }
    // A script click: WebKitGTK's driver misplaces pointer clicks inside a cross-origin frame.
    b.testid("finish-submit").await?;
    b.js(
        "document.querySelector('[data-testid=finish-submit]').click(); return null;",
        vec![],
    )
    .await?;
    b.wait_screen("screen-result").await?;
    b.client.enter_parent_frame().await?;
    let ev = wait_event(&b, "complete", 1).await?;
    let t = types(&ev);

    // Every event from the form's origin, in order; `complete` carries the Return URL.
    for e in &ev {
        assert_eq!(e["origin"].as_str(), Some(b.url("").as_str()), "{e}");
    }
    let shown: Vec<String> = ev
        .iter()
        .filter(|e| e["type"] == "step")
        .map(|e| e["payload"]["step"].as_str().unwrap_or("").to_owned())
        .collect();
    let want = [
        "consent",
        "document_front",
        "document_back",
        "selfie",
        "finish",
        "result",
    ];
    let mut it = shown.iter();
    for w in want {
        assert!(it.any(|s| s == w), "steps in order, {w} missing: {shown:?}");
    }
    let complete = ev
        .iter()
        .find(|e| e["type"] == "complete")
        .cloned()
        .unwrap_or_default();
    let last_step = t.iter().rposition(|x| x == "step").unwrap_or(0);
    let complete_at = t.iter().position(|x| x == "complete").unwrap_or(0);
    assert!(
        complete_at > last_step,
        "complete after the last step: {t:?}"
    );
    let p = &complete["payload"];
    assert_eq!(p["status"], "pending", "{p}");
    assert!(
        p["submissionId"].as_str().is_some_and(|s| !s.is_empty()),
        "{p}"
    );
    assert!(
        p["returnUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with(&b.url(RETURN_PATH))),
        "{p}"
    );
    // The content height was reported and the frame follows it.
    let resize = ev
        .iter()
        .rev()
        .find(|e| e["type"] == "resize")
        .cloned()
        .unwrap_or_default();
    let h = resize["payload"]["height"].as_u64().unwrap_or(0);
    assert!(h > 100, "a content height: {resize}");
    // The frame stays on the result page (the Return URL is the host's to use), even after the
    // 5-second countdown a top-level page would have.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    b.client.enter_frame(0).await?;
    b.wait_screen("screen-result").await?;
    let url = b.client.current_url().await?;
    assert_ne!(
        url.path(),
        RETURN_PATH,
        "the frame never loads the Return URL"
    );
    b.client.enter_parent_frame().await?;
    Ok(())
}

async fn host_commands_switch_language_and_close(b: Ctx) -> TestResult {
    let link = b.ecb_link(LINK_JSON, "&lang=en");
    b.client
        .goto(&host_page(&b, &b.other_origin(), &link))
        .await?;
    wait_event(&b, "step", 1).await?;
    // set_language: the form reloads in Korean, resumes its session and says `ready` again.
    b.js(
        "const s = document.getElementById('lang'); s.value = 'ko'; \
         s.dispatchEvent(new Event('change')); return null;",
        vec![],
    )
    .await?;
    let ev = wait_event(&b, "ready", 2).await?;
    let readies: Vec<&Value> = ev.iter().filter(|e| e["type"] == "ready").collect();
    assert_eq!(readies[1]["payload"]["lang"], "ko", "{:?}", readies);
    assert_ne!(
        readies[0]["payload"]["nonce"], readies[1]["payload"]["nonce"],
        "a new nonce per page"
    );
    b.client.enter_frame(0).await?;
    b.wait_screen("screen-welcome").await?;
    let lang = b
        .js("return document.documentElement.lang;", vec![])
        .await?;
    assert_eq!(lang, "ko");
    b.client.enter_parent_frame().await?;
    // A forged command from the host page with a wrong nonce is ignored (still on the form).
    b.js(
        "document.querySelector('iframe').contentWindow.postMessage({source: 'liveform-host', \
         version: 1, type: 'close', nonce: 'wrong'}, '*'); return null;",
        vec![],
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(
        !types(&events(&b).await?).contains(&"cancel".to_owned()),
        "a wrong nonce closes nothing"
    );
    // close: `cancel` from the host's request, and the frame is emptied.
    b.js(
        "document.getElementById('close').click(); return null;",
        vec![],
    )
    .await?;
    let ev = wait_event(&b, "cancel", 1).await?;
    let cancel = ev
        .iter()
        .find(|e| e["type"] == "cancel")
        .cloned()
        .unwrap_or_default();
    assert_eq!(cancel["payload"]["reason"], "host", "{cancel}");
    b.client.enter_frame(0).await?;
    b.wait_until("the frame is emptied", || async {
        let v = b
            .js(
                "return !document.querySelector('[data-testid^=screen-]');",
                vec![],
            )
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    })
    .await?;
    b.client.enter_parent_frame().await?;
    Ok(())
}

async fn unlisted_origins_get_nothing(b: Ctx) -> TestResult {
    // 1. The GCM project lists no origin: another origin cannot frame it at all.
    let (status, headers) = head(&b, "/?pid=e2e-gcm").await?;
    assert_eq!(status, 200);
    assert!(
        headers.contains("frame-ancestors 'self'\r")
            || headers.contains("frame-ancestors 'self'\n"),
        "only the form's own origin may frame it: {headers}"
    );
    let link = b.gcm_link(r#"{"userid":"embed2"}"#, "&lang=en");
    b.client
        .goto(&host_page(&b, &b.other_origin(), &link))
        .await?;
    b.wait_for("iframe").await?;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        events(&b).await?.is_empty(),
        "nothing heard from a refused frame"
    );
    b.client.enter_frame(0).await?;
    let has_form = b
        .js(
            "return !!document.querySelector('#lf-root, [data-testid^=screen-]');",
            vec![],
        )
        .await
        .unwrap_or(Value::Bool(false));
    assert_eq!(
        has_form,
        Value::Bool(false),
        "the browser refused the framing"
    );
    b.client.enter_parent_frame().await?;

    // 2. A host on the form's own origin ('self' may frame) that is not in the e2e project's
    // allowed_origins: the form runs but posts to the listed origins only, so it hears nothing.
    let link = b.ecb_link(LINK_JSON, "&lang=en");
    b.client.goto(&host_page(&b, &b.url(""), &link)).await?;
    b.wait_for("iframe").await?;
    b.client.enter_frame(0).await?;
    b.wait_screen("screen-welcome").await?;
    b.client.enter_parent_frame().await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        events(&b).await?.is_empty(),
        "an unlisted host hears nothing: {:?}",
        events(&b).await?
    );
    Ok(())
}

/// The status and raw response head of `GET path` on the form server.
async fn head(b: &Ctx, path: &str) -> Result<(u16, String), BoxError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(b.addr()?).await?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, head + "\r\n"))
}
