//! The finish step (what was captured, retakes, Submit → `POST /api/session/finish`) and the
//! result step (the status, then the Return URL the server built: after "OK" or a 5-second
//! countdown that can be paused and extended, WCAG 2.2.1; at once with `skip_result_page`).
//!
//! The finish answer is kept in `sessionStorage` (`liveform.finished`) so the result page
//! survives a reload; without it the result page asks again (finishing is idempotent).

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::api::{CaptureList, DocumentReview, Finish, Finished, KycStatus};
use liveform_core::flow::{CaptureSlot, Step};
use liveform_core::DocumentField;
use liveform_core::{ErrorBody, ErrorCode};

use crate::upload::sleep;
use crate::{use_capture, CaptureEvent};
use liveform_core::embed::{Complete, EventType, FrameComplete};
use liveform_ui::i18n::use_i18n;
use liveform_web::{api, embed, embed_link, location, storage};

/// Where the finish answer is kept for the result page.
pub const FINISHED_KEY: &str = "liveform.finished";
/// A one-time message for the next capture screen (a translation key).
pub const NOTICE_KEY: &str = "liveform.notice";
/// Seconds before the result page returns to the integrator by itself.
pub const RETURN_SECS: u32 = 5;
/// What "+ 20 s" adds.
pub const EXTEND_SECS: u32 = 20;

fn item_key(slot: CaptureSlot) -> &'static str {
    match slot {
        CaptureSlot::DocumentFront => "finish-item-front",
        CaptureSlot::DocumentBack => "finish-item-back",
        CaptureSlot::Selfie => "finish-item-selfie",
        CaptureSlot::Liveness => "finish-item-liveness",
    }
}

/// Only an absolute http(s) URL is ever navigated to (it comes from the server, which builds it
/// from the project's configured Return URL).
pub fn navigable(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Whether this page runs inside a frame (then it does not navigate: the frame is the
/// integrator's; the host page hears `complete`, see `liveform_web::embed`).
pub fn in_frame() -> bool {
    !location::is_top()
}

/// Leaves the form for `url` (never from a frame, never anything but http(s)).
pub fn go(url: &str) {
    location::assign(url);
}

/// The document sides (of `slots`) whose stored capture the server could not find the document
/// in (`CaptureCheck::no_document`): the capture the flow holds for the side, else the side's
/// latest.
fn unclear_sides(
    list: &CaptureList,
    flow: Option<&liveform_core::flow::Flow>,
    slots: &[CaptureSlot],
) -> Vec<CaptureSlot> {
    slots
        .iter()
        .copied()
        .filter(|s| matches!(s, CaptureSlot::DocumentFront | CaptureSlot::DocumentBack))
        .filter(|slot| {
            let held = flow.and_then(|f| f.capture(*slot));
            let mut of_slot = list.captures.iter().filter(|c| c.slot == *slot);
            let record = match held {
                Some(id) => of_slot.find(|c| c.capture_id == id),
                None => of_slot.next_back(),
            };
            record
                .and_then(|c| c.check.as_ref())
                .is_some_and(|c| c.no_document())
        })
        .collect()
}

/// `front` / `back` for the document sides' test ids.
fn side_name(slot: CaptureSlot) -> &'static str {
    match slot {
        CaptureSlot::DocumentBack => "back",
        _ => "front",
    }
}

async fn finish(token: String, email: Option<String>) -> Result<Finished, ErrorBody> {
    api::finish(&token, &Finish { email }).await
}

/// The finish or result screen, by the mounted step.
#[component]
pub fn FinishView() -> impl IntoView {
    if use_capture().config.step == Step::Result {
        view! { <ResultView/> }.into_any()
    } else {
        view! { <SubmitView/> }.into_any()
    }
}

/// The coded message for a failed request: the catalogue title and the code.
fn error_text(i18n: liveform_ui::i18n::I18n, e: &ErrorBody) -> String {
    format!(
        "{} {}",
        i18n.t(&format!("{}-title", e.message_key)),
        i18n.tf("finish-failed", &[("code", &e.code)])
    )
}

#[component]
fn SubmitView() -> impl IntoView {
    let i18n = use_i18n();
    let ctx = use_capture();
    let flow = ctx.config.flow.clone();
    let token = ctx.config.token.clone();
    let email = flow.as_ref().and_then(|f| f.email().map(str::to_owned));
    let slots: Vec<CaptureSlot> = flow
        .as_ref()
        .map(|f| {
            f.steps()
                .iter()
                .filter_map(|s| s.slot())
                .filter(|s| f.capture(*s).is_some())
                .collect()
        })
        .unwrap_or_default();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // The server's own check of the document photos (also after a reload): sides it could not see
    // the document in get a notice and a retake; sending stays possible.
    let unclear = RwSignal::new(Vec::<CaptureSlot>::new());
    // The server's read of the document's machine-readable zone (ARGOS's ID review): the fields
    // the link names, to confirm; an unreadable zone gets a retake offer.
    let review = RwSignal::new(None::<DocumentReview>);
    {
        let (token, flow, slots) = (ctx.config.token.clone(), flow.clone(), slots.clone());
        spawn_local(async move {
            if let Ok(list) = api::captures(&token).await {
                let _ = unclear.try_set(unclear_sides(&list, flow.as_ref(), &slots));
                let _ = review.try_set(list.document.filter(|d| slots.contains(&d.side)));
            }
        });
    }
    let ctx2 = ctx.clone();
    let submit = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        ctx2.emit(CaptureEvent::Submit);
        let (ctx, token, email) = (ctx2.clone(), token.clone(), email.clone());
        spawn_local(async move {
            let r = finish(token, email).await;
            let _ = busy.try_set(false);
            match r {
                Ok(f) => {
                    storage::set(FINISHED_KEY, &f);
                    let skip = f.skip_result_page;
                    let url = f.return_url.clone();
                    ctx.emit(CaptureEvent::Submitted {
                        submission_id: f.submission_id,
                    });
                    if let (true, Some(u)) = (skip, url) {
                        go(&u);
                    }
                }
                Err(e) if e.code == ErrorCode::CapturesMissing.id() => {
                    ctx.emit(CaptureEvent::SubmitFailed);
                    let _ = error.try_set(Some(i18n.t("finish-missing")));
                    if let Some(slot) = e.missing.first() {
                        storage::set(NOTICE_KEY, &"finish-missing");
                        ctx.emit(CaptureEvent::Retake(*slot));
                    }
                }
                Err(e) => {
                    let _ = error.try_set(Some(error_text(i18n, &e)));
                    ctx.emit(CaptureEvent::SubmitFailed);
                }
            }
        });
    };
    let items = slots
        .into_iter()
        .map(|slot| {
            let ctx = ctx.clone();
            let key = item_key(slot);
            let is_unclear = move || unclear.with(|u| u.contains(&slot));
            let unreadable = move || {
                !is_unclear()
                    && review.with(|r| r.as_ref().is_some_and(|d| d.side == slot && !d.valid))
            };
            let side = side_name(slot);
            let retake = StoredValue::new_local(move || ctx.emit(CaptureEvent::Retake(slot)));
            view! {
                <li class="lf-item" data-testid=format!("finish-item-{}", slot.name())>
                    <span>{move || i18n.t(key)}</span>
                    <span class="lf-hint">{move || i18n.t("finish-saved")}</span>
                    <button
                        class="lf-button lf-secondary"
                        data-testid="finish-retake"
                        hidden=move || is_unclear() || unreadable()
                        aria-label=move || i18n.tf("finish-retake-label", &[("item", &i18n.t(key))])
                        on:click=move |_| retake.with_value(|f| f())
                    >
                        {move || i18n.t("finish-retake")}
                    </button>
                    // The server could not see the document, or could not read its zone: why,
                    // and a retake (sending stays possible).
                    {move || {
                        let (message, test_id) = if is_unclear() {
                            ("finish-doc-unclear", "finish-doc-unclear")
                        } else if unreadable() {
                            ("mrz-unreadable", "finish-mrz-unreadable")
                        } else {
                            return None;
                        };
                        Some(view! {
                            <div class="lf-unclear" role="alert">
                                <p data-testid=format!("{test_id}-{side}")>{move || i18n.t(message)}</p>
                                <p class="lf-hint">{move || i18n.t("finish-doc-unclear-hint")}</p>
                                <button
                                    class="lf-button"
                                    data-testid=format!("finish-retake-{side}")
                                    aria-label=move || i18n.tf("finish-retake-label", &[("item", &i18n.t(key))])
                                    on:click=move |_| retake.with_value(|f| f())
                                >
                                    {move || i18n.t("finish-retake")}
                                </button>
                            </div>
                        })
                    }}
                </li>
            }
        })
        .collect_view();
    let review_view = move || {
        review.with(|r| {
            let r = r.as_ref().filter(|r| r.valid && !r.fields.is_empty())?;
            let rows = r
                .fields
                .iter()
                .map(|f| {
                    let label = format!("review-field-{}", f.field.as_str());
                    let value = review_value(i18n, f.field, &f.value);
                    view! {
                        <dt>{i18n.t(&label)}</dt>
                        // Isolated: a Latin name or a date inside right-to-left text.
                        <dd data-testid=format!("review-{}", f.field.as_str())><bdi>{value}</bdi></dd>
                    }
                })
                .collect_view();
            Some(view! {
                <section class="lf-review" data-testid="finish-review" aria-labelledby="lf-review-title">
                    <h2 id="lf-review-title">{i18n.t("review-title")}</h2>
                    <dl>{rows}</dl>
                    <p class="lf-hint">{i18n.t("review-hint")}</p>
                </section>
            })
        })
    };
    view! {
        <div class="lf-finish" data-testid="finish">
            <p>{move || i18n.t("finish-intro")}</p>
            <ul class="lf-choices">{items}</ul>
            {review_view}
            <p role="alert" data-testid="finish-error" hidden=move || error.with(Option::is_none)>
                {move || error.get().unwrap_or_default()}
            </p>
            <div class="lf-actions">
                <button class="lf-button" data-testid="finish-submit" disabled=move || busy.get() on:click=submit>
                    {move || if busy.get() { i18n.t("finish-sending") } else { i18n.t("finish-submit") }}
                </button>
            </div>
        </div>
    }
}

/// A review field's value as shown: the sex as a word, everything else as read.
fn review_value(i18n: liveform_ui::i18n::I18n, field: DocumentField, value: &str) -> String {
    match (field, value) {
        (DocumentField::Gender, "M") => i18n.t("review-sex-m"),
        (DocumentField::Gender, "F") => i18n.t("review-sex-f"),
        (DocumentField::Gender, _) => i18n.t("review-sex-x"),
        _ => value.to_owned(),
    }
}

fn status_key(s: KycStatus) -> &'static str {
    match s {
        KycStatus::Incomplete => "result-incomplete",
        KycStatus::Pending => "result-pending",
        KycStatus::Approved => "result-approved",
        KycStatus::Rejected => "result-rejected",
    }
}

#[component]
fn ResultView() -> impl IntoView {
    let i18n = use_i18n();
    let ctx = use_capture();
    let fin = RwSignal::new(storage::get::<Finished>(FINISHED_KEY));
    let error = RwSignal::new(None::<String>);
    let load = {
        let token = ctx.config.token.clone();
        let email = ctx
            .config
            .flow
            .as_ref()
            .and_then(|f| f.email().map(str::to_owned));
        move || {
            let (token, email) = (token.clone(), email.clone());
            error.set(None);
            spawn_local(async move {
                match finish(token, email).await {
                    Ok(f) => {
                        storage::set(FINISHED_KEY, &f);
                        let _ = fin.try_set(Some(f));
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(error_text(i18n, &e)));
                    }
                }
            });
        }
    };
    // After a reload without the kept answer (or finished on another device): ask again.
    if fin.with_untracked(Option::is_none) {
        load();
    }
    let framed = in_frame();
    let left = RwSignal::new(RETURN_SECS);
    let paused = RwSignal::new(false);
    let done = RwSignal::new(false);
    // What the countdown's live region says: its start, a pause, a resume, more time; never each
    // second (a screen reader would read nothing else).
    let announce = RwSignal::new(String::new());
    let return_url = move || {
        fin.with(|f| {
            f.as_ref()
                .and_then(|f| f.return_url.clone())
                .filter(|u| navigable(u))
        })
    };
    let leave = move || {
        if let Some(u) = return_url() {
            paused.set(true);
            done.set(true);
            go(&u);
        }
    };
    // Inside a frame: tell the host page (`complete`, once per mount) and stay, or, where the
    // project asks for it, take the whole window to the Return URL on "OK" (a user gesture, which
    // browsers require for a frame to navigate the top window).
    let told = StoredValue::new(false);
    Effect::new(move |_| {
        fin.with(|f| {
            let Some(f) = f.as_ref() else { return };
            if told.get_value() {
                return;
            }
            told.set_value(true);
            let payload = Complete {
                status: f.status.as_str().to_owned(),
                submission_id: f.submission_id.clone(),
                return_url: f.return_url.clone().filter(|u| navigable(u)),
            };
            embed::post(
                EventType::Complete,
                &serde_json::to_string(&payload).unwrap_or_default(),
            );
        })
    });
    let framed_ok = move || {
        done.set(true);
        if embed::complete_mode() == FrameComplete::NavigateTop {
            if let Some(u) = return_url() {
                embed_link::navigate_top(&u);
            }
        }
    };
    // The countdown starts once the answer is known and a Return URL exists.
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(url) = return_url() else { return };
        if framed || started.get_value() {
            return;
        }
        started.set_value(true);
        if fin.with_untracked(|f| f.as_ref().is_some_and(|f| f.skip_result_page)) {
            go(&url);
            return;
        }
        announce.set(i18n.tf(
            "result-return-in",
            &[("seconds", &left.get_untracked().to_string())],
        ));
        spawn_local(async move {
            loop {
                sleep(1000).await;
                let (Some(p), Some(d)) = (paused.try_get_untracked(), done.try_get_untracked())
                else {
                    return; // unmounted
                };
                if d {
                    return;
                }
                if p {
                    continue;
                }
                let n = left.get_untracked().saturating_sub(1);
                left.set(n);
                if n == 0 {
                    done.set(true);
                    go(&url);
                    return;
                }
            }
        });
    });
    let status = move || {
        fin.with(|f| {
            f.as_ref()
                .map(|f| i18n.t(status_key(f.status)))
                .unwrap_or_else(|| i18n.t("result-loading"))
        })
    };
    let state = move || fin.with(|f| f.as_ref().map_or("loading", |f| f.status.as_str()));
    let reference = move || {
        fin.with(|f| {
            f.as_ref()
                .map(|f| i18n.tf("result-reference", &[("id", &f.submission_id)]))
        })
    };
    let countdown = move || {
        if done.get() {
            i18n.t("result-done")
        } else if paused.get() {
            i18n.t("result-paused")
        } else {
            i18n.tf("result-return-in", &[("seconds", &left.get().to_string())])
        }
    };
    let countdown_text = move || {
        if paused.get_untracked() {
            i18n.t("result-paused")
        } else {
            i18n.tf(
                "result-return-in",
                &[("seconds", &left.get_untracked().to_string())],
            )
        }
    };
    let has_url = move || return_url().is_some();
    view! {
        <div class="lf-result" data-testid="result" data-status=state>
            <p data-testid="result-status" aria-live="polite">{status}</p>
            <p class="lf-hint" data-testid="result-reference">{reference}</p>
            <p role="alert" data-testid="result-error" hidden=move || error.with(Option::is_none)>
                {move || error.get().unwrap_or_default()}
            </p>
            <button
                class="lf-button"
                data-testid="result-retry"
                hidden=move || error.with(Option::is_none)
                on:click={
                    let load = load.clone();
                    move |_| load()
                }
            >
                {move || i18n.t("error-retry")}
            </button>
            {move || (has_url() && !framed).then(|| view! {
                <p data-testid="result-countdown">{countdown}</p>
                <p class="lf-sr-only" aria-live="polite" data-testid="result-announce">{move || announce.get()}</p>
            })}
            {move || has_url().then(|| view! {
                <div class="lf-actions">
                    <button class="lf-button" data-testid="result-ok" on:click=move |_| {
                        if framed { framed_ok() } else { leave() }
                    }>
                        {move || i18n.t("result-ok")}
                    </button>
                    {(!framed).then(|| view! {
                        <button
                            class="lf-button lf-secondary"
                            data-testid="result-pause"
                            hidden=move || done.get()
                            aria-pressed=move || if paused.get() { "true" } else { "false" }
                            on:click=move |_| {
                                paused.update(|p| *p = !*p);
                                announce.set(countdown_text());
                            }
                        >
                            {move || if paused.get() { i18n.t("result-resume") } else { i18n.t("result-pause") }}
                        </button>
                        <button
                            class="lf-button lf-secondary"
                            data-testid="result-extend"
                            hidden=move || done.get()
                            on:click=move |_| {
                                left.update(|n| *n = n.saturating_add(EXTEND_SECS));
                                announce.set(countdown_text());
                            }
                        >
                            {move || i18n.t("result-extend")}
                        </button>
                    })}
                </div>
            })}
        </div>
    }
}
