//! The app module's wasm entry point (feature `app-entry`, turned on by the app crate only). The
//! app crate's `main` calls [`serve`] with its mount function; the first-screen module then calls
//! the exported `mount_app` (see [`crate::module::mount_app`]).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::protocol::Opened;

/// What the first screen hands the app module (see [`crate::module::AppArgs`]).
pub struct AppStart {
    pub lang: String,
    pub locale: Option<String>,
    pub opened: Opened,
    pub standby: bool,
}

/// Mounts the app into the host element; what it returns is called on the welcome's Start.
pub type MountFn = dyn Fn(web_sys::HtmlElement, AppStart) -> Box<dyn Fn()>;

thread_local! {
    static MOUNT: RefCell<Option<Rc<MountFn>>> = const { RefCell::new(None) };
}

/// Starts the app module: `mount` answers `mount_app`.
pub fn serve(mount: impl Fn(web_sys::HtmlElement, AppStart) -> Box<dyn Fn()> + 'static) {
    MOUNT.with(|m| *m.borrow_mut() = Some(Rc::new(mount)));
}

/// The mounted app (it stays for the page's lifetime).
#[wasm_bindgen]
pub struct AppHandle {
    accept: Box<dyn Fn()>,
}

#[wasm_bindgen]
impl AppHandle {
    /// The welcome screen's Start: record consent and show the next step.
    pub fn accept(&self) {
        (self.accept)();
    }
}

/// Mounts the app into `host` with the first screen's session outcome (`kind`, `text`: see
/// [`Opened::to_parts`]). With `standby` the welcome screen is the first screen's, and the app
/// shows nothing until `accept()`.
#[wasm_bindgen]
pub fn mount_app(
    host: web_sys::HtmlElement,
    lang: String,
    locale: Option<String>,
    kind: String,
    text: String,
    standby: bool,
) -> Result<AppHandle, JsError> {
    let mount = MOUNT
        .with(|m| m.borrow().clone())
        .ok_or_else(|| JsError::new("the app module has not started"))?;
    let start = AppStart {
        lang,
        locale,
        opened: Opened::from_parts(&kind, text),
        standby,
    };
    Ok(AppHandle {
        accept: mount(host, start),
    })
}
