//! Loading the capture module (`liveform-capture.js` + `_bg.wasm`, built by Trunk from the
//! `liveform-capture` crate) on demand with `import()`, once per page, and mounting it.

use std::cell::RefCell;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::js::get;

// `lf_return`: the error page's Return button (`POST /api/session/leave`, then a button only
// when the project has a Return URL; inside a frame the button calls `f(url)` instead of loading
// the Return URL in the frame). In this snippet because the first
// screen has no room for the same in Rust and Leptos (about 2 KiB gzip against 0.3).
//
// `lf_embed_init`, `lf_embed_post` (see `crate::embed`): posts one frame-event envelope (JSON) to each
// target origin once the link is up (the browser drops a message whose target is not the
// parent's origin); queued on `globalThis.__liveformEmbed` until then.
#[wasm_bindgen(inline_js = r#"export function lf_import(u) { return import(u); }
const S = globalThis.__liveformEmbed || (globalThis.__liveformEmbed = { t: null, q: [], m: '' });
export function lf_embed_post(j) {
if (parent === self) return;
if (!S.t) { if (S.q.length < 64) S.q.push(j); return; }
const m = JSON.parse(j);
for (const o of S.t) { try { parent.postMessage(m, o); } catch (_) {} }
}
export function lf_embed_mode() { return S.m; }
export function lf_embed_init(o, m) { S.o = o; S.m = m ? 'navigate_top' : 'notify'; }
export function lf_return(t, c, l, f, p) {
const h = { 'content-type': 'application/json' }; if (t) h['x-liveform-session'] = t;
fetch(p, { method: 'POST', headers: h, body: JSON.stringify({ error_code: c, pid: new URLSearchParams(location.search).get('pid') }) })
.then((r) => r.ok && r.json()).then((j) => {
const u = j && j.return_url, s = document.querySelector('.lf-error .lf-code');
if (!/^https?:\/\//.test(u) || !s) return;
const b = document.createElement('button'); b.className = 'lf-button lf-secondary'; b.dataset.testid = 'error-return'; b.textContent = l;
b.onclick = () => { if (top == self) return location.assign(u); f(u); if (S.m === 'navigate_top') try { top.location.href = u; } catch (_) {} }; s.before(b);
}, () => {});
}"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn lf_import(url: &str) -> Result<Promise, JsValue>;
    pub(crate) fn lf_embed_post(json: &str);
    pub(crate) fn lf_embed_mode() -> String;
    /// Notes the project's allowed origins (space-separated) and whether completion navigates
    /// the top window, for the capture module's frame link.
    #[wasm_bindgen(js_name = lf_embed_init)]
    pub fn embed_init(origins: &str, navigate_top: bool);
    fn lf_return(
        token: Option<String>,
        code: &str,
        label: &str,
        framed: &Closure<dyn Fn(String)>,
        path: &str,
    );
}

/// Asks the server for the Return URL of error `code` (`POST /api/session/leave`) and, when there
/// is one, puts a "Return" button labelled `label` on the error page; in a frame it calls
/// `framed(url)`.
pub fn offer_return(
    token: Option<String>,
    code: &str,
    label: &str,
    framed: impl Fn(String) + 'static,
) {
    let framed = Closure::<dyn Fn(String)>::new(framed);
    lf_return(token, code, label, &framed, liveform_core::api::LEAVE_PATH);
    framed.forget();
}

/// Changes with every build (set by `scripts/build-spa.sh`), so a cached capture module from an
/// older deployment is never paired with a newer main module.
pub(crate) const BUILD_ID: &str = match option_env!("LIVEFORM_BUILD_ID") {
    Some(v) => v,
    None => "dev",
};

thread_local! {
    static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// The initialised capture module (its exports), loaded at most once.
pub async fn capture_module() -> Result<JsValue, JsValue> {
    if let Some(m) = MODULE.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let ns = JsFuture::from(lf_import(&format!("/liveform-capture.js?v={BUILD_ID}"))?).await?;
    let init = get(&ns, "default").dyn_into::<Function>()?;
    let opts = Object::new();
    Reflect::set(
        &opts,
        &"module_or_path".into(),
        &format!("/liveform-capture_bg.wasm?v={BUILD_ID}").into(),
    )?;
    JsFuture::from(init.call1(&JsValue::NULL, &opts)?.dyn_into::<Promise>()?).await?;
    MODULE.with(|m| *m.borrow_mut() = Some(ns.clone()));
    Ok(ns)
}

/// A mounted capture view: unmounting stops its camera.
pub struct Mounted(JsValue);

impl Mounted {
    pub fn unmount(&self) {
        if let Ok(f) = get(&self.0, "unmount").dyn_into::<Function>() {
            let _ = f.call0(&self.0);
        }
    }
}

/// What the main module passes to `mount_capture`.
pub struct MountArgs<'a> {
    pub step: u32,
    pub lang: &'a str,
    pub token: &'a str,
    pub allow_file_upload: bool,
    pub flow_json: &'a str,
}

/// Calls the module's `mount_capture(host, step, lang, token, allow_file_upload, flow_json,
/// on_event)`; `on_event(kind, a, b)` hears the module's events as strings.
pub fn mount(
    module: &JsValue,
    host: &web_sys::HtmlElement,
    args: MountArgs<'_>,
    on_event: impl Fn(String, String, String) + 'static,
) -> Result<Mounted, JsValue> {
    let f = get(module, "mount_capture").dyn_into::<Function>()?;
    let cb = Closure::<dyn Fn(String, String, String)>::new(on_event).into_js_value();
    let list = js_sys::Array::new();
    for v in [
        host.into(),
        args.step.into(),
        args.lang.into(),
        args.token.into(),
        args.allow_file_upload.into(),
        args.flow_json.into(),
        cb,
    ] {
        list.push(&v);
    }
    let handle = f.apply(&JsValue::NULL, &list)?;
    Ok(Mounted(handle))
}

/// Adds the capture module's stylesheet (`/capture.css`, same build) to the page, once.
pub fn add_capture_css() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.get_element_by_id("lf-capture-css").is_some() {
        return;
    }
    let Ok(link) = doc.create_element("link") else {
        return;
    };
    let _ = link.set_attribute("id", "lf-capture-css");
    let _ = link.set_attribute("rel", "stylesheet");
    let _ = link.set_attribute("href", &format!("/capture.css?v={BUILD_ID}"));
    if let Some(head) = doc.head() {
        let _ = head.append_child(&link);
    }
}
