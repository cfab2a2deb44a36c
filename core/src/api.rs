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
    /// The country and ID type the server already accepted for this session (from either
    /// device), so a device that joins or resumes it can skip what is decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
}

/// `POST /api/session/choice` (with the session header): the person's country and ID type, checked
/// again by the server against the session's offer, whatever the SPA did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub country: Alpha3,
    pub id_type: Option<IdType>,
}

/// `POST /api/handoff` (with the session header): a one-time code that opens this session on
/// another device (a phone with a camera). A new one replaces the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffView {
    /// `<public_base_url>/?handoff=<token>`: what the QR code carries (show it as a link too).
    pub url: String,
    /// The QR code of `url`: a standalone `<svg>` (viewBox only, no width/height, so CSS sizes
    /// it; white background and quiet zone included).
    pub qr_svg: String,
    /// Seconds until the code can no longer be claimed.
    pub expires_in: i64,
}

/// `POST /api/handoff/claim` (no session header): the `handoff` parameter of the page URL.
/// Answered with a [`SessionView`] of the same session under a new token for this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimHandoff {
    pub token: String,
}

/// `GET /api/handoff` (with the session header): what became of the session's latest handoff
/// code; the desktop polls it while the phone works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffStatus {
    pub state: HandoffState,
    /// Seconds until the code expires while `waiting`; 0 in every other state.
    pub expires_in: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffState {
    /// No code was made for this session.
    None,
    /// A code is shown and not claimed yet.
    Waiting,
    /// The code was claimed: the session continues on the other device.
    Claimed,
    /// The session was finished (on either device).
    Finished,
    /// The latest code expired unclaimed.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub pid: String,
    pub name: String,
}

/// The session's colours, `#rrggbb`, already made readable by the server
/// ([`crate::theme::palette`]: the link's colours win over the project's; text colours reach
/// WCAG 4.5:1). Maps 1:1 to the `--lf-*` CSS custom properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeView {
    pub main: String,
    pub on_main: String,
    pub main_text: String,
    pub inner: String,
    pub on_inner: String,
}

impl From<crate::theme::Palette> for ThemeView {
    fn from(p: crate::theme::Palette) -> Self {
        ThemeView {
            main: p.main,
            on_main: p.on_main,
            main_text: p.main_text,
            inner: p.inner,
            on_inner: p.on_inner,
        }
    }
}

impl Default for ThemeView {
    fn default() -> Self {
        crate::theme::palette(None, None).into()
    }
}
