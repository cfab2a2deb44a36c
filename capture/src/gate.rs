//! What the document gate (`view.rs`) and the selfie gate (`face.rs`) share in their frame loops:
//! the clock, the manual shutter that appears after a while (never a dead end), and noticing a
//! retake (the gate's `resets` counter moved).

use leptos::prelude::*;

use liveform_web::time::now_ms;

/// Per gate loop: when it started and the last `resets` value it saw.
pub struct ShutterClock {
    started: u64,
    resets_seen: u32,
    manual: RwSignal<bool>,
    resets: RwSignal<u32>,
    /// The gate's rule for offering the shutter, given the milliseconds since the loop started.
    shutter_after: fn(u64) -> bool,
}

impl ShutterClock {
    pub fn new(
        manual: RwSignal<bool>,
        resets: RwSignal<u32>,
        shutter_after: fn(u64) -> bool,
    ) -> Self {
        ShutterClock {
            started: now_ms(),
            resets_seen: resets.try_get_untracked().unwrap_or(0),
            manual,
            resets,
            shutter_after,
        }
    }

    /// Offers the shutter once its time has come; returns whether the gate was reset (a retake)
    /// since the last tick, so that the loop starts its auto-capture and hints over.
    pub fn tick(&mut self, now: u64) -> bool {
        if self.manual.try_get_untracked() == Some(false)
            && (self.shutter_after)(now - self.started)
        {
            let _ = self.manual.try_set(true);
        }
        match self.resets.try_get_untracked() {
            Some(r) if r != self.resets_seen => {
                self.resets_seen = r;
                true
            }
            _ => false,
        }
    }
}
