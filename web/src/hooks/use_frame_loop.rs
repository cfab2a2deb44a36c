//! `use_frame_loop`: a per-frame callback every `interval_ms` (`setTimeout`, like the analysis
//! loops always ran: the callback's own work sets the pace, nothing piles up), from the first
//! time a signal is `true` until the owner is cleaned up.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::time::sleep;

/// What a frame callback asks of the loop.
pub enum Tick {
    /// Go on: the next frame after the interval.
    Next,
    /// Wait for this before the interval to the next frame (the loop does not run meanwhile).
    Wait(Pin<Box<dyn Future<Output = ()>>>),
    /// End the loop.
    Stop,
}

/// What [`use_frame_loop`] returns.
#[derive(Clone, Copy)]
pub struct UseFrameLoop {
    /// The loop runs (started, not yet ended).
    pub running: Signal<bool>,
}

/// Runs a frame loop: the first time `start` is `true`, `setup` makes the per-frame callback
/// (its state — a frame grabber, an analyser — lives in it; `None`: no loop); then the loop
/// sleeps `interval_ms`, calls it, and so on, until it returns [`Tick::Stop`] or the owner is
/// cleaned up (no frame runs after that; the callback and its state are dropped). Started once
/// per owner.
pub fn use_frame_loop<S, F>(start: Signal<bool>, interval_ms: u32, setup: S) -> UseFrameLoop
where
    S: FnOnce() -> Option<F> + 'static,
    F: FnMut() -> Tick + 'static,
{
    let running = RwSignal::new(false);
    let ended = Arc::new(AtomicBool::new(false));
    let mut setup = Some(setup);
    {
        let ended = ended.clone();
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            if !start.get() {
                return false;
            }
            let Some(mut frame) = setup.take().and_then(|s| s()) else {
                return true;
            };
            running.set(true);
            let ended = ended.clone();
            spawn_local(async move {
                loop {
                    sleep(interval_ms).await;
                    if ended.load(Ordering::Relaxed) {
                        break;
                    }
                    match frame() {
                        Tick::Next => {}
                        Tick::Wait(f) => f.await,
                        Tick::Stop => break,
                    }
                }
                drop(frame);
                let _ = running.try_set(false);
            });
            true
        });
    }
    on_cleanup(move || ended.store(true, Ordering::Relaxed));
    UseFrameLoop {
        running: running.into(),
    }
}
