//! The first screen of the form, in the engine chosen by `E2E_BROWSER`: links open the welcome
//! screen (or the right error page), the address bar is cleaned, the language applies, and a
//! reload resumes the same session. Every check reads the live DOM, so a wasm module that builds
//! but does not run fails here.

use liveform_core::launch::crypto::Algorithm;
use liveform_e2e::{
    encrypt, tampered_ecb, tests, urlencode, Ctx, TestResult, GCM_KEY, GCM_PID, GCM_PROJECT_NAME,
    PID, PROJECT_NAME, SESSION_STORAGE_KEY,
};

const OPTIONS: &str = r#"{"userid":"u1","email":"e2e@example.com"}"#;

fn main() {
    liveform_e2e::suite(
        "first_screen",
        tests![
            encrypted_link_shows_welcome_and_cleans_the_address_bar,
            tampered_link_shows_decrypt_error,
            reload_resumes_the_same_session,
            korean_link_sets_html_lang,
            unknown_pid_shows_unknown_project_error,
            gcm_link_shows_welcome,
        ],
    );
}

async fn search_is(b: &Ctx, expected: &str) -> TestResult {
    b.wait_value("location.search", expected, || b.location_search())
        .await
}

async fn welcome_title(b: &Ctx) -> Result<String, liveform_e2e::BoxError> {
    let h = b.testid("welcome-title").await?;
    let tag = h.tag_name().await?.to_ascii_lowercase();
    assert_eq!(tag, "h1", "welcome-title must be the page's h1");
    Ok(h.text().await?.trim().to_owned())
}

async fn encrypted_link_shows_welcome_and_cleans_the_address_bar(b: Ctx) -> TestResult {
    b.open(&b.ecb_link(OPTIONS, "&lang=en&utm_source=x"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    let title = welcome_title(&b).await?;
    assert!(
        title.contains(PROJECT_NAME),
        "welcome heading {title:?} lacks the project name {PROJECT_NAME:?}"
    );
    search_is(&b, &format!("?pid={PID}&lang=en")).await?;
    assert_eq!(b.html_lang().await?, "en", "<html lang>");

    // Consent gates the start button: this only works if the wasm app really runs.
    let start = b.testid("consent-start").await?;
    assert!(
        !start.is_enabled().await?,
        "consent-start is enabled before the checkbox is ticked"
    );
    let checkbox = b.testid("consent-checkbox").await?;
    checkbox.click().await?;
    b.wait_until("consent-start is enabled after ticking consent", || {
        let start = start.clone();
        async move { Ok(start.is_enabled().await?) }
    })
    .await?;
    assert!(
        checkbox.is_selected().await?,
        "consent-checkbox is not checked after a click"
    );
    Ok(())
}

async fn tampered_link_shows_decrypt_error(b: Ctx) -> TestResult {
    let ct = tampered_ecb(OPTIONS);
    b.open(&format!("/?pid={PID}&encrypted={}&lang=en", urlencode(&ct)))
        .await?;
    b.wait_screen("screen-error").await?;
    assert_eq!(b.testid_text("error-code").await?, "LF-40003", "error-code");
    let title = b.testid_text("error-title").await?;
    assert!(!title.is_empty(), "error-title is empty");
    b.testid("error-action").await?;
    b.testid("error-reference").await?;
    let body = b.body_text().await?;
    assert!(
        body.len() > title.len(),
        "error page is (nearly) blank: {body:?}"
    );
    Ok(())
}

async fn reload_resumes_the_same_session(b: Ctx) -> TestResult {
    b.open(&b.ecb_link(OPTIONS, "&lang=en")).await?;
    b.wait_screen("screen-welcome").await?;
    search_is(&b, &format!("?pid={PID}&lang=en")).await?;
    let token = b.session_storage(SESSION_STORAGE_KEY).await?;
    let token = match token {
        Some(t) if !t.trim().is_empty() => t,
        other => panic!("sessionStorage[{SESSION_STORAGE_KEY:?}] after load: {other:?}"),
    };

    // The address bar no longer has `encrypted`: only the stored session can bring this back.
    b.client.refresh().await?;
    b.wait_screen("screen-welcome").await?;
    let title = welcome_title(&b).await?;
    assert!(
        title.contains(PROJECT_NAME),
        "after reload the heading is {title:?}"
    );
    search_is(&b, &format!("?pid={PID}&lang=en")).await?;
    let again = b.session_storage(SESSION_STORAGE_KEY).await?;
    assert_eq!(
        again.as_deref(),
        Some(token.as_str()),
        "the reload started a new session instead of resuming"
    );
    Ok(())
}

async fn korean_link_sets_html_lang(b: Ctx) -> TestResult {
    b.open(&b.ecb_link(OPTIONS, "&lang=ko")).await?;
    b.wait_screen("screen-welcome").await?;
    assert_eq!(b.html_lang().await?, "ko", "<html lang>");
    search_is(&b, &format!("?pid={PID}&lang=ko")).await?;
    let text = b.testid("screen-welcome").await?.text().await?;
    assert!(
        text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)),
        "no Hangul on the Korean welcome screen: {text:?}"
    );
    Ok(())
}

async fn unknown_pid_shows_unknown_project_error(b: Ctx) -> TestResult {
    b.open("/?pid=nope&lang=en").await?;
    b.wait_screen("screen-error").await?;
    assert_eq!(b.testid_text("error-code").await?, "LF-40002", "error-code");
    assert!(
        !b.testid_text("error-title").await?.is_empty(),
        "error-title is empty"
    );
    Ok(())
}

async fn gcm_link_shows_welcome(b: Ctx) -> TestResult {
    let ct = encrypt(Algorithm::Gcm, GCM_KEY, OPTIONS);
    b.open(&format!(
        "/?pid={GCM_PID}&encrypted={}&lang=en",
        urlencode(&ct)
    ))
    .await?;
    b.wait_screen("screen-welcome").await?;
    let title = welcome_title(&b).await?;
    assert!(
        title.contains(GCM_PROJECT_NAME),
        "welcome heading {title:?} lacks {GCM_PROJECT_NAME:?}"
    );
    search_is(&b, &format!("?pid={GCM_PID}&lang=en")).await?;
    Ok(())
}
