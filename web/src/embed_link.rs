//! The frame link, run by the capture module (see `crate::embed`): sends `ready` with a
//! nonce, then flushes the main module's queued events; validates the host's messages with
//! `liveform_core::embed::Link` (origin, parent window, nonce, schema); reports the content
//! height; navigates the top window when the project asks for it.

use std::cell::RefCell;

use liveform_core::embed::{EventType, FrameComplete, Inbound, Link};
use wasm_bindgen::prelude::*;

use super::embed::post;

fn state() -> JsValue {
    js_sys::Reflect::get(&js_sys::global(), &"__liveformEmbed".into()).unwrap_or(JsValue::UNDEFINED)
}

/// Sets where posts go (and the completion mode) on the shared state; returns the events the
/// main module queued until now.
fn set_targets(targets: &[String], mode: &str) -> Vec<String> {
    let s = state();
    if !s.is_object() {
        return Vec::new();
    }
    let queued = js_sys::Reflect::get(&s, &"q".into()).unwrap_or(JsValue::UNDEFINED);
    let t: js_sys::Array = targets.iter().map(|o| JsValue::from_str(o)).collect();
    let _ = js_sys::Reflect::set(&s, &"t".into(), &t);
    let _ = js_sys::Reflect::set(&s, &"m".into(), &mode.into());
    let _ = js_sys::Reflect::set(&s, &"q".into(), &js_sys::Array::new());
    js_sys::Array::from(&queued)
        .iter()
        .filter_map(|v| v.as_string())
        .collect()
}

/// The parent window when this page is in a frame.
fn parent() -> Option<web_sys::Window> {
    let w = web_sys::window()?;
    let p = w.parent().ok().flatten()?;
    (!js_sys::Object::is(&p, &w)).then_some(p)
}

/// Listens to the parent's messages (`msg(origin, JSON)`) and to the content's height.
fn listen(msg: impl Fn(String, String) + 'static, size: impl Fn(u32) + 'static) -> bool {
    let (Some(w), Some(p)) = (web_sys::window(), parent()) else {
        return false;
    };
    let Some(doc) = w.document() else {
        return false;
    };
    if let Some(html) = doc.document_element() {
        let _ = html.class_list().add_1("lf-framed");
    }
    let on_msg = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let from_parent = e
            .source()
            .is_some_and(|s| js_sys::Object::is(&s, p.as_ref()));
        if !from_parent {
            return;
        }
        if let Some(d) = js_sys::JSON::stringify(&e.data())
            .ok()
            .and_then(|d| d.as_string())
        {
            msg(e.origin(), d);
        }
    });
    let _ = w.add_event_listener_with_callback("message", on_msg.as_ref().unchecked_ref());
    on_msg.forget();
    let Some(body) = doc.body() else {
        return true;
    };
    let last = std::cell::Cell::new(0u32);
    let b2 = body.clone();
    let on_size = Closure::<dyn Fn()>::new(move || {
        let h = b2.get_bounding_client_rect().height().ceil().max(0.0) as u32;
        if h != last.get() {
            last.set(h);
            size(h);
        }
    });
    if let Ok(ro) = web_sys::ResizeObserver::new(on_size.as_ref().unchecked_ref()) {
        ro.observe(&body);
    }
    on_size.forget();
    true
}

/// Posts an envelope to each target (the browser drops it unless the target is the parent's
/// origin).
fn post_to(targets: &[String], json: &str) {
    let (Some(p), Ok(v)) = (parent(), js_sys::JSON::parse(json)) else {
        return;
    };
    for o in targets {
        let _ = p.post_message(&v, o);
    }
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
}

fn nonce() -> String {
    let mut b = [0u8; 16];
    let ok = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut b).is_ok());
    if !ok {
        return String::new(); // an empty nonce never matches: no commands, events still go
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn mode_str(m: FrameComplete) -> &'static str {
    match m {
        FrameComplete::Notify => "notify",
        FrameComplete::NavigateTop => "navigate_top",
    }
}

/// Inside a frame whose host may embed the project (`origins`, the project's
/// `allowed_origins`): sends `ready`, then the queued events, and hands each valid command to
/// `on_command`. Once per page; nothing at the top level or without origins.
pub fn start(
    origins: Vec<String>,
    mode: FrameComplete,
    lang: &str,
    languages: &'static [&'static str],
    on_command: impl Fn(Inbound) + 'static,
) {
    if origins.is_empty() || LINK.with(|l| l.borrow().is_some()) {
        return;
    }
    let msg = move |origin: String, data: String| {
        let cmd = LINK.with(|l| {
            let mut l = l.borrow_mut();
            let link = l.as_mut()?;
            let cmd = link.receive(&origin, true, &data, languages).ok()?;
            set_targets(&link.targets(), mode_str(mode)); // pinned after `hello`
            Some(cmd)
        });
        if let Some(c) = cmd {
            on_command(c);
        }
    };
    let size = |h: u32| post(EventType::Resize, &format!(r#"{{"height":{h}}}"#));
    if !listen(msg, size) {
        return;
    }
    let link = Link::new(origins, nonce());
    let ready = format!(
        r#"{{"nonce":"{}","lang":{}}}"#,
        link.nonce,
        serde_json::to_string(lang).unwrap_or_else(|_| "\"\"".into())
    );
    let targets = link.targets();
    LINK.with(|l| *l.borrow_mut() = Some(link));
    // `ready` goes first, then what the main module queued (the first `step`).
    let queued = set_targets(&targets, mode_str(mode));
    post(EventType::Ready, &ready);
    for j in queued {
        post_to(&targets, &j);
    }
}

/// Starts the link from what the main module noted on the shared state (`origins`, space
/// separated, and the mode) with the page's language. The host's commands: `close` sends
/// `cancel` and empties the frame (the camera stops with the page); `set_language` reloads the
/// page in that language (the tab's session resumes at the same step, nothing captured is lost).
pub fn start_from_page(languages: &'static [&'static str]) {
    let s = state();
    let get = |k: &str| {
        js_sys::Reflect::get(&s, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let origins: Vec<String> = get("o").split_whitespace().map(str::to_owned).collect();
    let mode = if get("m") == "navigate_top" {
        FrameComplete::NavigateTop
    } else {
        FrameComplete::Notify
    };
    let doc = web_sys::window().and_then(|w| w.document());
    let lang = doc
        .as_ref()
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .unwrap_or_default();
    start(origins, mode, &lang, languages, |c| match c {
        Inbound::Close => {
            post(EventType::Cancel, r#"{"reason":"host"}"#);
            if let Some(w) = web_sys::window() {
                let _ = w.location().replace("about:blank");
            }
        }
        Inbound::SetLanguage(l) => {
            let Some(w) = web_sys::window() else { return };
            let Ok(href) = w.location().href() else {
                return;
            };
            let Ok(url) = web_sys::Url::new(&href) else {
                return;
            };
            url.search_params().set("lang", &l);
            let _ = w.location().replace(&url.href());
        }
        Inbound::Hello => {}
    });
}

/// Takes the whole window to `url` (only http(s)); false where the frame's sandbox or the
/// browser refuses (the host then has the `complete` event).
pub fn navigate_top(url: &str) -> bool {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return false;
    }
    web_sys::window()
        .and_then(|w| w.top().ok().flatten())
        .is_some_and(|t| t.location().set_href(url).is_ok())
}
