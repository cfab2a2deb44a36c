//! Everything the tab keeps in `sessionStorage` / `localStorage`, by key: one list, so that the
//! two modules agree and a newcomer sees what survives a reload.

/// The session token of this tab (`{pid, token}`): a reload resumes, another tab starts afresh.
pub const SESSION_KEY: &str = "liveform.session";
/// A link not yet turned into a session (kept so a retry or reload never loses `encrypted`).
pub const PENDING_KEY: &str = "liveform.pending";
/// The flow (`{token, flow}`), so a reload returns to the same step.
pub const FLOW_KEY: &str = "liveform.flow";
/// The submission's answer once finished (the result page survives a reload).
pub const FINISHED_KEY: &str = "liveform.finished";
/// A one-time message from the finish step to the capture step it sends the person back to.
pub const NOTICE_KEY: &str = "liveform.notice";
/// When the server last answered this tab (`Date.now()` ms): the idle clock of `core::idle`,
/// written by both modules (`storage::mark_contact`).
pub const CONTACT_KEY: &str = "liveform.contact";
/// The consent box was ticked when the person switched the language (the page reopens in the
/// other language with the box still ticked; removed once read).
pub const TICKED_KEY: &str = "liveform.ticked";
/// When this tab last reloaded to take a flow agreed with the server.
pub const AGREED_KEY: &str = "liveform.agreed";
/// `localStorage`: the country chosen last time (offered first).
pub const LAST_COUNTRY_KEY: &str = "liveform.lastCountry";
/// Prefix of an upload kept until the server confirms it (`liveform.upload.<slot>`).
pub const UPLOAD_KEY_PREFIX: &str = "liveform.upload.";
/// `localStorage`: the camera chosen last time per facing (`liveform.camera.<facing>`).
pub const CAMERA_KEY_PREFIX: &str = "liveform.camera.";
