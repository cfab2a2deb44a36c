//! Loading the lazily imported modules (built by Trunk, `data-type="worker"`) with `import()`,
//! once per page, and mounting them: the app module (`liveform-app`: every screen after the
//! welcome) and the capture module (`liveform-capture`: camera to result).

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
    static MODULES: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// Imports and initialises the Trunk-built module `name` (`/{name}.js` + `/{name}_bg.wasm`),
/// at most once per page: the browser keeps one instance per URL, and a second call (from this
/// module or another one) gets the same exports.
async fn load(name: &'static str) -> Result<JsValue, JsValue> {
    if let Some(m) = MODULES.with(|m| {
        m.borrow()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }) {
        return Ok(m);
    }
    let ns = JsFuture::from(lf_import(&["/", name, ".js?v=", BUILD_ID].concat())?).await?;
    let init = get(&ns, "default").dyn_into::<Function>()?;
    let opts = Object::new();
    Reflect::set(
        &opts,
        &"module_or_path".into(),
        &["/", name, "_bg.wasm?v=", BUILD_ID].concat().into(),
    )?;
    JsFuture::from(init.call1(&JsValue::NULL, &opts)?.dyn_into::<Promise>()?).await?;
    MODULES.with(|m| m.borrow_mut().push((name, ns.clone())));
    Ok(ns)
}

/// The initialised capture module (its exports), loaded at most once.
pub async fn capture_module() -> Result<JsValue, JsValue> {
    load("liveform-capture").await
}

/// The initialised app module (`liveform-app`: every screen after the welcome), loaded at most
/// once; the first screen starts loading it as soon as it has rendered.
pub async fn app_module() -> Result<JsValue, JsValue> {
    load("liveform-app").await
}

/// The app module, mounted (see [`mount_app`]): `accept()` is the welcome screen's Start.
pub struct AppHandle(JsValue);

impl AppHandle {
    /// The person consented on the first screen: the app records it and shows the next step.
    pub fn accept(&self) {
        call_method(&self.0, "accept");
    }
}

/// What the first screen hands the app module.
pub struct AppArgs<'a> {
    /// The UI language and, for a language other than English, its strings as fetched.
    pub lang: &'a str,
    pub locale: Option<&'a str>,
    /// The session request's outcome.
    pub opened: &'a crate::protocol::Opened,
    /// The welcome screen is up (rendered by the first screen): the app starts, but shows
    /// nothing until [`AppHandle::accept`].
    pub standby: bool,
}

/// Loads the app module (see [`app_module`]) and mounts it into `host`; the error says why not.
pub async fn start_app(
    host: &web_sys::HtmlElement,
    args: AppArgs<'_>,
) -> Result<AppHandle, String> {
    let describe = |e: JsValue| {
        e.as_string()
            .or_else(|| get(&e, "message").as_string())
            .unwrap_or_else(|| "the app module did not load".into())
    };
    let m = app_module().await.map_err(describe)?;
    mount_app(&m, host, args).map_err(describe)
}

/// Calls the app module's `mount_app(host, lang, locale, kind, text, standby)`.
pub fn mount_app(
    module: &JsValue,
    host: &web_sys::HtmlElement,
    args: AppArgs<'_>,
) -> Result<AppHandle, JsValue> {
    let (kind, text) = args.opened.to_parts();
    let handle = call_export(
        module,
        "mount_app",
        [
            host.into(),
            args.lang.into(),
            args.locale.map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
            kind.into(),
            text.into(),
            args.standby.into(),
        ],
    )?;
    Ok(AppHandle(handle))
}

/// Calls the method `name` of a handle a module returned (nothing if it has none).
fn call_method(handle: &JsValue, name: &str) {
    if let Ok(f) = get(handle, name).dyn_into::<Function>() {
        let _ = f.call0(handle);
    }
}

/// Calls the module's exported function `name` with `args`.
fn call_export<const N: usize>(
    module: &JsValue,
    name: &str,
    args: [JsValue; N],
) -> Result<JsValue, JsValue> {
    let f = get(module, name).dyn_into::<Function>()?;
    let list = js_sys::Array::new();
    for v in args {
        list.push(&v);
    }
    f.apply(&JsValue::NULL, &list)
}

/// A mounted capture view: unmounting stops its camera.
pub struct Mounted(JsValue);

impl Mounted {
    pub fn unmount(&self) {
        call_method(&self.0, "unmount");
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
    let cb = Closure::<dyn Fn(String, String, String)>::new(on_event).into_js_value();
    let handle = call_export(
        module,
        "mount_capture",
        [
            host.into(),
            args.step.into(),
            args.lang.into(),
            args.token.into(),
            args.allow_file_upload.into(),
            args.flow_json.into(),
            cb,
        ],
    )?;
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
