//! The first screen: the smallest module that can open the session and show the welcome screen
//! with its Start button. No Leptos and no JSON library: the page is built with
//! `liveform_web::el` and the server's answer is read with the browser's `JSON.parse`
//! (`liveform_web::json`). Everything after the welcome is the app module (`liveform-app`),
//! which this module starts loading as soon as the welcome is on screen and mounts in
//! *standby* behind it (started, its session parsed and its country names loading, but showing
//! nothing); Start hands over to it at once, or as soon as it has arrived.
//!
//! When the session opens on a later step (a reload mid-flow) or not at all (an error page), this
//! module shows the loading screen and mounts the app module in front: the app renders those
//! screens, with the outcome of this module's request (the request is never made twice: a link's
//! `encrypted` may be single-use).
//!
//! The welcome screen's markup is the app's `ConsentStep` (shown again after Back), element for
//! element; a browser test (`tests/web.rs`) compares the two.

pub mod page;
mod view;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use liveform_core::boot::{self, Boot, Pending, Plan, Stored};
use liveform_core::embed::EventType;
use liveform_core::lang::{is_rtl, pick_language};
use liveform_core::ErrorCode;
use liveform_web::el::El;
use liveform_web::json::{object_text, Json};
use liveform_web::keys::{FLOW_KEY, PENDING_KEY, SESSION_KEY};
use liveform_web::module::{self, AppArgs, AppHandle};
use liveform_web::protocol::Opened;
use liveform_web::{api, dom, embed, location, storage, time};

pub use page::Strings;
pub use view::{progress, WelcomeView};

/// English, compiled in (about 2.4 KiB gzip); other languages are fetched when active.
pub const EN_JSON: &str = include_str!("../../locales/en.json");

/// Starts the first screen (the wasm module's `main`).
pub fn start() {
    let en = Json::parse(EN_JSON);
    dom::on_panic(move || {
        let s = Strings::new(en.clone(), None);
        let code = ErrorCode::Runtime;
        let key = code.message_key();
        (
            s.t(&[key, "-title"].concat()),
            s.t(&[key, "-action"].concat()),
            code.id().to_owned(),
        )
    });
    liveform_web::spawn(run());
}

fn stored<T>(key: &str, read: impl Fn(&Json) -> Option<T>) -> Option<T> {
    storage::get_text(key)
        .and_then(|t| Json::parse(&t))
        .and_then(|j| read(&j))
}

fn field(j: &Json, key: &str) -> Option<String> {
    j.get(key).str()
}

/// The code of a failed outcome (`None` for a view).
fn error_code(opened: &Opened) -> Option<String> {
    match opened {
        Opened::View(_) => None,
        Opened::Refused(t) => Some(
            Json::parse(t)
                .and_then(|j| field(&j, "code"))
                .unwrap_or_default(),
        ),
        Opened::Failed { code, .. } => Some(code.clone()),
    }
}

/// Sends the session request the address asks for (at once: nothing else the first screen does
/// comes before it), keeping `sessionStorage` as the app module does when it opens a session
/// itself (`src/app.rs`, `open`).
fn open(boot: &Boot) -> impl Future<Output = Opened> {
    let stored_session = stored(SESSION_KEY, |j| {
        Some(Stored {
            pid: field(j, "pid")?,
            token: field(j, "token")?,
        })
    });
    let pending = stored(PENDING_KEY, |j| {
        Some(Pending {
            pid: field(j, "pid")?,
            query: field(j, "query")?,
        })
    });
    let plan = boot::plan(boot, stored_session.as_ref(), pending.as_ref());
    if let Some(p) = boot::pending_for(boot, &plan) {
        storage::set_text(
            PENDING_KEY,
            &object_text(&[("pid", &p.pid), ("query", &p.query)]),
        );
    }
    type Sent = Result<Pin<Box<dyn Future<Output = Opened>>>, ErrorCode>;
    let sent: Sent = match &plan {
        Plan::Create(query) => Ok(Box::pin(api::create_session_text(query))),
        Plan::Resume(token) => Ok(Box::pin(api::resume_session_text(token))),
        Plan::Claim(token) => Ok(Box::pin(api::claim_handoff_text(token))),
        Plan::Fail(code) => Err(*code),
    };
    async move {
        let opened = match sent {
            Ok(f) => f.await,
            Err(code) => Opened::Failed {
                code: code.id().to_owned(),
                detail: "the address has no usable link".into(),
            },
        };
        if let Some(code) = error_code(&opened) {
            let forget = boot::forget_after_failure(&plan, &code);
            if forget.pending {
                storage::remove(PENDING_KEY);
            }
            if forget.session {
                storage::remove(SESSION_KEY);
            }
        }
        opened
    }
}

/// What the welcome screen and its loader share.
#[derive(Default)]
struct Handover {
    /// The app module, mounted in standby.
    app: Option<AppHandle>,
    /// Start was pressed before the app module arrived.
    started: bool,
    /// The welcome's own page (removed at the handover).
    page: Option<El>,
}

impl Handover {
    /// Gives the page to the app module: its next step replaces the welcome.
    fn complete(&mut self) {
        if let Some(app) = &self.app {
            if let Some(p) = self.page.take() {
                p.remove();
            }
            app.accept();
        }
    }
}

async fn run() {
    let boot = Boot::read(&location::search());
    let opened = open(&boot);
    let lang = pick_language(boot.lang_param.as_deref(), &location::browser_languages());
    let locale = (lang != "en").then(|| api::start_locale_fetch(lang));
    // Drop `encrypted` and everything else from the address bar at once: only pid and lang stay.
    location::replace_query(&boot.clean_query(lang));
    dom::set_document_lang(lang, is_rtl(lang));
    let opened = opened.await;
    let locale = match locale {
        Some(f) => f.await.filter(|t| Json::parse(t).is_some()),
        None => None,
    };
    // Without its strings the page stays in English rather than block.
    let lang = if lang != "en" && locale.is_none() {
        dom::set_document_lang("en", false);
        "en"
    } else {
        lang
    };
    let strings = Strings::new(
        Json::parse(EN_JSON),
        locale.as_deref().and_then(Json::parse),
    );
    let view = match &opened {
        Opened::View(text) => Json::parse(text).and_then(|j| WelcomeView::read(&j)),
        _ => None,
    };
    let Some(view) = view else {
        // An error page (or an answer this module cannot read: the app module says what).
        let page = page::loading(&El::root(), &strings, None);
        dom::mark_mounted();
        mount_app(&strings, lang, locale, opened, false, Some(page), None).await;
        return;
    };
    storage::set_text(
        SESSION_KEY,
        &object_text(&[("pid", &view.pid), ("token", &view.token)]),
    );
    storage::remove(PENDING_KEY);
    if boot.handoff.is_some() {
        // A reload now resumes this tab's session instead of claiming again.
        let b = Boot {
            pid: Some(view.pid.clone()),
            ..boot.clone()
        };
        location::replace_query(&b.clean_query(lang));
    }
    if !location::is_top() && !view.frame_origins.is_empty() {
        // The capture module sets up the link to the host page (`liveform_web::embed_link`).
        module::embed_init(&view.frame_origins.join(" "), view.navigate_top);
        liveform_web::spawn(async {
            let _ = module::capture_module().await;
        });
    }
    let remembered = storage::get_text(FLOW_KEY).and_then(|t| Json::parse(&t));
    let flow = view.flow_for(remembered.as_ref());
    if flow.current != "consent" {
        let page = page::loading(&El::root(), &strings, Some(&view));
        dom::mark_mounted();
        mount_app(&strings, lang, locale, opened, false, Some(page), None).await;
        return;
    }
    let handover = Rc::new(RefCell::new(Handover::default()));
    let h = handover.clone();
    let on_start = move |button: &El| {
        let mut h = h.borrow_mut();
        h.started = true;
        if h.app.is_some() {
            h.complete();
        } else {
            // The app module is still on its way: Start waits for it, visibly.
            button.toggle("aria-busy", true);
            button.toggle("disabled", true);
        }
    };
    let page = page::welcome(&El::root(), &strings, lang, &view, &flow, on_start);
    handover.borrow_mut().page = Some(page);
    let (cur, total) = progress(&flow.steps, &flow.current);
    embed::post(
        EventType::Step,
        &[
            "{\"step\":\"consent\",\"index\":",
            &cur.to_string(),
            ",\"total\":",
            &total.to_string(),
            "}",
        ]
        .concat(),
    );
    dom::mark_mounted();
    // The welcome first: the app module's download, compilation and start must not delay its
    // paint or the person's first input.
    time::after_paint(200).await;
    mount_app(&strings, lang, locale, opened, true, None, Some(handover)).await;
}

/// Loads the app module and mounts it: in standby behind the welcome (`handover`), or in front of
/// the loading screen `page`. If it cannot load, a static error page says what to do.
async fn mount_app(
    strings: &Strings,
    lang: &str,
    locale: Option<String>,
    opened: Opened,
    standby: bool,
    page: Option<El>,
    handover: Option<Rc<RefCell<Handover>>>,
) {
    let args = AppArgs {
        lang,
        locale: locale.as_deref(),
        opened: &opened,
        standby,
    };
    let mounted = match El::root().html() {
        Some(root) => module::start_app(&root, args).await,
        None => Err("the page has no root element".into()),
    };
    let app = match mounted {
        Ok(app) => app,
        Err(e) => {
            dom::warn(&["liveform: the app module did not start: ", &e].concat());
            let code = ErrorCode::Network;
            let key = code.message_key();
            dom::show_fatal(
                &strings.t(&[key, "-title"].concat()),
                &strings.t(&[key, "-action"].concat()),
                code.id(),
            );
            return;
        }
    };
    if let Some(p) = page {
        p.remove();
    }
    if let Some(h) = handover {
        let mut h = h.borrow_mut();
        h.app = Some(app);
        if h.started {
            h.complete();
        }
    }
}
