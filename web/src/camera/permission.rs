//! The camera permission (Permissions API): read it without prompting, and watch it change.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::js::{get, get_string};

/// The camera permission as the Permissions API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Granted,
    Denied,
    Prompt,
    /// No Permissions API, or it does not know `camera` (older Firefox, Safari < 16).
    Unknown,
}

fn permission_of(status: &JsValue) -> Permission {
    match get_string(status, "state").as_deref() {
        Some("granted") => Permission::Granted,
        Some("denied") => Permission::Denied,
        Some("prompt") => Permission::Prompt,
        _ => Permission::Unknown,
    }
}

async fn permission_status() -> Option<JsValue> {
    let nav = web_sys::window()?.navigator();
    let perms = get(&nav, "permissions");
    let query = get(&perms, "query");
    let query = query.dyn_ref::<Function>()?;
    let desc = Object::new();
    Reflect::set(&desc, &"name".into(), &"camera".into()).ok()?;
    let promise = query
        .call1(&perms, &desc)
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    JsFuture::from(promise).await.ok()
}

/// The current camera permission (never prompts).
pub async fn permission() -> Permission {
    match permission_status().await {
        Some(s) => permission_of(&s),
        None => Permission::Unknown,
    }
}

/// Calls `on_change` whenever the camera permission changes (e.g. the person allowed the camera
/// in the site settings while the recovery screen was open). Dropping the handle stops watching.
pub struct PermissionWatch {
    status: Option<JsValue>,
    _cb: Option<Closure<dyn FnMut()>>,
}

impl PermissionWatch {
    /// The permission now (`Unknown` without the Permissions API).
    pub fn state(&self) -> Permission {
        self.status
            .as_ref()
            .map_or(Permission::Unknown, permission_of)
    }
}

impl Drop for PermissionWatch {
    fn drop(&mut self) {
        if let Some(s) = &self.status {
            let _ = Reflect::set(s, &"onchange".into(), &JsValue::NULL);
        }
    }
}

pub async fn watch_permission(on_change: impl Fn(Permission) + 'static) -> PermissionWatch {
    let Some(status) = permission_status().await else {
        return PermissionWatch {
            status: None,
            _cb: None,
        };
    };
    let s2 = status.clone();
    let cb = Closure::<dyn FnMut()>::new(move || on_change(permission_of(&s2)));
    let _ = Reflect::set(&status, &"onchange".into(), cb.as_ref());
    PermissionWatch {
        status: Some(status),
        _cb: Some(cb),
    }
}
