//! The capture upload's decisions, pure: the retry schedule (exponential backoff with full
//! jitter, randomness passed in), `Retry-After`, which answers are worth a retry, the states
//! the upload screen shows, and capture ids from random bytes. The browser glue (one
//! `XMLHttpRequest` per capture, timers, `sessionStorage`) is `capture/src/upload.rs`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::errors::ErrorCode;

/// The first retry waits up to this long; every further one doubles the ceiling.
pub const BASE_BACKOFF_MS: u32 = 1_000;
/// The ceiling of the exponential backoff.
pub const MAX_BACKOFF_MS: u32 = 30_000;
/// A server's `Retry-After` is honoured up to this long (a longer one is a misconfiguration;
/// the person should not stare at a countdown for minutes).
pub const MAX_RETRY_AFTER_MS: u32 = 120_000;
/// Never retry sooner than this (full jitter may draw 0).
pub const MIN_DELAY_MS: u32 = 250;

/// The wait before retry number `attempt` (1 = after the first failure): full jitter, a uniform
/// draw from `[0, min(MAX, BASE * 2^(attempt-1))]` made from `rand` (any `u32`), at least
/// [`MIN_DELAY_MS`].
pub fn backoff_ms(attempt: u32, rand: u32) -> u32 {
    let exp = attempt.saturating_sub(1).min(16);
    let ceiling = (u64::from(BASE_BACKOFF_MS) << exp).min(u64::from(MAX_BACKOFF_MS));
    let draw = (u64::from(rand) * (ceiling + 1)) >> 32;
    (draw as u32).max(MIN_DELAY_MS)
}

/// The wait before retry `attempt`: the backoff, but never shorter than the server's
/// `Retry-After` (itself capped at [`MAX_RETRY_AFTER_MS`]).
pub fn retry_delay_ms(attempt: u32, retry_after_ms: Option<u32>, rand: u32) -> u32 {
    let b = backoff_ms(attempt, rand);
    match retry_after_ms {
        Some(r) => b.max(r.min(MAX_RETRY_AFTER_MS)),
        None => b,
    }
}

/// A `Retry-After` header in milliseconds from now: delta-seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, needs `now_unix_ms`). A date in the past gives 0;
/// anything unreadable gives `None`.
pub fn parse_retry_after(value: &str, now_unix_ms: Option<u64>) -> Option<u32> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = v.parse().unwrap_or(u64::MAX);
        return Some(secs.saturating_mul(1000).min(u64::from(u32::MAX)) as u32);
    }
    let at = parse_http_date(v)?;
    let now = now_unix_ms?;
    let ms = (at.saturating_mul(1000)).saturating_sub(now);
    Some(ms.min(u64::from(u32::MAX)) as u32)
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7) → Unix seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let mut it = s.split_ascii_whitespace();
    let _weekday = it.next()?.strip_suffix(',')?;
    let day: u32 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || it.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || year < 1970 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo as i64 + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
}

/// What to do with an answer to a capture upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `200` / `201`: the server holds the capture.
    Stored,
    /// The network failed (`status` 0), or `408`, `429`, or a `5xx` that may pass: send the same
    /// capture id again after [`retry_delay_ms`].
    Retry,
    /// Retrying the same bytes cannot help (`4xx`, or a server without storage).
    Fail,
}

/// Classifies an answer: `status` 0 stands for a network error (no answer); `code` is the
/// catalogue code of the error body, if one was read.
pub fn classify(status: u16, code: Option<&str>) -> Outcome {
    match status {
        200 | 201 => Outcome::Stored,
        0 | 408 | 429 => Outcome::Retry,
        500..=599 if code == Some(ErrorCode::StorageUnavailable.id()) => Outcome::Fail,
        500..=599 => Outcome::Retry,
        _ => Outcome::Fail,
    }
}

/// The code to show for a failed upload (the body's, else one fitting the status).
pub fn failure_code(status: u16, code: Option<&str>) -> String {
    match code.filter(|c| ErrorCode::from_id(c).is_some()) {
        Some(c) => c.to_owned(),
        None => match status {
            401 => ErrorCode::SessionExpired,
            413 => ErrorCode::CaptureTooLarge,
            415 => ErrorCode::CaptureType,
            0 => ErrorCode::Network,
            400..=499 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        }
        .id()
        .to_owned(),
    }
}

/// Where one capture's upload is (what `<UploadStatus>` shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum UploadState {
    /// Waiting to start (preparing the image).
    Queued,
    /// Bytes are on their way (`total` 0 while unknown).
    Sending { sent: u64, total: u64 },
    /// The last attempt failed in a way that may pass; the next starts in `retry_in_ms`.
    Reconnecting { attempt: u32, retry_in_ms: u32 },
    /// The server holds it.
    Stored { capture_id: String },
    /// Given up: the catalogue code says why.
    Failed { code: String },
}

impl UploadState {
    /// A stable name (`data-state`).
    pub fn name(&self) -> &'static str {
        match self {
            UploadState::Queued => "queued",
            UploadState::Sending { .. } => "sending",
            UploadState::Reconnecting { .. } => "reconnecting",
            UploadState::Stored { .. } => "stored",
            UploadState::Failed { .. } => "failed",
        }
    }

    /// Progress in whole percent: 0 until sending, 100 once stored, `None` after a failure.
    /// Sending never shows 100 (the answer is still missing).
    pub fn percent(&self) -> Option<u8> {
        match self {
            UploadState::Queued | UploadState::Reconnecting { .. } => Some(0),
            UploadState::Sending { sent, total } if *total > 0 => {
                Some(((sent.min(total) * 100) / total).min(99) as u8)
            }
            UploadState::Sending { .. } => Some(0),
            UploadState::Stored { .. } => Some(100),
            UploadState::Failed { .. } => None,
        }
    }

    /// Stored or failed: nothing more happens.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            UploadState::Stored { .. } | UploadState::Failed { .. }
        )
    }

    /// Whole seconds to show for a countdown (rounded up, at least 1).
    pub fn retry_in_secs(&self) -> Option<u32> {
        match self {
            UploadState::Reconnecting { retry_in_ms, .. } => {
                Some(retry_in_ms.div_ceil(1000).max(1))
            }
            _ => None,
        }
    }
}

/// A capture id from 16 random bytes: 22 characters of base64url (within the server's
/// `A-Z a-z 0-9 - _ . ~`).
pub fn capture_id(random: &[u8; 16]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// Standard Base64 (for keeping an unsent capture in `sessionStorage`).
pub fn to_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The inverse of [`to_base64`]; `None` for anything that is not Base64.
pub fn from_base64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_ceiling_with_full_jitter() {
        // The largest draw reaches the ceiling; the smallest is the floor.
        assert_eq!(backoff_ms(1, u32::MAX), 1_000);
        assert_eq!(backoff_ms(2, u32::MAX), 2_000);
        assert_eq!(backoff_ms(3, u32::MAX), 4_000);
        assert_eq!(backoff_ms(5, u32::MAX), 16_000);
        assert_eq!(backoff_ms(6, u32::MAX), 30_000);
        assert_eq!(backoff_ms(60, u32::MAX), 30_000);
        assert_eq!(backoff_ms(u32::MAX, u32::MAX), 30_000);
        assert_eq!(backoff_ms(0, u32::MAX), 1_000);
        for a in [1, 3, 9, 100] {
            assert_eq!(backoff_ms(a, 0), MIN_DELAY_MS);
        }
        // Half the range draws about half the ceiling.
        assert_eq!(backoff_ms(4, u32::MAX / 2), 4_000);
    }

    #[test]
    fn jitter_spreads_uniformly() {
        // A cheap LCG as the injected randomness: the draws cover the whole range.
        let mut x: u32 = 12345;
        let (mut lo, mut hi) = (u32::MAX, 0);
        for _ in 0..10_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let d = backoff_ms(6, x);
            assert!((MIN_DELAY_MS..=MAX_BACKOFF_MS).contains(&d));
            lo = lo.min(d);
            hi = hi.max(d);
        }
        assert!(lo < 1_000 && hi > 29_000, "{lo}..{hi}");
    }

    #[test]
    fn retry_after_is_honoured_within_limits() {
        assert_eq!(retry_delay_ms(1, Some(5_000), 0), 5_000);
        assert_eq!(retry_delay_ms(6, Some(1_000), u32::MAX), 30_000);
        assert_eq!(retry_delay_ms(1, Some(3_600_000), 0), MAX_RETRY_AFTER_MS);
        assert_eq!(retry_delay_ms(1, None, u32::MAX), 1_000);
    }

    #[test]
    fn retry_after_header_forms() {
        assert_eq!(parse_retry_after("120", None), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", None), Some(0));
        assert_eq!(
            parse_retry_after("99999999999999999999", None),
            Some(u32::MAX)
        );
        assert_eq!(parse_retry_after("-1", None), None);
        assert_eq!(parse_retry_after("", None), None);
        assert_eq!(parse_retry_after("soon", Some(0)), None);
        // 1994-11-06T08:49:37Z = 784111777.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(parse_http_date(date), Some(784_111_777));
        assert_eq!(
            parse_retry_after(date, None),
            None,
            "a date needs the clock"
        );
        assert_eq!(
            parse_retry_after(date, Some(784_111_777_000 - 4_500)),
            Some(4_500)
        );
        assert_eq!(parse_retry_after(date, Some(784_111_999_000)), Some(0));
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800)
        );
        for bad in [
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT x",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(201, None), Outcome::Stored);
        assert_eq!(classify(200, None), Outcome::Stored);
        for s in [0, 408, 429, 500, 502, 503, 504, 507] {
            assert_eq!(classify(s, None), Outcome::Retry, "{s}");
        }
        assert_eq!(classify(503, Some("LF-50006")), Outcome::Retry);
        assert_eq!(classify(503, Some("LF-50005")), Outcome::Fail);
        for s in [400, 401, 404, 409, 413, 415, 422] {
            assert_eq!(classify(s, None), Outcome::Fail, "{s}");
        }
        assert_eq!(failure_code(422, Some("LF-30003")), "LF-30003");
        assert_eq!(failure_code(422, Some("nonsense")), "LF-50003");
        assert_eq!(failure_code(401, None), "LF-20001");
        assert_eq!(failure_code(413, None), "LF-30001");
        assert_eq!(failure_code(500, None), "LF-50001");
    }

    #[test]
    fn states_show_progress() {
        assert_eq!(UploadState::Queued.percent(), Some(0));
        let s = UploadState::Sending {
            sent: 45,
            total: 100,
        };
        assert_eq!(
            (s.name(), s.percent(), s.is_final()),
            ("sending", Some(45), false)
        );
        let done = UploadState::Sending {
            sent: 100,
            total: 100,
        };
        assert_eq!(
            done.percent(),
            Some(99),
            "100 % only once the server answered"
        );
        let over = UploadState::Sending { sent: 7, total: 0 };
        assert_eq!(over.percent(), Some(0));
        let r = UploadState::Reconnecting {
            attempt: 2,
            retry_in_ms: 3_001,
        };
        assert_eq!((r.name(), r.retry_in_secs()), ("reconnecting", Some(4)));
        let r0 = UploadState::Reconnecting {
            attempt: 1,
            retry_in_ms: 0,
        };
        assert_eq!(r0.retry_in_secs(), Some(1));
        let st = UploadState::Stored {
            capture_id: "x".into(),
        };
        assert_eq!((st.percent(), st.is_final()), (Some(100), true));
        let f = UploadState::Failed {
            code: "LF-30003".into(),
        };
        assert_eq!(
            (f.name(), f.percent(), f.is_final()),
            ("failed", None, true)
        );
    }

    #[test]
    fn capture_ids_fit_the_server_rule() {
        let id = capture_id(&[0xff; 16]);
        assert_eq!(id.len(), 22);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)));
        assert_ne!(capture_id(&[0; 16]), capture_id(&[1; 16]));
        let bytes = vec![0u8, 1, 2, 250, 255];
        assert_eq!(from_base64(&to_base64(&bytes)), Some(bytes));
        assert_eq!(from_base64("not base64!"), None);
    }
}
