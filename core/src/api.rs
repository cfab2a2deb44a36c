//! The JSON shapes exchanged between the SPA and the form server (one definition for both).

use serde::{Deserialize, Serialize};

use crate::country::Alpha3;
use crate::flow::Flow;
use crate::id_type::IdType;

/// Header carrying the session token (a header, not a cookie: it works in third-party iframes
/// and needs no CSRF defence).
pub const SESSION_HEADER: &str = "x-liveform-session";

/// `POST /api/session`: the raw query string of the page, exactly as the browser had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSession {
    pub query: String,
}

/// A session as the SPA sees it: only what the screens need (never keys, never the raw
/// encrypted-only values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Opaque token; send it back in [`SESSION_HEADER`].
    pub token: String,
    /// Seconds until the session expires if left idle.
    pub expires_in: i64,
    pub project: ProjectView,
    /// UI language from the link (`None`: use the browser's).
    pub lang: Option<String>,
    pub theme: ThemeView,
    /// The link supplied the e-mail address (the e-mail step is skipped).
    pub email_provided: bool,
    /// The steps at their start, with what is offered (countries, ID types per country).
    pub flow: Flow,
    /// Consent-screen links (the project's privacy policy and terms of use).
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
}

/// `POST /api/session/choice` (with the session header): the person's country and ID type, checked
/// again by the server against the session's offer, whatever the SPA did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub country: Alpha3,
    pub id_type: Option<IdType>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub pid: String,
    pub name: String,
}

/// Brand colours, `#rrggbb` (the link's values win over the project's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeView {
    pub main_color: Option<String>,
    pub inner_color: Option<String>,
}
