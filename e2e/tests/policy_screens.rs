//! The policy screens, in the engine chosen by `E2E_BROWSER`: what the link and the project allow
//! decides which countries the country step offers (allowedCountries, the project blacklist and
//! its `blacklistCountries=false` override), pre-selected country and type skip their screens,
//! contradicting parameters get the coded error page, Arabic is right to left, and the country
//! picker, the ID-type choice and Back work with the keyboard and the mouse, and a private-mode
//! link without a token lands on ARGOS's token page (`TK-10000`). Every check reads the live DOM.

use std::time::{Duration, Instant};

use liveform_e2e::{tests, BoxError, Ctx, TestResult, POLICY_PROJECT_NAME};

const OPTION: &str = r#"li[data-testid="country-option"]"#;

fn main() {
    liveform_e2e::suite(
        "policy_screens",
        tests![
            allowed_countries_limit_the_country_list,
            project_blacklist_hides_a_country_unless_lifted,
            selected_country_and_type_skip_to_the_document,
            selected_country_outside_allowed_countries_is_refused,
            arabic_is_right_to_left,
            keyboard_country_choice_then_type_then_back,
            private_link_without_token_lands_on_the_token_page,
        ],
    );
}

/// The `data-code`s of the offered countries, once the country screen shows its list.
async fn offered_codes(b: &Ctx) -> Result<Vec<String>, BoxError> {
    b.wait_screen("screen-country").await?;
    b.wait_for(OPTION).await?;
    b.attr_values(OPTION, "data-code").await
}

/// The progress text, polled until it is `expected` (the frame re-renders with the step).
async fn progress_is(b: &Ctx, expected: &str) -> TestResult {
    b.wait_value("progress text", expected, || async {
        b.testid_text("progress").await
    })
    .await
}

/// Like [`progress_is`] for the step number only ("Step 3 of …"): after Back, whether the total
/// still counts the choices made later is the step machine's business, not this test's.
async fn progress_step_is(b: &Ctx, current: usize) -> TestResult {
    let prefix = format!("Step {current} of ");
    let deadline = Instant::now() + b.timeout;
    loop {
        let text = b.testid_text("progress").await?;
        if text.starts_with(&prefix) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("progress text: expected {prefix:?}…, still {text:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the visible Back button.
async fn back(b: &Ctx) -> TestResult {
    let button = b.testid("back").await?;
    assert!(
        button.is_displayed().await?,
        "the back button is hidden on a step after the first"
    );
    button.click().await?;
    Ok(())
}

async fn allowed_countries_limit_the_country_list(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(
        r#"{"userid":"u1","allowedCountries":"KOR,JPN"}"#,
        "&lang=en",
    ))
    .await?;
    b.accept_consent().await?;
    let mut codes = offered_codes(&b).await?;
    codes.sort();
    assert_eq!(codes, ["JPN", "KOR"], "countries offered by the link");
    // Consent, country, type, front, back, selfie, liveness, finish, result.
    progress_is(&b, "Step 2 of 8").await?;
    // The count follows the list (names load asynchronously; the count does not depend on them).
    b.wait_value("country-count", "Countries found: 2", || async {
        b.testid_text("country-count").await
    })
    .await?;
    Ok(())
}

async fn project_blacklist_hides_a_country_unless_lifted(b: Ctx) -> TestResult {
    // The project's blacklist applies by default.
    b.open(&b.policy_link(r#"{"userid":"u1"}"#, "&lang=en"))
        .await?;
    let title = b.testid_text("welcome-title").await?;
    assert!(
        title.contains(POLICY_PROJECT_NAME),
        "welcome heading {title:?} is not the policy project's"
    );
    b.accept_consent().await?;
    let codes = offered_codes(&b).await?;
    assert!(
        codes.len() > 150,
        "expected the full ARGOS list, got {} countries",
        codes.len()
    );
    assert!(
        !codes.iter().any(|c| c == "RUS"),
        "RUS is blacklisted by the project but offered"
    );
    assert!(codes.iter().any(|c| c == "DEU"), "DEU is not offered");
    let blacklisted_total = codes.len();

    // blacklistCountries=false (a JSON boolean, encrypted) lifts it.
    b.open(&b.policy_link(r#"{"userid":"u1","blacklistCountries":false}"#, "&lang=en"))
        .await?;
    b.accept_consent().await?;
    let codes = offered_codes(&b).await?;
    assert!(
        codes.iter().any(|c| c == "RUS"),
        "blacklistCountries=false but RUS is not offered"
    );
    assert!(codes.iter().any(|c| c == "DEU"), "DEU is not offered");
    assert_eq!(
        codes.len(),
        blacklisted_total + 1,
        "lifting a one-country blacklist should add exactly that country"
    );

    // Selecting the blacklisted country is refused at once.
    b.open(&b.policy_link(
        r#"{"userid":"u1","selectedIssuingCountry":"RUS"}"#,
        "&lang=en",
    ))
    .await?;
    b.wait_screen("screen-error").await?;
    assert_eq!(b.testid_text("error-code").await?, "LF-40009", "error-code");
    Ok(())
}

async fn selected_country_and_type_skip_to_the_document(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(
        r#"{"userid":"u1","selectedIssuingCountry":"KOR","selectedIdType":"drivers_license"}"#,
        "&lang=en",
    ))
    .await?;
    // Consent, front, back (a licence has two sides), selfie, liveness, finish, result.
    progress_is(&b, "Step 1 of 6").await?;
    b.accept_consent().await?;
    b.wait_screen("screen-document-front").await?;
    progress_is(&b, "Step 2 of 6").await?;
    // Back from the document returns to consent: no country or ID-type step in between.
    back(&b).await?;
    b.wait_screen("screen-welcome").await?;
    progress_is(&b, "Step 1 of 6").await?;
    Ok(())
}

async fn selected_country_outside_allowed_countries_is_refused(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(
        r#"{"userid":"u1","allowedCountries":"KOR,JPN","selectedIssuingCountry":"USA"}"#,
        "&lang=en",
    ))
    .await?;
    b.wait_screen("screen-error").await?;
    assert_eq!(b.testid_text("error-code").await?, "LF-40006", "error-code");
    assert!(
        !b.testid_text("error-title").await?.is_empty(),
        "error-title is empty"
    );
    Ok(())
}

async fn arabic_is_right_to_left(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(r#"{"userid":"u1"}"#, "&lang=ar"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    assert_eq!(b.html_lang().await?, "ar", "<html lang>");
    assert_eq!(b.html_dir().await?, "rtl", "<html dir>");
    let direction = b
        .js("return getComputedStyle(document.body).direction;", vec![])
        .await?;
    assert_eq!(direction, "rtl", "computed direction of <body>");
    let title = b.testid_text("welcome-title").await?;
    assert!(
        title
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "no Arabic script in the welcome heading: {title:?}"
    );

    // Another language in the same tab is left to right again.
    b.open(&b.gcm_link(r#"{"userid":"u1"}"#, "&lang=ja"))
        .await?;
    b.wait_screen("screen-welcome").await?;
    assert_eq!(b.html_lang().await?, "ja", "<html lang>");
    assert_eq!(b.html_dir().await?, "ltr", "<html dir>");
    Ok(())
}

async fn keyboard_country_choice_then_type_then_back(b: Ctx) -> TestResult {
    b.open(&b.gcm_link(r#"{"userid":"u1"}"#, "&lang=en"))
        .await?;
    b.accept_consent().await?;
    b.wait_screen("screen-country").await?;
    progress_is(&b, "Step 2 of 8").await?;
    // Names arrive after the list (codes first); a person types once they can read them.
    b.wait_value("the name of JPN in the list", "Japan", || async {
        Ok(
            b.wait_for(&format!("{OPTION}[data-code=\"JPN\"] .lf-option-name"))
                .await?
                .text()
                .await?
                .trim()
                .to_owned(),
        )
    })
    .await?;

    let search = b.testid("country-search").await?;
    search.click().await?;
    let focused = b
        .js(
            "return document.activeElement && document.activeElement.getAttribute('data-testid');",
            vec![],
        )
        .await?;
    assert_eq!(focused, "country-search", "focus after clicking the search");
    search.send_keys("jap").await?;
    b.wait_until("the list is filtered to Japan", || async {
        Ok(b.attr_values(OPTION, "data-code").await? == ["JPN"])
    })
    .await?;
    assert_eq!(
        b.testid_text("country-count").await?,
        "Countries found: 1",
        "country-count"
    );
    search
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await?;

    b.wait_screen("screen-idtype").await?;
    progress_is(&b, "Step 3 of 8").await?;
    let types = b
        .attr_values(r#"[data-testid="idtype-option"]"#, "data-type")
        .await?;
    assert!(
        types.iter().any(|t| t == "passport"),
        "Japan offers no passport: {types:?}"
    );
    b.wait_for(r#"[data-testid="idtype-option"][data-type="passport"]"#)
        .await?
        .click()
        .await?;

    b.wait_screen("screen-document-front").await?;
    // A passport has one side: consent, country, type, front, selfie, liveness, finish, result.
    progress_is(&b, "Step 4 of 7").await?;

    back(&b).await?;
    b.wait_screen("screen-idtype").await?;
    progress_step_is(&b, 3).await?;
    let pressed = b
        .wait_for(r#"[data-testid="idtype-option"][data-type="passport"]"#)
        .await?
        .attr("aria-pressed")
        .await?;
    assert_eq!(
        pressed.as_deref(),
        Some("true"),
        "the chosen type is not marked"
    );

    back(&b).await?;
    b.wait_screen("screen-country").await?;
    progress_step_is(&b, 2).await?;
    Ok(())
}

/// ARGOS private mode (issue 18): the `e2e-private` project requires a token; a link without one
/// shows the token page with its code and what to do next, in the person's language.
async fn private_link_without_token_lands_on_the_token_page(b: Ctx) -> TestResult {
    let key = "e2e-private-key-1029384756";
    b.open(&liveform_e2e::link(
        "e2e-private",
        liveform_core::Algorithm::Gcm,
        key,
        r#"{"userid":"u1"}"#,
        "&lang=en",
    ))
    .await?;
    b.wait_screen("screen-error").await?;
    assert_eq!(b.testid_text("error-code").await?, "TK-10000", "error-code");
    assert_eq!(
        b.testid_text("error-title").await?,
        "This link is incomplete",
        "error-title"
    );
    assert!(
        b.testid_text("error-action")
            .await?
            .contains("ask them for a new one"),
        "error-action"
    );
    // The same link with a token opens the form.
    b.open(&liveform_e2e::link(
        "e2e-private",
        liveform_core::Algorithm::Gcm,
        key,
        r#"{"userid":"u1","token":"e2e-private-0001"}"#,
        "&lang=en",
    ))
    .await?;
    b.wait_screen("screen-welcome").await?;
    Ok(())
}
