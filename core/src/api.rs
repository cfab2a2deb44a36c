//! The JSON shapes exchanged between the SPA and the form server (one definition for both).

use serde::{Deserialize, Serialize};

use crate::country::Alpha3;
use crate::flow::Flow;
use crate::id_type::IdType;

/// Header carrying the session token (a header, not a cookie: it works in third-party iframes
/// and needs no CSRF defence).
pub const SESSION_HEADER: &str = "x-liveform-session";

// Every path of the form's API, used by the SPA's client (`liveform_web::api`) and the server's
// router alike (docs/api.md describes each).

/// `POST` opens a session from a link ([`CreateSession`]); `GET` resumes it (session header).
/// Both answer a [`SessionView`].
pub const SESSION_PATH: &str = "/api/session";
/// `POST` a [`Choice`] (session header): the server re-checks it against the offer.
pub const CHOICE_PATH: &str = "/api/session/choice";
/// `GET` the session's captures and status ([`CaptureList`]).
pub const CAPTURES_PATH: &str = "/api/session/captures";
/// `POST` a [`Finish`]: the server decides ([`Finished`]).
pub const FINISH_PATH: &str = "/api/session/finish";
/// `POST` (error pages): ends the session and answers the Return URL for an error code.
pub const LEAVE_PATH: &str = "/api/session/leave";
/// `POST` opens a QR handoff ([`HandoffView`]); `GET` its status ([`HandoffStatus`]).
pub const HANDOFF_PATH: &str = "/api/handoff";
/// `POST` a [`ClaimHandoff`]: the phone takes over the session ([`SessionView`]).
pub const HANDOFF_CLAIM_PATH: &str = "/api/handoff/claim";
/// `GET`: the server is up (the form's own health check).
pub const HEALTH_PATH: &str = "/api/health";

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
    /// The idle time after which any session ends (`session_idle_minutes`): the SPA warns before
    /// it (`core::idle`). 0 from an older server: no warning.
    #[serde(default)]
    pub idle_seconds: i64,
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
    /// The project offers a photo from the device besides the live camera (`allow_file_upload`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_file_upload: bool,
    /// The origins allowed to embed the form in a frame (the project's `allowed_origins`): the
    /// only targets of the frame events (`crate::embed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frame_origins: Vec<String>,
    /// What to do on completion inside a frame (`[[project]] frame_complete`).
    #[serde(default)]
    pub frame_complete: crate::embed::FrameComplete,
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

// ------------------------------------------------------------------------------------------------
// Captures and the submission (issue 8). The server is authoritative; see docs/api.md.
// ------------------------------------------------------------------------------------------------

/// `PUT {CAPTURE_PATH}/{capture_id}?slot=<slot>` with the raw bytes as the body.
pub const CAPTURE_PATH: &str = "/api/capture";
/// The router's pattern for [`CAPTURE_PATH`] (a test keeps them together).
pub const CAPTURE_ROUTE: &str = "/api/capture/{capture_id}";

/// At most this many captures in the liveness slot: the evidence frames of three attempts
/// (`liveness::FRAMES_PER_ATTEMPT` = 20 each, 60 in all) and 20 more for the baselines that
/// pauses discard (a step resumed after the page was hidden takes its baseline again).
pub const MAX_LIVENESS_CAPTURES: usize = 80;

/// `POST {LIVENESS_OPEN_PATH}` (with the session header, no body): opens the next liveness
/// attempt on the server (its id and the server's start time) before its first challenge;
/// answered with [`crate::liveness::OpenedAttempt`]. Frames uploaded from then until the record
/// arrives count for it.
pub const LIVENESS_OPEN_PATH: &str = "/api/session/liveness/open";

/// `POST /api/session/liveness` (with the session header): one [`LivenessAttempt`], answered
/// with a [`LivenessAnswer`].
pub const LIVENESS_PATH: &str = "/api/session/liveness";

pub use crate::liveness::{
    AttemptsOutcome, Challenge, LivenessAnswer, LivenessAttempt, StepOutcome, StepRecord, TrackInfo,
};

/// A submission's KYC status, as ARGOS names it (`kycStatus`, `kyc.result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KycStatus {
    /// Started, not finished (ARGOS `Incomplete`).
    Incomplete,
    Pending,
    Approved,
    Rejected,
}

impl KycStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KycStatus::Incomplete => "incomplete",
            KycStatus::Pending => "pending",
            KycStatus::Approved => "approved",
            KycStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<KycStatus> {
        match s {
            "incomplete" => Some(KycStatus::Incomplete),
            "pending" => Some(KycStatus::Pending),
            "approved" => Some(KycStatus::Approved),
            "rejected" => Some(KycStatus::Rejected),
            _ => None,
        }
    }
}

/// One stored capture, as the server reports it (the answer to a capture upload, `200` for a
/// retry of the same capture id, `201` when first stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRecord {
    pub capture_id: String,
    pub slot: crate::flow::CaptureSlot,
    /// The media type read from the bytes (`image/jpeg`, `image/png`, `image/webp`,
    /// `video/webm`, `video/mp4`).
    pub content_type: String,
    pub bytes: u64,
    /// Pixel size read from the image header (`None` for clips).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The server's own check of the stored image (issue 14): for a document side, whether it
    /// found the document and what is wrong with it; for the selfie, the face rules. Absent for
    /// liveness frames and for captures stored before the server checked them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CaptureCheck>,
}

/// The server's verdict on one stored capture, as the person's form sees it: `ok`, or the issues
/// (`core::vision::Issue` names for a document side, e.g. `no_document`, `blur`; for the selfie
/// `no_face`, `several_faces`, `face_too_small`, `image_too_small`, `dark`, `bright`, `blur`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureCheck {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
}

impl CaptureCheck {
    /// The server did not find the document in this side at all: the finish screen offers a
    /// retake ("we could not see your document clearly"); the person may still submit.
    pub fn no_document(&self) -> bool {
        self.issues.iter().any(|i| i == "no_document")
    }
}

/// `GET /api/session/captures`: what the server holds, for a resume after a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureList {
    pub submission_id: String,
    pub captures: Vec<CaptureRecord>,
    /// Required slots without a capture, in flow order (a document back only when the chosen
    /// type has one; document slots are listed while no type is chosen yet).
    pub missing: Vec<crate::flow::CaptureSlot>,
    /// The submission's status (`incomplete` until finished).
    pub status: KycStatus,
    /// The liveness step's challenges, in order: drawn by the server when the session opened (or
    /// the project's fixed `liveness_challenges`); every attempt runs this same sequence. Here
    /// rather than in [`SessionView`]: only the capture module needs them, and parsing them in
    /// the first-screen module costs ≈ 0.4 KiB of its 180 KiB budget.
    #[serde(default)]
    pub liveness: Vec<crate::liveness::Challenge>,
    /// Liveness attempts stored so far (the next one is numbered one more).
    #[serde(default)]
    pub liveness_attempts: u8,
    /// Where the liveness step stands (`crate::liveness::outcome_after` of the stored attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_status: Option<crate::liveness::LivenessAnswer>,
    /// The document's machine-readable zone as the server read it (ARGOS's ID review step),
    /// when the chosen document carries one and its side is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentReview>,
}

/// What the server read in the document's machine-readable zone, for the finish screen: the
/// person confirms the fields the link's `allowedDocumentFields` names, or retakes the side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentReview {
    /// The side the zone is printed on.
    pub side: crate::flow::CaptureSlot,
    /// The capture it was read on.
    pub capture_id: String,
    /// Every check digit held.
    pub valid: bool,
    /// The fields to confirm, in the link's order (only from a valid read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ReviewField>,
}

/// One field of the ID review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewField {
    pub field: crate::DocumentField,
    pub value: String,
}

/// `POST /api/session/finish` (optional body): the e-mail typed on the e-mail step, when the link
/// gave none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finish {
    #[serde(default)]
    pub email: Option<String>,
}

/// The answer to `POST /api/session/finish` (the same for a repeated finish): what the result page
/// needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    pub submission_id: String,
    pub status: KycStatus,
    /// Where "OK" (or the 5-second timer) goes; built by the server, `None` without a return URL.
    pub return_url: Option<String>,
    /// Go to `return_url` at once instead of showing the result page.
    pub skip_result_page: bool,
}

/// `POST /api/session/leave`: leaving from an error page with its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    pub error_code: String,
}

/// The answer to `POST /api/session/leave`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Left {
    /// `None` when the project has no return URL.
    pub return_url: Option<String>,
}
