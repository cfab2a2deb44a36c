//! The first screen's pages, built element by element with the same markup as the app module's
//! (`src/app.rs` `app_view`, `src/components/step_frame.rs`, `src/steps/consent.rs`,
//! `src/steps/loading.rs`), so the handover changes nothing the person or a test can see.

use liveform_core::lang::{format, NAMES};
use liveform_web::el::El;
use liveform_web::json::Json;
use liveform_web::{dom, time};

use crate::view::{progress, FlowInfo, WelcomeView};

/// The active language's strings, English underneath (missing keys fall back to English, then
/// to the key, as the app's `I18n` does).
pub struct Strings {
    en: Option<Json>,
    current: Option<Json>,
}

impl Strings {
    pub fn new(en: Option<Json>, current: Option<Json>) -> Strings {
        Strings { en, current }
    }

    pub fn t(&self, key: &str) -> String {
        [&self.current, &self.en]
            .into_iter()
            .flatten()
            .find_map(|j| j.get(key).str())
            .unwrap_or_else(|| key.to_owned())
    }

    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        format(&self.t(key), args)
    }
}

/// The page around a screen: palette, live region and `.lf-page` (as `app_view`), put into
/// `#lf-root`. Returns the page and its screen's parent.
fn shell(view: Option<&WelcomeView>) -> (El, El, El) {
    let mut app = El::new("div").class("lf-app");
    for (var, value) in view.map(|v| v.theme.as_slice()).unwrap_or_default() {
        app = app.style_var(var, value);
    }
    let live = El::new("div")
        .class("lf-sr-only")
        .attr("role", "status")
        .attr("aria-live", "polite")
        .testid("live-status");
    let inner = El::new("div").class("lf-page");
    let app = app.child(live.clone()).child(inner.clone());
    (app, live, inner)
}

/// A screen's heading (`liveform_ui::Heading`): focus moves to it when the screen appears.
fn heading(text: &str, testid: &str) -> El {
    El::new("h1")
        .class("lf-heading")
        .attr("tabindex", "-1")
        .testid(testid)
        .text(text)
}

/// Shows the page and, a moment later (the live region must exist before its text changes for
/// screen readers to announce it), focuses the heading and sets the announcement.
fn show(parent: &El, page: &El, live: El, heading: El, title: String, announce: String) {
    parent.clone().child(page.clone());
    dom::set_title(&title);
    liveform_web::spawn(async move {
        time::sleep(0).await;
        heading.focus();
        live.set_text(&announce);
    });
}

/// The loading screen (`LoadingScreen`), while the app module arrives.
pub fn loading(parent: &El, s: &Strings, view: Option<&WelcomeView>) -> El {
    let (page, live, inner) = shell(view);
    let h = heading(&s.t("loading-title"), "loading-title");
    inner.child(
        El::new("section")
            .class("lf-screen lf-loading")
            .testid("screen-loading")
            .attr("aria-busy", "true")
            .child(h.clone())
            .child(
                El::new("div")
                    .class("lf-spinner")
                    .attr("aria-hidden", "true"),
            ),
    );
    show(
        parent,
        &page,
        live,
        h,
        s.t("app-title"),
        s.t("loading-status"),
    );
    page
}

/// The language switch (`ConsentStep`'s too): every language by its own name; choosing one
/// reopens the page in it (`liveform_web::location::switch_language`: the tab's session resumes).
fn language_switch(s: &Strings, lang: &str, consent: &El) -> El {
    let mut select = El::new("select")
        .attr("id", "lf-lang")
        .testid("language-select");
    for (code, name) in NAMES {
        let mut option = El::new("option").attr("value", code).attr("lang", code);
        if code == lang {
            option = option.attr("selected", "");
        }
        select = select.child(option.text(name));
    }
    let select = {
        let s = select.clone();
        let consent = consent.clone();
        select.on("change", move || {
            liveform_web::location::switch_language(&s.value(), consent.checked())
        })
    };
    El::new("div")
        .class("lf-lang")
        .child(
            El::new("label")
                .attr("for", "lf-lang")
                .text(&s.t("language-label")),
        )
        .child(select)
}

/// The welcome screen (`StepFrame` + `ConsentStep`), put into `parent`; `on_start(button)` runs
/// on Start once the box is ticked.
pub fn welcome(
    parent: &El,
    s: &Strings,
    lang: &str,
    view: &WelcomeView,
    flow: &FlowInfo,
    on_start: impl Fn(&El) + 'static,
) -> El {
    let (page, live, inner) = shell(Some(view));
    let (cur, total) = progress(&flow.steps, &flow.current);
    let (cur_s, total_s) = (cur.to_string(), total.to_string());
    let label = s.tf(
        "progress-label",
        &[("current", &cur_s), ("total", &total_s)],
    );
    let project = view.project.as_str();
    let frame = El::new("div")
        .class("lf-frame")
        .child(
            El::new("div")
                .class("lf-progress-row")
                .child({
                    // Back is hidden on the first step (as `StepFrame` hides it).
                    let back = El::new("button")
                        .class("lf-back")
                        .testid("back")
                        .child(
                            El::new("span")
                                .attr("aria-hidden", "true")
                                .class("lf-back-arrow")
                                .text("‹"),
                        )
                        .text(&s.t("back"));
                    back.toggle("hidden", cur <= 1);
                    back
                })
                .child(
                    El::new("span")
                        .class("lf-progress-text")
                        .attr("id", "lf-progress-text")
                        .testid("progress")
                        .text(&label),
                ),
        )
        .child(
            El::new("div")
                .class("lf-progress")
                .attr("role", "progressbar")
                .attr("aria-labelledby", "lf-progress-text")
                .attr("aria-valuemin", "1")
                .attr("aria-valuemax", &total_s)
                .attr("aria-valuenow", &cur_s)
                .attr("aria-valuetext", &label)
                .child(El::new("div").class("lf-progress-fill").style_var(
                    "width",
                    &[&(cur * 100 / total.max(1)).to_string(), "%"].concat(),
                )),
        );
    let h = heading(
        &s.tf("welcome-title", &[("project", project)]),
        "welcome-title",
    );
    let checkbox = El::new("input")
        .attr("type", "checkbox")
        .testid("consent-checkbox");
    let mut section = El::new("section")
        .class("lf-screen")
        .testid("screen-welcome")
        .child(language_switch(s, lang, &checkbox))
        .child(h.clone())
        .child(El::new("p").text(&s.t("welcome-intro")))
        .child(
            El::new("ol")
                .class("lf-steps")
                .child(El::new("li").text(&s.t("welcome-step-document")))
                .child(El::new("li").text(&s.t("welcome-step-selfie")))
                .child(El::new("li").text(&s.t("welcome-step-liveness"))),
        )
        .child(El::new("p").class("lf-hint").text(&s.t("welcome-need")));
    if view.privacy_url.is_some() || view.terms_url.is_some() {
        let link = |url: &str, testid: &str, key: &str| {
            El::new("a")
                .attr("href", url)
                .attr("target", "_blank")
                .attr("rel", "noopener noreferrer")
                .testid(testid)
                .text(&s.t(key))
        };
        let mut p = El::new("p")
            .class("lf-links")
            .testid("consent-links")
            .text(&s.t("consent-links-intro"))
            .text(" ");
        if let Some(u) = &view.privacy_url {
            p = p.child(link(u, "privacy-link", "consent-privacy-link"));
        }
        p = p.text(" ");
        if let Some(u) = &view.terms_url {
            p = p.child(link(u, "terms-link", "consent-terms-link"));
        }
        section = section.child(p);
    }
    let start = El::new("button")
        .class("lf-button")
        .testid("consent-start")
        .attr("aria-describedby", "lf-consent-required")
        .text(&s.t("consent-start"));
    let required = El::new("p")
        .attr("id", "lf-consent-required")
        .class("lf-hint")
        .text(&s.t("consent-required"));
    let sync = {
        let (checkbox, start, required) = (checkbox.clone(), start.clone(), required.clone());
        move || {
            let ticked = checkbox.checked();
            start.toggle("disabled", !ticked);
            required.toggle("hidden", ticked);
        }
    };
    checkbox.set_checked(flow.consent || liveform_web::location::take_ticked());
    sync();
    let checkbox = checkbox.on("change", sync);
    let start = {
        let (checkbox, button) = (checkbox.clone(), start.clone());
        start.on("click", move || {
            if checkbox.checked() {
                on_start(&button);
            }
        })
    };
    section = section
        .child(
            El::new("label")
                .class("lf-consent")
                .child(checkbox)
                .child(El::new("span").text(&s.tf("consent-label", &[("project", project)]))),
        )
        .child(start)
        .child(required);
    inner.child(frame.child(section));
    let announce = [label.as_str(), ". ", &s.t("welcome-ready-status")].concat();
    show(parent, &page, live, h, s.t("app-title"), announce);
    page
}
