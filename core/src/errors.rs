//! The one error catalogue: every code a person or an integrator can see.
//!
//! ARGOS codes are used where ARGOS defines them (`PV-40018`, `TK-10001`, `SE-50021`; the other
//! `TK-1000x` follow ARGOS's token pages, their numbers inferred); every
//! other code is ours, under the `LF-` prefix, numbered by the same categories ARGOS uses (1xxxx
//! token, 2xxxx session, 4xxxx link parameters, 5xxxx server, 6xxxx browser runtime), plus two of
//! ours: 3xxxx captures and submissions, 7xxxx the integrators' results API.
//!
//! Each entry carries the person-facing message key (`error-<slug>`): the SPA's translations hold
//! `error-<slug>-title` and `error-<slug>-action` (what to do next) for every key used here.
//! `docs/errors.md` publishes this table; a test keeps the two in step.

use serde::{Deserialize, Serialize};

/// Every code in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// `startValidUntil` is in the past (ARGOS PV-40018).
    LinkExpired,
    /// The project is in private mode and the link carries no `token`.
    TokenMissing,
    /// The private-mode token was first used more than 3 minutes ago, or its registration
    /// expired (ARGOS TK-10001).
    TokenExpired,
    /// The private-mode token already has an approved submission.
    TokenApproved,
    /// The private-mode token already has a pending submission.
    TokenPending,
    /// The private-mode token already has a rejected submission.
    TokenRejected,
    /// The project accepts only registered tokens and this one is not (or no longer) registered.
    TokenNotRegistered,
    /// The link has no `pid`.
    MissingProject,
    /// The `pid` names no project on this server.
    UnknownProject,
    /// `encrypted` could not be decoded or decrypted: wrong key, wrong algorithm, tampered or truncated.
    DecryptFailed,
    /// `encrypted` decrypted, but the plaintext is not a UTF-8 JSON object.
    EncryptedNotJson,
    /// A parameter has a value outside its format or allowed values.
    InvalidParameter,
    /// Parameters contradict each other (e.g. `selectedIdType` without `selectedIssuingCountry`).
    ConflictingParameters,
    /// The `token` parameter does not follow the token format.
    InvalidToken,
    /// The query string is longer than this server accepts.
    LinkTooLong,
    /// `selectedIssuingCountry` is on the project's blacklist (and the link did not lift it).
    CountryBlacklisted,
    /// A country is not offered (outside allowedCountries, or no supported ID type).
    CountryNotOffered,
    /// An ID type is not offered for the chosen country.
    IdTypeNotOffered,
    /// The link's restrictions leave no country / ID type to offer.
    NothingOffered,
    /// `encrypted` decrypted to a Return URL value (it carries `kycStatus`, `submissionId` or
    /// `errorCode`), replayed as a link.
    ReturnValueAsLink,
    /// The knowledge-based pipeline (`knowledgeField`, `knowledgePrefill`) is not supported.
    KnowledgeUnsupported,
    /// Address injection (`sid` + `action`, injection-only options) is not supported.
    InjectionUnsupported,
    /// SMS phone verification (`auxidField`) is not supported.
    AuxidUnsupported,
    /// The session token is unknown or expired (idle or absolute lifetime).
    SessionExpired,
    /// Too many session requests from one address; retry later.
    RateLimited,
    /// The handoff QR code was already used to open the session on another device.
    HandoffUsed,
    /// The handoff QR code is unknown, replaced by a newer one, or past its lifetime.
    HandoffExpired,
    /// This server has no public address configured, so it cannot hand a session to a phone.
    HandoffUnavailable,
    /// The request to the server was malformed (not a person-facing situation in normal use).
    BadRequest,
    /// An unexpected server failure; the request was not processed.
    Internal,
    /// The server could not be reached from the browser.
    Network,
    /// The browser lacks WebAssembly or another required feature (ARGOS route `invalid-browser`).
    InvalidBrowser,
    /// An unexpected failure inside the form in the browser.
    Runtime,
    /// The person (or a remembered block for the site) refused the camera.
    CameraDenied,
    /// The operating system does not let the browser use the camera.
    CameraDeniedBySystem,
    /// The camera prompt was closed without an answer.
    CameraDismissed,
    /// The embedding page's permissions policy forbids the camera (iframe without `allow="camera"`).
    CameraBlockedByPolicy,
    /// No camera found.
    CameraNotFound,
    /// The camera is in use by another app or failed to start.
    CameraInUse,
    /// No camera satisfies the requested constraints, even relaxed.
    CameraOverconstrained,
    /// The browser refuses camera access in this document for security reasons.
    CameraSecurity,
    /// Starting the camera was aborted.
    CameraAborted,
    /// The browser rejected the camera constraints (TypeError).
    CameraInvalidConstraints,
    /// No `navigator.mediaDevices`: insecure context or an old WebView.
    CameraUnavailable,
    /// An in-app browser that blocks the camera.
    CameraInAppBrowser,
    /// The camera failed with an unrecognised error.
    CameraFailed,
    /// A capture is larger than the per-capture limit.
    CaptureTooLarge,
    /// A capture is not one of the accepted image or clip formats (by its bytes).
    CaptureType,
    /// An image's dimensions are outside the limits for its slot.
    CaptureDimensions,
    /// The slot is not part of this session's flow (e.g. a back side for a passport).
    SlotNotInFlow,
    /// A document capture before the country and ID type were chosen.
    ChoiceMissing,
    /// The session's captures exceed the per-session byte limit.
    SessionBytesExceeded,
    /// The capture id is already used for another slot.
    CaptureIdConflict,
    /// The slot already holds the maximum number of captures.
    TooManyCaptures,
    /// Finishing with required captures missing (the body lists them).
    CapturesMissing,
    /// The session's submission is already finished: no more captures.
    AlreadySubmitted,
    /// No such capture in this session.
    CaptureNotFound,
    /// A liveness attempt that does not fit the session (challenges, number, frames, sizes).
    LivenessInvalid,
    /// An upload that does not decode completely as the image type it claims.
    CaptureUndecodable,
    /// An image within the size limits whose decoding would need more memory than the cap.
    CaptureDecodeLimit,
    /// Three liveness attempts failed (ARGOS's code for its selfie liveness check failing 3 consecutive times).
    LivenessFailed,
    /// The server's disk is below its low-water mark.
    StorageFull,
    /// This server has no storage configured for captures.
    StorageUnavailable,
    /// A test build's fault injection refused the request.
    FaultInjected,
    /// The results API needs the project's API key in `x-api-key`.
    ApiKeyMissing,
    /// The API key matches no project.
    ApiKeyWrong,
    /// No submission matches.
    SubmissionNotFound,
    /// A review request is invalid (status, or a rejection without a comment).
    InvalidReview,
    /// A results API request has missing or invalid parameters.
    InvalidApiRequest,
    /// The submission has no image of that type.
    ImageNotFound,
    /// Token API: the token is not in the project's pool.
    TokenNotFound,
    /// Token API: registering would take the project's pool over its limit.
    TokenPoolFull,
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub code: ErrorCode,
    /// The stable, published code, e.g. `PV-40018` or `LF-40003`.
    pub id: &'static str,
    /// The HTTP status the server answers with.
    pub http_status: u16,
    /// Person-facing message key (translations hold `<key>-title` and `<key>-action`).
    pub message_key: &'static str,
    /// What it means, for integrators and support (English, not shown to the person; not
    /// compiled into the browser build, which never shows it).
    #[cfg(not(target_arch = "wasm32"))]
    pub meaning: &'static str,
}

macro_rules! catalogue {
    ($($code:ident => $id:literal, $status:literal, $key:literal, $meaning:literal;)*) => {
        /// The whole catalogue, in publication order.
        pub const CATALOGUE: &[CatalogueEntry] = &[
            $(CatalogueEntry {
                code: ErrorCode::$code, id: $id, http_status: $status, message_key: $key,
                #[cfg(not(target_arch = "wasm32"))]
                meaning: $meaning,
            },)*
        ];

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            /// This code's catalogue entry.
            pub fn entry(self) -> &'static CatalogueEntry {
                match self {
                    $(ErrorCode::$code => &CATALOGUE[ErrorCode::$code as usize],)*
                }
            }
        }
    };
}

catalogue! {
    LinkExpired => "PV-40018", 410, "error-link-expired",
        "startValidUntil is in the past: the link may no longer be opened.";
    TokenMissing => "TK-10000", 403, "error-token-missing",
        "The project is in private mode (private_mode) and the link carries no token (ARGOS's TK \"missing\" page; the number is inferred).";
    TokenExpired => "TK-10001", 410, "error-token-expired",
        "The private-mode token was first used more than 3 minutes ago, or it is a registered token past the project's token_expiry_hours. Wins over TK-10002..10004 when both apply (ARGOS: time expiration wins).";
    TokenApproved => "TK-10002", 409, "error-token-approved",
        "An approved submission already exists for this private-mode token (ARGOS's TK \"approved\" page; the number is inferred).";
    TokenPending => "TK-10003", 409, "error-token-pending",
        "A pending submission (waiting for review) already exists for this private-mode token (ARGOS's TK \"pending\" page; the number is inferred).";
    TokenRejected => "TK-10004", 409, "error-token-rejected",
        "A rejected submission already exists for this private-mode token (ARGOS's TK \"rejected\" page; the number is inferred).";
    TokenNotRegistered => "TK-10005", 403, "error-token-unregistered",
        "The project accepts only registered tokens (token_registration) and this token is not in its pool: never registered, deleted, or removed after expiry (token_auto_delete). Ours: ARGOS refuses such tokens without a published code.";
    MissingProject => "LF-40001", 400, "error-bad-link",
        "The link carries no pid.";
    UnknownProject => "LF-40002", 404, "error-unknown-project",
        "The pid names no project on this server.";
    DecryptFailed => "LF-40003", 400, "error-bad-link",
        "encrypted could not be decoded or decrypted with the project's key and algorithm (wrong key or algorithm, tampered, truncated, bad Base64/hex).";
    EncryptedNotJson => "LF-40004", 400, "error-bad-link",
        "encrypted decrypted, but the plaintext is not a UTF-8 JSON object.";
    InvalidParameter => "LF-40005", 400, "error-bad-link",
        "A parameter's value is outside its format or allowed values (the detail names it).";
    ConflictingParameters => "LF-40006", 400, "error-bad-link",
        "Parameters contradict each other: selectedIdType without selectedIssuingCountry, projectionId with projectionName, a selected value outside its allowed list.";
    InvalidToken => "LF-40007", 400, "error-bad-link",
        "token is not 8-64 characters of [A-Za-z0-9._-] starting and ending with a letter or digit.";
    LinkTooLong => "LF-40008", 414, "error-bad-link",
        "The query string exceeds the server's limit (16 KiB).";
    CountryBlacklisted => "LF-40009", 403, "error-country-blocked",
        "selectedIssuingCountry is on the project's issuing-country blacklist (ARGOS reject code blacklistCountry).";
    CountryNotOffered => "LF-40010", 403, "error-country-not-offered",
        "The country (selectedIssuingCountry, or one named in a request) is not offered: outside allowedCountries, or no supported ID type.";
    IdTypeNotOffered => "LF-40011", 403, "error-idtype-not-offered",
        "The ID type (selectedIdType, or one named in a request) is not offered for the chosen country.";
    NothingOffered => "LF-40012", 422, "error-nothing-offered",
        "allowedCountries / allowedIdTypes and the project's blacklist leave no country and ID type to offer.";
    ReturnValueAsLink => "LF-40013", 400, "error-bad-link",
        "encrypted decrypted to a Return URL value, not a link: its JSON carries kycStatus, submissionId or errorCode, fields only the Return URL writes. With return_encrypted the Return URL's encrypted value uses the project key (AES-256-ECB, ARGOS), so it would otherwise open as a link; a value without those fields still does (an ECB project's start-up warning says so).";
    KnowledgeUnsupported => "LF-40101", 422, "error-unsupported",
        "knowledgeField / knowledgePrefill: the knowledge-based pipeline is not supported by this form.";
    InjectionUnsupported => "LF-40102", 422, "error-unsupported",
        "sid / action / injection-only options: address injection is not supported by this form.";
    AuxidUnsupported => "LF-40103", 422, "error-unsupported",
        "auxidField: SMS phone verification is not supported by this form.";
    SessionExpired => "LF-20001", 401, "error-session-expired",
        "The session token is unknown or its idle or absolute lifetime has passed.";
    RateLimited => "LF-20002", 429, "error-rate-limited",
        "Too many session requests from one client address; retry after the Retry-After delay.";
    HandoffUsed => "LF-20003", 409, "error-handoff-used",
        "The handoff QR code was already used to open this session on another device; each code opens it once (show a new code on the computer).";
    HandoffExpired => "LF-20004", 410, "error-handoff-expired",
        "The handoff QR code is unknown, was replaced by a newer code, or is past its lifetime (server.handoff_minutes).";
    HandoffUnavailable => "LF-20005", 404, "error-handoff-unavailable",
        "Handing the session to a phone is off: the server has no server.public_base_url. The form hides the QR-code option.";
    BadRequest => "LF-50003", 400, "error-internal",
        "The request to the form server was malformed.";
    Internal => "LF-50001", 500, "error-internal",
        "An unexpected server failure; nothing was changed.";
    Network => "LF-50002", 503, "error-network",
        "The browser could not reach the form server.";
    InvalidBrowser => "LF-60001", 400, "error-invalid-browser",
        "The browser lacks WebAssembly or another required feature (ARGOS route invalid-browser).";
    Runtime => "LF-60002", 500, "error-runtime",
        "An unexpected failure inside the form in the browser.";
    CameraDenied => "LF-60101", 400, "error-camera-denied",
        "getUserMedia: NotAllowedError: the person refused the camera, now or earlier for this site. The form shows the detected browser's steps to allow it and retries.";
    CameraDeniedBySystem => "LF-60102", 400, "error-camera-denied-system",
        "getUserMedia: NotAllowedError \"Permission denied by system\": the operating system's privacy settings keep the browser from the camera.";
    CameraDismissed => "LF-60103", 400, "error-camera-dismissed",
        "getUserMedia: NotAllowedError \"Permission dismissed\": the prompt was closed without an answer; asking again prompts again.";
    CameraBlockedByPolicy => "LF-60104", 400, "error-camera-blocked",
        "The permissions policy forbids the camera: the form runs in an iframe without allow=\"camera\" (on every frame of the chain), or a Permissions-Policy header excludes it. The integrator must fix the embedding.";
    CameraNotFound => "LF-60105", 400, "error-camera-not-found",
        "getUserMedia: NotFoundError: the device has no camera. The form offers another device (QR code) or, if the project allows it, a file upload.";
    CameraInUse => "LF-60106", 400, "error-camera-in-use",
        "getUserMedia: NotReadableError: the camera exists but could not be started, usually because another app (a call, the camera app) holds it; retried once with relaxed constraints first.";
    CameraOverconstrained => "LF-60107", 400, "error-camera-settings",
        "getUserMedia: OverconstrainedError: no camera satisfies the constraints; retried once with relaxed constraints (no size, facing mode as a preference) before this is shown.";
    CameraSecurity => "LF-60108", 400, "error-camera-unavailable",
        "getUserMedia: SecurityError: the browser refuses camera access in this document (browser settings, sandboxed frame).";
    CameraAborted => "LF-60109", 400, "error-camera-aborted",
        "getUserMedia: AbortError: starting the camera was interrupted (Firefox reports some busy cameras this way); retried once with relaxed constraints first.";
    CameraInvalidConstraints => "LF-60110", 400, "error-camera-settings",
        "getUserMedia: TypeError: the browser rejected the constraints themselves; retried once with relaxed constraints before this is shown.";
    CameraUnavailable => "LF-60111", 400, "error-camera-unavailable",
        "navigator.mediaDevices is missing (or NotSupportedError): an insecure context or an old WebView without getUserMedia. The form asks to open the page in a current browser.";
    CameraInAppBrowser => "LF-60112", 400, "error-camera-in-app",
        "An in-app browser (Instagram, Facebook, KakaoTalk, LINE, NAVER, TikTok, WeChat, ...) known to block the camera, or one that refused it: the form offers to open the page in the phone's browser.";
    CameraFailed => "LF-60113", 400, "error-camera-failed",
        "getUserMedia failed with an unrecognised error name (the detail names it).";
    CaptureTooLarge => "LF-30001", 413, "error-internal",
        "PUT /api/capture: the body exceeds the per-capture limit (server.max_capture_bytes); refused while the body streams, nothing stored.";
    CaptureType => "LF-30002", 415, "error-internal",
        "PUT /api/capture: the bytes are not a JPEG, PNG or WebP image, or the content-type disagrees with them (clips are refused: the form sends frames).";
    CaptureDimensions => "LF-30003", 422, "error-internal",
        "PUT /api/capture: the image's width/height (read from its header) are outside the limits for the slot (docs/api.md).";
    SlotNotInFlow => "LF-30004", 422, "error-internal",
        "PUT /api/capture: the slot is not part of this session's flow (a document_back for a type without a back side, or an unknown slot).";
    ChoiceMissing => "LF-30005", 409, "error-internal",
        "PUT /api/capture: a document side before the country and ID type were chosen (POST /api/session/choice).";
    SessionBytesExceeded => "LF-30006", 413, "error-internal",
        "PUT /api/capture: the session's stored captures would exceed server.max_session_bytes.";
    CaptureIdConflict => "LF-30007", 409, "error-internal",
        "PUT /api/capture: the capture id is already stored for another slot (a retry must name the same slot).";
    TooManyCaptures => "LF-30008", 409, "error-internal",
        "PUT /api/capture: the liveness slot already holds the maximum number of frames.";
    CapturesMissing => "LF-30009", 422, "error-internal",
        "POST /api/session/finish: required captures are missing; the body's `missing` lists the slots.";
    AlreadySubmitted => "LF-30010", 409, "error-internal",
        "The session's submission is finished: captures can no longer change.";
    CaptureNotFound => "LF-30011", 404, "error-internal",
        "DELETE /api/capture: no capture with that id in this session.";
    LivenessInvalid => "LF-30012", 422, "error-internal",
        "POST /api/session/liveness: the attempt does not fit the session: other challenges than the session's, an attempt number out of order, frames that are not this session's liveness captures, steps inconsistent with the outcome, or fields over their size limits; a record whose attempt id is not the attempt opened with POST /api/session/liveness/open; or liveness already passed.";
    CaptureUndecodable => "LF-30013", 422, "error-internal",
        "PUT /api/capture: the bytes do not decode completely as the image type they claim (a header without pixels, a truncated or corrupt scan, too many progressive scans, a lossless-coded WebP); refused, nothing stored. A retake or another photo is the way on.";
    CaptureDecodeLimit => "LF-30014", 422, "error-internal",
        "PUT /api/capture: the image's header is within the size limits, but decoding it would need more memory than the server's decode cap (64 MiB: about 16 megapixels); refused before decoding, nothing stored. The form sends at most 1920 px a side.";
    LivenessFailed => "SE-50021", 403, "error-liveness-failed",
        "The liveness check failed 3 times (timeouts, movements in the wrong direction, or frames in which the server could not confirm the movements): further attempts and finishing are refused; the person leaves through the error page (ARGOS's code for its selfie liveness check failing 3 consecutive times).";
    StorageFull => "LF-50004", 507, "error-internal",
        "The server's data disk is below its low-water mark (server.min_free_disk_mb): uploads are refused before the disk fills.";
    StorageUnavailable => "LF-50005", 503, "error-internal",
        "This server has no storage configured (server.storage_key), so it accepts no captures.";
    FaultInjected => "LF-50006", 503, "error-network",
        "A test build's fault injection refused the request (never in release builds).";
    ApiKeyMissing => "LF-70001", 401, "error-internal",
        "Results API: no x-api-key header.";
    ApiKeyWrong => "LF-70002", 403, "error-internal",
        "Results API: the x-api-key matches no project's api_key.";
    SubmissionNotFound => "LF-70003", 404, "error-internal",
        "Results API: no submission of this project matches.";
    InvalidReview => "LF-70004", 400, "error-internal",
        "POST /v3/submission/review: status must be approved or rejected, admin is required, and rejectComment is required when rejecting.";
    InvalidApiRequest => "LF-70005", 400, "error-internal",
        "Results API: a required parameter is missing or invalid (ARGOS: Invalid Query String parameters).";
    ImageNotFound => "LF-70006", 404, "error-internal",
        "GET /v3/image: the submission has no image of that type (or it was deleted).";
    TokenNotFound => "LF-70007", 404, "error-internal",
        "GET /v3/submission/tokens?tokenId=: the token is not in the project's pool (ARGOS errorCode token_not_found).";
    TokenPoolFull => "LF-70008", 409, "error-internal",
        "POST /v3/submission/tokens: the project's pool would exceed 100,000 tokens; nothing was registered (errorCode token_limit_exceeded, inferred). Delete tokens first.";
}

impl ErrorCode {
    /// The published code, e.g. `PV-40018`.
    pub fn id(self) -> &'static str {
        self.entry().id
    }

    /// The person-facing message key.
    pub fn message_key(self) -> &'static str {
        self.entry().message_key
    }

    /// The HTTP status the server answers with.
    pub fn http_status(self) -> u16 {
        self.entry().http_status
    }

    /// Looks a published code up (`"PV-40018"` → `LinkExpired`).
    pub fn from_id(id: &str) -> Option<ErrorCode> {
        CATALOGUE.iter().find(|e| e.id == id).map(|e| e.code)
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.id())
    }
}

/// What the server sends for any refused request, and what the SPA renders as an error page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The published code, e.g. `PV-40018`.
    pub code: String,
    /// The person-facing message key.
    pub message_key: String,
    /// A short English detail for integrators and support (never shown as the main message).
    pub detail: String,
    /// A reference to quote to support (a request id), when the server has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// With `LF-30009`: the capture slots still missing, in flow order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<crate::flow::CaptureSlot>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ErrorBody {
            code: code.id().to_owned(),
            message_key: code.message_key().to_owned(),
            detail: detail.into(),
            reference: None,
            missing: Vec::new(),
        }
    }
}

/// Every message key used by the catalogue, deduplicated, in catalogue order.
pub fn message_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = Vec::new();
    for e in CATALOGUE {
        if !keys.contains(&e.message_key) {
            keys.push(e.message_key);
        }
    }
    keys
}

/// The catalogue as a Markdown table (published in `docs/errors.md`).
#[cfg(not(target_arch = "wasm32"))]
pub fn catalogue_markdown() -> String {
    let mut out = String::from("| code | HTTP | message key | meaning |\n|---|---|---|---|\n");
    for e in CATALOGUE {
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            e.id, e.http_status, e.message_key, e.meaning
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate error code in the catalogue");
    }

    #[test]
    fn every_code_has_one_entry_matching_entry() {
        assert_eq!(ErrorCode::ALL.len(), CATALOGUE.len());
        for (code, row) in ErrorCode::ALL.iter().zip(CATALOGUE) {
            assert_eq!(*code, row.code);
            assert_eq!(code.entry(), row);
            assert_eq!(ErrorCode::from_id(row.id), Some(*code));
        }
    }

    #[test]
    fn ids_have_the_published_shape() {
        for e in CATALOGUE {
            let (prefix, digits) = e.id.split_once('-').expect("CATEGORY-DIGITS");
            assert!(matches!(prefix, "PV" | "TK" | "SE" | "LF"), "{}", e.id);
            assert_eq!(digits.len(), 5, "{}", e.id);
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{}", e.id);
            assert!(e.message_key.starts_with("error-"), "{}", e.message_key);
            assert!((400..600).contains(&e.http_status));
        }
    }

    #[test]
    fn argos_codes_keep_their_meaning() {
        assert_eq!(ErrorCode::LinkExpired.id(), "PV-40018");
        assert_eq!(ErrorCode::TokenExpired.id(), "TK-10001");
        assert_eq!(ErrorCode::LivenessFailed.id(), "SE-50021");
    }

    #[test]
    fn published_docs_match_the_catalogue() {
        let doc = include_str!("../../docs/errors.md");
        assert!(
            doc.contains(&catalogue_markdown()),
            "docs/errors.md is out of date: paste the output of `liveform errors` into it"
        );
    }
}
