//! What the welcome screen reads from the server's session view (`liveform_core::api::SessionView`
//! as JSON, through `JSON.parse`): the few fields it shows, nothing it would have to check
//! (the app module parses the same text with serde before anything else happens).

use liveform_web::json::Json;

/// The session view's fields the welcome screen needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelcomeView {
    pub token: String,
    pub pid: String,
    pub project: String,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    /// `(CSS custom property, colour)`: the session's palette (`ThemeView`).
    pub theme: Vec<(&'static str, String)>,
    pub frame_origins: Vec<String>,
    /// `frame_complete = "navigate_top"`.
    pub navigate_top: bool,
    pub flow: FlowInfo,
}

/// The flow's steps, where it stands, and its offer (as JSON text, to compare a remembered flow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowInfo {
    pub steps: Vec<String>,
    pub current: String,
    pub consent: bool,
    pub offer: Option<String>,
}

impl FlowInfo {
    fn read(flow: &Json) -> Option<FlowInfo> {
        Some(FlowInfo {
            steps: flow
                .get("steps")
                .items()
                .iter()
                .filter_map(Json::str)
                .collect(),
            current: flow.get("current").str()?,
            consent: flow.get("consent").bool().unwrap_or(false),
            offer: flow.get("offer").stringify(),
        })
    }
}

/// `ThemeView`'s fields and the CSS custom properties they set (as `src/app.rs` sets them).
const THEME: [(&str, &str); 5] = [
    ("main", "--lf-main"),
    ("on_main", "--lf-on-main"),
    ("main_text", "--lf-main-text"),
    ("inner", "--lf-inner"),
    ("on_inner", "--lf-on-inner"),
];

impl WelcomeView {
    pub fn read(v: &Json) -> Option<WelcomeView> {
        let project = v.get("project");
        let theme = v.get("theme");
        Some(WelcomeView {
            token: v.get("token").str()?,
            pid: project.get("pid").str()?,
            project: project.get("name").str()?,
            privacy_url: v.get("privacy_url").str(),
            terms_url: v.get("terms_url").str(),
            theme: THEME
                .iter()
                .filter_map(|(field, var)| Some((*var, theme.get(field).str()?)))
                .collect(),
            frame_origins: v
                .get("frame_origins")
                .items()
                .iter()
                .filter_map(Json::str)
                .collect(),
            navigate_top: v.get("frame_complete").str().as_deref() == Some("navigate_top"),
            flow: FlowInfo::read(&v.get("flow"))?,
        })
    }

    /// The flow the tab shows: the one it remembers (`{token, flow}` under `FLOW_KEY`) when it
    /// belongs to this session and offer, else the session's (as `AppState::start_flow` picks).
    pub fn flow_for(&self, remembered: Option<&Json>) -> FlowInfo {
        remembered
            .filter(|r| r.get("token").str().as_deref() == Some(self.token.as_str()))
            .and_then(|r| FlowInfo::read(&r.get("flow")))
            .filter(|f| f.offer.is_some() && f.offer == self.flow.offer)
            .unwrap_or_else(|| self.flow.clone())
    }
}

/// "Step X of Y" for the step `current` (as `state::shown_progress` counts: the result page is
/// where the flow ends, not a step the person does).
pub fn progress(steps: &[String], current: &str) -> (usize, usize) {
    let total = steps.len();
    let total = if steps.last().map(String::as_str) == Some("result") {
        total.saturating_sub(1).max(1)
    } else {
        total.max(1)
    };
    let cur = steps.iter().position(|s| s == current).map_or(1, |i| i + 1);
    (cur.clamp(1, total), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn progress_counts_as_the_app_does() {
        let all = steps(&[
            "consent",
            "country",
            "id_type",
            "document_front",
            "selfie",
            "finish",
            "result",
        ]);
        assert_eq!(progress(&all, "consent"), (1, 6));
        assert_eq!(progress(&all, "finish"), (6, 6));
        assert_eq!(
            progress(&all, "result"),
            (6, 6),
            "the result page is not a step"
        );
        assert_eq!(progress(&steps(&["consent", "finish"]), "consent"), (1, 2));
        assert_eq!(progress(&[], "consent"), (1, 1));
    }
}
