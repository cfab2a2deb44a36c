//! The integrators' results API, an ARGOS-compatible subset (`argos-liveform.md` §5), with the
//! project's `api_key` in `x-api-key`: the JSON it answers with and the lookups it runs (blocking,
//! on the store). The handlers are in `routes/results.rs`; shapes in docs/api.md.

use liveform_core::flow::CaptureSlot;
use liveform_core::ErrorCode;
use serde_json::{json, Value};

use crate::store::{Lookup, Store, StoreError, StoredAttempt, StoredCapture, Submission};

/// The API key header.
pub const API_KEY_HEADER: &str = "x-api-key";

/// ARGOS's `YYYY-MM-DD-HH-MM-SS-ZZZ` (UTC, ZZZ = milliseconds).
pub fn argos_time(ms: i64) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]-[hour]-[minute]-[second]-[subsecond digits:3]"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&f).ok())
        .unwrap_or_default()
}

/// ARGOS image type names ↔ slots.
pub const IMAGE_TYPES: [(&str, CaptureSlot); 4] = [
    ("idImage", CaptureSlot::DocumentFront),
    ("idBackImage", CaptureSlot::DocumentBack),
    ("selfieImage", CaptureSlot::Selfie),
    ("livenessImage", CaptureSlot::Liveness),
];

/// A submission as the results API shows it.
fn item(s: &Submission, caps: &[StoredCapture], attempts: &[StoredAttempt]) -> Value {
    let mut image = serde_json::Map::new();
    for (name, slot) in IMAGE_TYPES {
        let n = caps.iter().filter(|c| c.record.slot == slot).count();
        if n == 0 {
            continue;
        }
        let url = format!("/v3/image?submission_id={}&type={name}", s.id);
        image.insert(name.to_owned(), json!(url));
        if slot == CaptureSlot::Liveness {
            image.insert("livenessCount".into(), json!(n));
        }
    }
    let t = |ms: Option<i64>| ms.map(argos_time);
    json!({
        "submission_id": s.id,
        "data": {
            "userid": s.userid,
            "email": s.email,
            "cf1": s.cf1,
            "cf2": s.cf2,
            "cf3": s.cf3,
            "idType": s.id_type,
            "issuingCountry": s.issuing_country,
            "idcard_issuingCountry": s.issuing_country,
            "tokenId": s.token,
        },
        "kyc": {
            "result": s.status.as_str(),
            "comment": s.comment,
            "reviewer": s.reviewer,
            "admin": s.admin,
        },
        "image": image,
        "liveness": crate::liveness::results_json(attempts),
        // As decided at finish (what the decision rests on); live for unfinished submissions.
        "verification": s
            .verification
            .as_deref()
            .and_then(|v| serde_json::from_str::<Value>(v).ok())
            .unwrap_or_else(|| crate::verify::summary(caps, attempts, false).json),
        "created_at": argos_time(s.created_ms),
        "updated_at": argos_time(s.updated_ms),
        "submitted_at": t(s.submitted_ms),
        "kyc_result_at": t(s.decided_ms),
    })
}

/// The project's submissions found `by`, newest first, at most `count`, as the API shows them.
pub(crate) fn find_json(
    st: &Store,
    pid: &str,
    by: Lookup<'_>,
    count: u32,
) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::new();
    for s in st.find(pid, by, count)? {
        let caps = st.captures(&s.id)?;
        let attempts = st.liveness_attempts(&s.id)?;
        out.push(item(&s, &caps, &attempts));
    }
    Ok(out)
}

/// Image number `index` of `slot` of the project's submission `id`, decrypted, with its content
/// type; or which of the two is not found.
pub(crate) fn image(
    st: &Store,
    pid: &str,
    id: &str,
    slot: CaptureSlot,
    index: usize,
) -> Result<Result<(String, Vec<u8>), ErrorCode>, StoreError> {
    let Some(s) = st.submission(id)?.filter(|s| s.pid == pid) else {
        return Ok(Err(ErrorCode::SubmissionNotFound));
    };
    let caps = st.captures(&s.id)?;
    let Some(c) = caps
        .into_iter()
        .filter(|c| c.record.slot == slot)
        .nth(index)
    else {
        return Ok(Err(ErrorCode::ImageNotFound));
    };
    let bytes = st.read_file(&c.file)?;
    Ok(Ok((c.record.content_type, bytes)))
}

/// Fields a partial delete may name.
pub const PARTIAL_FIELDS: [&str; 9] = [
    "userid",
    "email",
    "cf1",
    "cf2",
    "cf3",
    "idImage",
    "idBackImage",
    "selfieImage",
    "livenessImage",
];

/// Partially deletes the project's submission `id`: the fields of `list` ([`PARTIAL_FIELDS`]:
/// its data fields and image types). `false` when there is no such submission.
pub(crate) fn delete_partial(
    st: &Store,
    pid: &str,
    id: &str,
    list: &[String],
    now_ms: i64,
) -> Result<bool, StoreError> {
    if st.submission(id)?.filter(|s| s.pid == pid).is_none() {
        return Ok(false);
    }
    let fields: Vec<&str> = list
        .iter()
        .map(String::as_str)
        .filter(|f| !f.ends_with("Image"))
        .collect();
    let slots: Vec<CaptureSlot> = IMAGE_TYPES
        .iter()
        .filter(|(n, _)| list.iter().any(|f| f == n))
        .map(|(_, s)| *s)
        .collect();
    st.delete_partial(id, &fields, &slots, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argos_timestamps() {
        assert_eq!(argos_time(1_800_000_000_007), "2027-01-15-08-00-00-007");
    }
}
