//! Browser tests (wasm-bindgen-test): run in Chromium, Firefox and WebKitGTK by
//! scripts/test-browsers.sh, or `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]
// A browser test drives the DOM like a person: the boundary lints (clippy.toml) are for shipped code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use leptos::prelude::*;
use liveform_app::components::CountryPicker;
use liveform_app::countries::{entries, CountryName};
use liveform_app::i18n::provide_i18n;
use liveform_app::state::{provide_state, AppState};
use liveform_app::steps::{ConsentStep, EmailStep, ErrorScreen};
use liveform_core::api::{ProjectView, SessionView, ThemeView};
use liveform_core::flow::{Flow, FlowConfig, Step};
use liveform_core::launch::crypto::{self, Algorithm};
use liveform_core::policy::{offer, PolicyInput, SupportTable};
use liveform_core::{ErrorBody, ErrorCode};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    key_string: String,
    sha256_key_hex: String,
    plaintext: String,
    ecb_base64: String,
    gcm_fixed_iv_hex: String,
    gcm_hex: String,
}

#[wasm_bindgen_test]
fn argos_crypto_vectors_in_this_engine() {
    let v: Vectors =
        serde_json::from_str(include_str!("../core/tests/data/argos-vectors.json")).unwrap();
    let key: String = crypto::derive_key(&v.key_string)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(key, v.sha256_key_hex);
    assert_eq!(
        crypto::encrypt_ecb(&v.key_string, v.plaintext.as_bytes()),
        v.ecb_base64
    );
    assert_eq!(
        crypto::decrypt_ecb(&v.key_string, &v.ecb_base64).unwrap(),
        v.plaintext.as_bytes()
    );
    let mut iv = [0u8; 12];
    for (i, b) in iv.iter_mut().enumerate() {
        *b = u8::from_str_radix(&v.gcm_fixed_iv_hex[i * 2..i * 2 + 2], 16).unwrap();
    }
    assert_eq!(
        crypto::encrypt(Algorithm::Gcm, &v.key_string, iv, v.plaintext.as_bytes()),
        v.gcm_hex
    );
    assert_eq!(
        crypto::decrypt_gcm(&v.key_string, &v.gcm_hex).unwrap(),
        v.plaintext.as_bytes()
    );
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn by_testid(id: &str) -> web_sys::HtmlElement {
    document()
        .query_selector(&format!("[data-testid=\"{id}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no element {id}"))
        .dyn_into()
        .unwrap()
}

fn session() -> SessionView {
    let offer = offer(SupportTable::builtin().unwrap(), &PolicyInput::default()).unwrap();
    SessionView {
        flow: Flow::new(FlowConfig::default(), offer).unwrap(),
        privacy_url: Some("https://example.com/privacy".into()),
        terms_url: None,
        token: "t".into(),
        expires_in: 900,
        idle_seconds: 900,
        project: ProjectView {
            pid: "p".into(),
            name: "Acme Bank".into(),
        },
        lang: Some("en".into()),
        theme: ThemeView::default(),
        email_provided: false,
        choice: None,
        allow_file_upload: false,
        frame_origins: Vec::new(),
        frame_complete: Default::default(),
    }
}

/// The welcome screen as it first appears: focus on its heading, Start disabled until consent.
fn welcome_is_focused_and_waits_for_consent() -> web_sys::HtmlButtonElement {
    assert_eq!(
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-testid"))
            .as_deref(),
        Some("welcome-title"),
        "focus moves to the heading"
    );
    let start: web_sys::HtmlButtonElement = by_testid("consent-start").dyn_into().unwrap();
    assert!(start.disabled(), "Start is disabled before consent");
    start
}

/// A fresh container per test (never touch the rest of the body: the test runner reports there).
fn container() -> web_sys::HtmlElement {
    if let Some(old) = document().get_element_by_id("lf-test-root") {
        old.remove();
    }
    let el: web_sys::HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    el.set_id("lf-test-root");
    document().body().unwrap().append_child(&el).unwrap();
    el
}

#[wasm_bindgen_test]
async fn welcome_screen_needs_consent_then_starts() {
    let state: StoredValue<Option<AppState>> = StoredValue::new(None);
    let _handle = leptos::mount::mount_to(container(), move || {
        provide_i18n();
        let s = provide_state();
        let v = session();
        s.session.set(Some(v.clone()));
        s.start_flow(&v, None);
        state.set_value(Some(s));
        view! { <ConsentStep/> }
    });
    leptos::task::tick().await;
    let title = by_testid("welcome-title");
    assert!(title.text_content().unwrap().contains("Acme Bank"));
    let start = welcome_is_focused_and_waits_for_consent();
    by_testid("consent-checkbox").click();
    leptos::task::tick().await;
    assert!(!start.disabled(), "consent enables Start");
    start.click();
    leptos::task::tick().await;
    let s = state.get_value().unwrap();
    let flow = s.flow.get_untracked().unwrap();
    assert_eq!(flow.current(), Step::Country);
    assert!(flow.consent_given());
    assert_eq!(
        by_testid("privacy-link").get_attribute("href").as_deref(),
        Some("https://example.com/privacy")
    );
}

/// Each element under `root` as one line: tag, the attributes that matter, its own text
/// (whitespace collapsed); comments and Leptos's empty text markers are ignored.
fn markup(root: &web_sys::Element) -> Vec<String> {
    let mut out = Vec::new();
    let list = root.query_selector_all("*").unwrap();
    for i in 0..list.length() {
        let el: web_sys::Element = list.item(i).unwrap().dyn_into().unwrap();
        let mut line = el.tag_name().to_lowercase();
        let names = el.get_attribute_names();
        let mut attrs: Vec<String> = names
            .iter()
            .filter_map(|n| n.as_string())
            .map(|n| format!("{n}={:?}", el.get_attribute(&n).unwrap_or_default()))
            .collect();
        attrs.sort();
        for a in attrs {
            line.push(' ');
            line.push_str(&a);
        }
        let nodes = el.child_nodes();
        let mut text = String::new();
        for j in 0..nodes.length() {
            let n = nodes.item(j).unwrap();
            if n.node_type() == web_sys::Node::TEXT_NODE {
                text.push_str(&n.text_content().unwrap_or_default());
            }
        }
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
            line.push_str(&format!(" checked:{}", input.checked()));
        }
        line.push_str(" | ");
        line.push_str(&text);
        out.push(line);
    }
    out
}

/// The first screen (`welcome/`, no Leptos) renders the welcome with the markup of the app's own
/// `ConsentStep` inside `app_view` (which the app shows after Back): the handover between the two
/// modules changes nothing a person, a screen reader or a test can see.
#[wasm_bindgen_test]
async fn the_first_screen_renders_the_welcome_as_the_app_does() {
    let mut v = session();
    v.theme = ThemeView {
        main: "#123456".into(),
        on_main: "#ffffff".into(),
        main_text: "#123456".into(),
        inner: "#f0f0f0".into(),
        on_inner: "#111111".into(),
    };
    v.terms_url = Some("https://example.com/terms".into());
    // The app's rendering.
    let root = container();
    let app_state: StoredValue<Option<AppState>> = StoredValue::new(None);
    let sv = v.clone();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        let i18n = provide_i18n();
        let s = provide_state();
        s.session.set(Some(sv.clone()));
        s.start_flow(&sv, None);
        app_state.set_value(Some(s));
        liveform_app::app::app_view(s, i18n, RwSignal::new(true), RwSignal::new(false))
    });
    for _ in 0..3 {
        leptos::task::tick().await;
        liveform_web::time::sleep(5).await;
    }
    let app = markup(&root);
    drop(handle);
    // The first screen's rendering of the same session view.
    let root = container();
    let strings = liveform_welcome::page::Strings::new(
        liveform_web::json::Json::parse(liveform_welcome::EN_JSON),
        None,
    );
    let json = liveform_web::json::Json::parse(&serde_json::to_string(&v).unwrap()).unwrap();
    let view = liveform_welcome::WelcomeView::read(&json).expect("the welcome reads the view");
    let flow = view.flow.clone();
    let started = std::rc::Rc::new(std::cell::Cell::new(0));
    let st = started.clone();
    let _page = liveform_welcome::page::welcome(
        &liveform_web::el::El::by_id("lf-test-root").unwrap(),
        &strings,
        "en",
        &view,
        &flow,
        move |_| st.set(st.get() + 1),
    );
    liveform_web::time::sleep(20).await;
    let first = markup(&root);
    assert_eq!(
        first, app,
        "the first screen's welcome differs from the app's"
    );
    let start = welcome_is_focused_and_waits_for_consent();
    start.click();
    assert_eq!(started.get(), 0, "Start does nothing before consent");
    by_testid("consent-checkbox").click();
    assert!(!start.disabled(), "consent enables Start");
    assert!(by_testid("consent-checkbox").parent_element().is_some());
    start.click();
    assert_eq!(started.get(), 1, "Start hands over once");
}

#[wasm_bindgen_test]
async fn error_screen_shows_code_message_and_reference() {
    let mut body = ErrorBody::new(ErrorCode::DecryptFailed, "tampered");
    body.reference = Some("abc123".into());
    let _handle = leptos::mount::mount_to(container(), move || {
        provide_i18n();
        provide_state();
        view! { <ErrorScreen error=body.clone()/> }
    });
    leptos::task::tick().await;
    assert_eq!(by_testid("error-code").text_content().unwrap(), "LF-40003");
    assert_eq!(
        by_testid("error-title").text_content().unwrap(),
        "This link is not valid"
    );
    assert!(by_testid("error-action")
        .text_content()
        .unwrap()
        .contains("new one"));
    assert_eq!(
        by_testid("error-reference").text_content().unwrap(),
        "abc123"
    );
    assert!(
        document()
            .query_selector("[data-testid=\"error-retry\"]")
            .unwrap()
            .is_none(),
        "a bad link is not retried"
    );
}

fn key(el: &web_sys::HtmlElement, k: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(k);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

fn type_into(input: &web_sys::HtmlInputElement, text: &str) {
    input.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
}

fn options() -> Vec<String> {
    let list = document()
        .query_selector_all("[data-testid=\"country-option\"]")
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .filter_map(|e| e.get_attribute("data-code"))
        .collect()
}

#[wasm_bindgen_test]
async fn country_picker_filters_and_selects_by_keyboard() {
    let chosen: RwSignal<Option<String>> = RwSignal::new(None);
    let _handle = leptos::mount::mount_to(container(), move || {
        provide_i18n();
        let mut names = std::collections::HashMap::new();
        for (a3, a2, name, native) in [
            ("KOR", "KR", "South Korea", "대한민국"),
            ("JPN", "JP", "Japan", "日本"),
            ("DEU", "DE", "Germany", "Deutschland"),
            ("GEO", "GE", "Georgia", "საქართველო"),
            ("NER", "NE", "Niger", "Niger"),
            ("NGA", "NG", "Nigeria", "Nigeria"),
        ] {
            names.insert(
                a3.to_string(),
                CountryName {
                    name: name.into(),
                    native: native.into(),
                    alpha2: a2.into(),
                },
            );
        }
        let offered: Vec<String> = ["KOR", "JPN", "DEU", "GEO", "NER", "NGA"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let list = entries(&offered, &names);
        view! {
            <CountryPicker
                entries=Signal::derive(move || list.clone())
                last_used=Signal::derive(|| Some("JPN".to_string()))
                on_select=Callback::new(move |a3: String| chosen.set(Some(a3)))
            />
        }
    });
    leptos::task::tick().await;
    assert_eq!(options().len(), 6);
    assert_eq!(options()[0], "JPN", "the last-used country comes first");
    let input: web_sys::HtmlInputElement = by_testid("country-search").dyn_into().unwrap();
    type_into(&input, "ger");
    leptos::task::tick().await;
    assert_eq!(options(), ["DEU"], "filtered by name prefix");
    type_into(&input, "deutsch");
    leptos::task::tick().await;
    assert_eq!(options(), ["DEU"], "filtered by native name");
    type_into(&input, "ni");
    leptos::task::tick().await;
    assert_eq!(options(), ["NER", "NGA"]);
    assert_eq!(
        input.get_attribute("aria-activedescendant").as_deref(),
        Some("lf-country-NER")
    );
    key(&input, "ArrowDown");
    leptos::task::tick().await;
    assert_eq!(
        input.get_attribute("aria-activedescendant").as_deref(),
        Some("lf-country-NGA")
    );
    let active = document().get_element_by_id("lf-country-NGA").unwrap();
    assert_eq!(
        active.get_attribute("aria-selected").as_deref(),
        Some("true")
    );
    key(&input, "Enter");
    leptos::task::tick().await;
    assert_eq!(chosen.get_untracked().as_deref(), Some("NGA"));
    type_into(&input, "kr");
    leptos::task::tick().await;
    assert_eq!(options(), ["KOR"], "alpha-2");
    type_into(&input, "zzz");
    leptos::task::tick().await;
    assert!(options().is_empty());
    assert!(by_testid("country-count")
        .text_content()
        .unwrap()
        .contains("zzz"));
}

#[wasm_bindgen_test]
async fn email_step_validates_then_moves_on() {
    let state: StoredValue<Option<AppState>> = StoredValue::new(None);
    let _handle = leptos::mount::mount_to(container(), move || {
        provide_i18n();
        let s = provide_state();
        let mut v = session();
        let offer = v.flow.offer().clone();
        let config = FlowConfig {
            ask_email: true,
            ..FlowConfig::default()
        };
        v.flow = Flow::new(config, offer).unwrap();
        s.session.set(Some(v.clone()));
        s.start_flow(&v, None);
        s.dispatch(liveform_core::flow::Event::AcceptConsent)
            .unwrap();
        state.set_value(Some(s));
        view! { <EmailStep/> }
    });
    leptos::task::tick().await;
    let s = state.get_value().unwrap();
    assert_eq!(s.flow.get_untracked().unwrap().current(), Step::Email);
    let input: web_sys::HtmlInputElement = by_testid("email-input").dyn_into().unwrap();
    type_into(&input, "not-an-address");
    by_testid("email-continue").click();
    leptos::task::tick().await;
    assert!(!by_testid("email-error").hidden(), "the error shows");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        s.flow.get_untracked().unwrap().current(),
        Step::Email,
        "no move on a bad address"
    );
    type_into(&input, "person@example.com");
    by_testid("email-continue").click();
    leptos::task::tick().await;
    let flow = s.flow.get_untracked().unwrap();
    assert_eq!(flow.current(), Step::Country);
    assert_eq!(flow.email(), Some("person@example.com"));
}

#[wasm_bindgen_test]
async fn a_refused_choice_offers_a_way_back_to_the_flow() {
    let state: StoredValue<Option<AppState>> = StoredValue::new(None);
    let body = ErrorBody::new(ErrorCode::CountryNotOffered, "refused");
    let _handle = leptos::mount::mount_to(container(), move || {
        provide_i18n();
        let s = provide_state();
        let v = session();
        s.session.set(Some(v.clone()));
        s.start_flow(&v, None);
        s.screen
            .set(liveform_app::state::Screen::Error(body.clone()));
        state.set_value(Some(s));
        view! { <ErrorScreen error=body.clone()/> }
    });
    leptos::task::tick().await;
    assert_eq!(by_testid("error-code").text_content().unwrap(), "LF-40010");
    by_testid("error-back").click();
    leptos::task::tick().await;
    assert_eq!(
        state.get_value().unwrap().screen.get_untracked(),
        liveform_app::state::Screen::Flow
    );
}
