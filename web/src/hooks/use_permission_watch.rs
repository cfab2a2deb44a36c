//! `use_permission_watch`: the camera permission as a signal, watched through the Permissions
//! API's `change` event while `enabled`; the listener is removed on cleanup.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::camera::{watch_permission, Permission, PermissionWatch};

/// The camera permission: `Unknown` until `enabled` is first `true`, then the state the
/// Permissions API reports (still `Unknown` without it), updated on every change. Watching
/// stops when `enabled` turns `false` and on cleanup.
pub fn use_permission_watch(enabled: Signal<bool>) -> Signal<Permission> {
    let permission = RwSignal::new(Permission::Unknown);
    let watch: StoredValue<Option<PermissionWatch>, LocalStorage> = StoredValue::new_local(None);
    Effect::new(move |watching: Option<bool>| {
        let on = enabled.get();
        if !on {
            let _ = watch.try_update_value(|w| w.take());
        } else if watching != Some(true) {
            spawn_local(async move {
                let w = watch_permission(move |p| {
                    let _ = permission.try_set(p);
                })
                .await;
                let now = w.state();
                // Gone meanwhile (unmounted, or no longer enabled): `w` is dropped here, which
                // removes its listener.
                if enabled.try_get_untracked() != Some(true) {
                    return;
                }
                if watch.try_set_value(Some(w)).is_none()
                    && permission.try_get_untracked() != Some(now)
                {
                    let _ = permission.try_set(now);
                }
            });
        }
        on
    });
    on_cleanup(move || {
        let _ = watch.try_update_value(|w| w.take());
    });
    permission.into()
}
