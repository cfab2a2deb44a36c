//! The capture module: the camera and everything around it, built as its own wasm file
//! (`src/main.rs`, `liveform-capture_bg.wasm`) and loaded only when the person reaches a
//! capture step, so the first screen stays small. The main app mounts it into the step's frame
//! and hears back through [`CaptureEvent`]s (`liveform_web::protocol`); the two share nothing
//! else but the page. It reaches the browser only through `liveform_web`.

pub mod face;
pub mod finish;
pub mod gate;
pub mod handoff;
pub mod help;
pub mod upload;
pub mod view;

use std::rc::Rc;

use leptos::prelude::*;
use liveform_core::flow::CaptureSlot;
use liveform_ui::i18n::{I18n, Translations};
use liveform_web::hooks::use_upload_queue;
use liveform_web::keys::{AGREED_KEY, FLOW_KEY, NOTICE_KEY};
use liveform_web::protocol::StoredFlow;
pub use liveform_web::protocol::{CaptureConfig, CaptureEvent};
use liveform_web::{api, location, module, storage, HtmlElement};

/// The capture module's context (instead of the main app's state).
#[derive(Clone)]
pub struct CaptureCtx {
    pub config: CaptureConfig,
    emit: StoredValue<Rc<dyn Fn(CaptureEvent)>, LocalStorage>,
    /// The capture screens' uploads (`liveform_web::hooks::use_upload_queue`): they stop when
    /// the screens are unmounted.
    pub uploads: upload::UploadQueue,
}

impl CaptureCtx {
    /// Must run inside the reactive owner (the mount closure).
    pub fn new(config: CaptureConfig, emit: impl Fn(CaptureEvent) + 'static) -> Self {
        let emit: Rc<dyn Fn(CaptureEvent)> = Rc::new(emit);
        let emit = StoredValue::new_local(emit);
        let uploads = use_upload_queue(&config.token, move |slot, capture_id| {
            if let Some(f) = emit.try_get_value() {
                f(CaptureEvent::Captured { slot, capture_id });
            }
        });
        CaptureCtx {
            config,
            emit,
            uploads,
        }
    }

    pub fn emit(&self, e: CaptureEvent) {
        if let Some(f) = self.emit.try_get_value() {
            f(e)
        }
    }
}

pub fn use_capture() -> CaptureCtx {
    use_context::<CaptureCtx>().expect("CaptureCtx is provided by mount")
}

/// Mounts the capture screens into `host` (registered by `src/main.rs` with
/// `liveform_web::entry::serve`). Dropping the handle unmounts them, which stops the camera.
pub fn mount(
    host: HtmlElement,
    config: CaptureConfig,
    emit: impl Fn(CaptureEvent) + 'static,
) -> leptos::mount::UnmountHandle<impl Mountable> {
    module::add_capture_css();
    let lang = config.lang.clone();
    leptos::mount::mount_to(host, move || {
        let ctx = CaptureCtx::new(config, emit);
        let i18n = I18n::with_english(Translations::english_with_capture());
        provide_context(i18n);
        if lang != "en" {
            let lang = lang.clone();
            leptos::task::spawn_local(async move {
                let (main, capture) = (
                    api::fetch_locale(&lang).await,
                    api::fetch_capture_locale(&lang).await,
                );
                let parse = |j: Option<String>| j.and_then(|j| Translations::parse(&lang, &j).ok());
                if let Some(mut t) = parse(main) {
                    if let Some(c) = parse(capture) {
                        t.merge(c);
                    }
                    i18n.set(t);
                }
            });
        }
        let capture = ctx.config.step.slot().is_some();
        // The first screens of this page load (a reload, or the first capture step) agree the
        // flow with what the server holds before they show.
        let first = !CHECKED.with(|c| c.replace(true));
        let ready = RwSignal::new(!first);
        if first {
            leptos::task::spawn_local(agree(ctx.clone(), ready));
        }
        provide_context(ctx);
        // A one-time message from the finish step ("a photo did not reach us").
        let notice: Option<String> = storage::get(NOTICE_KEY);
        if capture {
            storage::remove(NOTICE_KEY);
        }
        move || {
            if !ready.get() {
                None
            } else if capture {
                let notice = notice.clone();
                Some(
                    view! {
                        {notice.map(|key| view! {
                            <p class="lf-notice" role="alert" data-testid="capture-notice">{move || i18n.t(&key)}</p>
                        })}
                        <view::CaptureView/>
                    }
                    .into_any(),
                )
            } else {
                Some(view! { <finish::FinishView/> }.into_any())
            }
        }
    })
}

thread_local! {
    /// Whether this page load already agreed its flow with the server.
    static CHECKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `GET /api/session/captures` and [`liveform_core::flow::Flow::reconcile`]: when the server's
/// captures move the flow (a reload after an upload whose answer was lost, a capture the server
/// never got, a submission finished elsewhere), the page reloads with the agreed flow (the main
/// app keeps no code for this: the first screen has no room).
async fn agree(ctx: CaptureCtx, ready: RwSignal<bool>) {
    use liveform_core::api::KycStatus;
    let list = api::captures(&ctx.config.token).await;
    if let (Some(flow), Ok(list)) = (&ctx.config.flow, list) {
        let ids: Vec<(CaptureSlot, &str)> = list
            .captures
            .iter()
            .map(|c| (c.slot, c.capture_id.as_str()))
            .collect();
        for (slot, id) in &ids {
            upload::forget_if_stored(*slot, id);
        }
        let done = (list.status != KycStatus::Incomplete).then_some(list.submission_id.as_str());
        let agreed = flow.reconcile(&ids, done);
        // The main app takes a changed flow the way it takes any remembered flow: from
        // `sessionStorage` on (re)load. Once per tab and minute at most, so this never loops.
        let now = liveform_web::time::date_now();
        let last: f64 = storage::get(AGREED_KEY).unwrap_or(0.0);
        if agreed.current() != flow.current() && now - last > 60_000.0 {
            storage::set(AGREED_KEY, &now);
            storage::set(
                FLOW_KEY,
                &StoredFlow {
                    token: ctx.config.token.clone(),
                    flow: agreed,
                },
            );
            location::reload();
            return;
        }
    }
    let _ = ready.try_set(true);
}
