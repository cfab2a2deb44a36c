//! The whole flow end to end, from the integrator's link to its Return URL: consent, the three
//! captures (Chromium's fake camera; the project has no active-liveness step, tests/selfie.rs has
//! it; each still is uploaded and stored before the flow moves
//! on), finish, the result page's countdown and the navigation to the Return URL, whose
//! `encrypted` value is decrypted with the project key and checked against the results API.
//! Also: uploads that meet 503s and a dropped connection still complete with one submission
//! holding every capture (the page shows "reconnecting", never an error page); a reload after
//! the front side resumes at the back side; an error page returns with its code.

use liveform_e2e::flow::{
    assert_complete, capture, capture_all, flow_link, held, submission, submit_and_return, watched,
};
use liveform_e2e::{tests, Ctx, TestResult, RETURN_PATH};
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
