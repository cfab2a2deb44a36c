//! The integrators' results API, an ARGOS-compatible subset (`argos-liveform.md` §5), with the
//! project's `api_key` in `x-api-key`: the JSON it answers with and the lookups it runs (blocking,
//! on the store). The handlers are in `routes/results.rs`; shapes in docs/api.md.

use std::collections::BTreeMap;

use liveform_core::api::KycStatus;
use liveform_core::flow::CaptureSlot;
use liveform_core::ErrorCode;
use serde_json::{json, Value};

use crate::store::{
    Lookup, Page, Partial, Store, StoreError, StoredAttempt, StoredCapture, Submission,
};

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

/// ARGOS's reject codes (`commentCode`, `argos-liveform.md` §5; `address_image_*` spelled out
/// and `timeout` added from ARGOS's reject-code page).
pub const REJECT_CODES: [&str; 24] = [
    "id_image_invalidImage",
    "id_image_invalidId",
    "id_image_error",
    "id_image_badImage",
    "id_info_dataMismatch",
    "id_info_blacklist",
    "id_info_notOfAge",
    "duplicate_user",
    "duplicated_user_PII_exact",
    "duplicated_face",
    "too_many_retry",
    "blacklistCountry",
    "under_ageLimit",
    "invalid_acceptedID",
    "no-date-of-birth",
    "expired_id",
    "automatic_verification_fail",
    "address_image_invalidImage",
    "address_image_error",
    "address_image_badImage",
    "address_info_expiredDocument",
    "address_info_dataMismatch",
    "timeout",
    "other",
];

/// Parses ARGOS's `YYYY-MM-DD-HH-MM-SS-ZZZ` (UTC) back to Unix milliseconds.
pub fn parse_argos_time(s: &str) -> Option<i64> {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]-[hour]-[minute]-[second]-[subsecond digits:3]"
    );
    let t = time::PrimitiveDateTime::parse(s, &f).ok()?.assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A `YYYY-MM-DD` date (UTC): Unix milliseconds at its first instant.
pub fn parse_day(s: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &f).ok()?;
    let t = d.midnight().assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// `request_type` of `GET /v3/submission`: which part of each item is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// Everything (no `request_type`).
    All,
    /// `kyc`: the KYC result and `submission_id`.
    Kyc,
    /// `aml`: AML data and `submission_id` (there is no AML screening here: the id only).
    Aml,
    /// `data`: personal information and `submission_id`.
    Data,
    /// `others`: everything but the KYC result, AML and personal information.
    Others,
}

impl RequestType {
    pub fn parse(s: &str) -> Option<RequestType> {
        Some(match s {
            "kyc" => RequestType::Kyc,
            "aml" => RequestType::Aml,
            "data" => RequestType::Data,
            "others" => RequestType::Others,
            _ => return None,
        })
    }
}

/// Top-level fields of an item that are the KYC result (`request_type=kyc`).
const KYC_FIELDS: [&str; 5] = [
    "kyc",
    "reviewer",
    "pending_at",
    "kyc_result_at",
    "verification",
];
/// Top-level fields of an item that are personal information (`request_type=data`).
const DATA_FIELDS: [&str; 7] = [
    "data",
    "email",
    "userid",
    "ipAddress",
    "tokenId",
    "ocr",
    "duplicated_information",
];

/// `item` cut to `kind` (`submission_id` always stays).
fn shaped(item: Value, kind: RequestType) -> Value {
    let Value::Object(mut o) = item else {
        return item;
    };
    let keep = |k: &str| match kind {
        RequestType::All => true,
        RequestType::Kyc => k == "submission_id" || KYC_FIELDS.contains(&k),
        RequestType::Aml => k == "submission_id",
        RequestType::Data => k == "submission_id" || DATA_FIELDS.contains(&k),
        RequestType::Others => !KYC_FIELDS.contains(&k) && !DATA_FIELDS.contains(&k),
    };
    o.retain(|k, _| keep(k));
    Value::Object(o)
}

/// The verification summary of a submission inserted through `POST /v3/submission`: nothing
/// was verified by this server.
pub fn migrated_verification() -> Value {
    json!({
        "passed": false,
        "unverified": true,
        "reasons": ["migration: inserted through the results API; nothing verified by this server"],
        "documents": {},
        "selfie": null,
        "liveness": {"server_outcome": "not_run", "device_outcome": "not_run", "attempts": []},
    })
}

/// What the submission's document MRZ said, as decided at finish.
pub fn document(s: &Submission) -> Option<liveform_core::document::DocumentData> {
    serde_json::from_str(s.ocr.as_deref()?).ok()
}

/// ARGOS's `duplicated_information` (docs/api.md): the keyed blind index of the holder's
/// identity, as stored at finish; before the finish, from the zone read so far. Equal for the
/// same holder within a project; not computable without this server's storage key.
pub fn duplicated_information(
    s: &Submission,
    doc: Option<&liveform_core::document::DocumentData>,
    sealer: &crate::pii::Sealer,
) -> Option<String> {
    s.identity_ix.clone().or_else(|| {
        (s.status == KycStatus::Incomplete)
            .then(|| doc?.identity_key())
            .flatten()
            .map(|k| sealer.index("holder", &s.pid, &k))
    })
}

/// The `ocr` object of the results API (docs/api.md, "ocr"): every field the MRZ gave, and
/// whether its check digits held (`mrz_valid`).
pub fn ocr_json(d: &liveform_core::document::DocumentData) -> Value {
    json!({
        "source": "mrz",
        "mrz_valid": d.mrz_valid,
        "mrz_layout": d.layout,
        "document_code": d.document_code,
        "issuing_state": d.issuing_state,
        "document_number": d.document_number,
        "surname": d.surname,
        "given_names": d.given_names,
        "full_name": d.full_name(),
        "nationality": d.nationality,
        "date_of_birth": d.date_of_birth,
        "sex": d.sex,
        "gender": d.gender(),
        "expiry_date": d.expiry_date,
        "optional_data": d.optional_data,
    })
}

/// ARGOS's `data` fields from a valid MRZ read (a field the submission already has is kept).
pub fn document_data_fields(
    d: &liveform_core::document::DocumentData,
) -> Vec<(&'static str, Value)> {
    if !d.mrz_valid {
        return Vec::new();
    }
    let mut out = vec![
        ("full_name", json!(d.full_name())),
        ("date_of_birth", json!(d.date_of_birth)),
        ("nationality", json!(d.nationality)),
        ("documentNumber", json!(d.document_number)),
        ("idcard_expireDate", json!(d.expiry_date)),
    ];
    if let Some(g) = d.gender() {
        out.push(("gender", json!(g)));
    }
    out.retain(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()));
    out
}

/// A submission as the results API shows it: ARGOS's fields (`argos-liveform.md` §5 and
/// ARGOS's GET/Submission page) and ours beside them (docs/api.md).
fn item(
    s: &Submission,
    caps: &[StoredCapture],
    attempts: &[StoredAttempt],
    sealer: &crate::pii::Sealer,
) -> Value {
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
    // Images put through the API: checked by the server like uploads, but not taken by the
    // form; after the decision they are not what the decision rested on.
    let api_images: Vec<Value> = caps
        .iter()
        .filter(|c| c.origin == "api")
        .map(|c| {
            let name = IMAGE_TYPES
                .iter()
                .find(|(_, slot)| *slot == c.record.slot)
                .map_or("", |(n, _)| *n);
            json!({
                "type": name,
                "check": c.record.check,
                "verified": c.analysis.is_some(),
                "after_decision": s.submitted_ms.is_some_and(|t| c.created_ms >= t),
                "put_at": argos_time(c.created_ms),
            })
        })
        .collect();
    let t = |ms: Option<i64>| ms.map(argos_time);
    let mut data = json!({
        "cf1": s.cf1,
        "cf2": s.cf2,
        "cf3": s.cf3,
        "idType": s.id_type,
        "idcard_issuingCountry": s.issuing_country,
        "ip_address": s.ip_address,
        // Ours, kept from earlier releases (ARGOS has them at the top level).
        "userid": s.userid,
        "email": s.email,
        "issuingCountry": s.issuing_country,
        "tokenId": s.token,
    });
    if let Some(Ok(Value::Object(person))) = s.person.as_deref().map(serde_json::from_str) {
        for (k, v) in person {
            data[k] = v;
        }
    }
    // As decided at finish; live from the stored captures before then (as `verification`).
    let doc = document(s).or_else(|| {
        (s.status == KycStatus::Incomplete)
            .then(|| {
                [CaptureSlot::DocumentBack, CaptureSlot::DocumentFront]
                    .into_iter()
                    .find_map(|side| crate::verify::document_of(caps, side, &s.id, sealer))
                    .map(|(_, d)| d)
            })
            .flatten()
    });
    for (k, v) in doc.as_ref().map(document_data_fields).unwrap_or_default() {
        if data.get(k).is_none_or(Value::is_null) {
            data[k] = v;
        }
    }
    let mut verification = s
        .verification
        .as_deref()
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .unwrap_or_else(|| crate::verify::summary(caps, attempts, false).json);
    if !api_images.is_empty() {
        verification["api_images"] = json!(api_images);
    }
    let list = |v: &Option<String>| v.iter().cloned().collect::<Vec<String>>();
    json!({
        "submission_id": s.id,
        "email": s.email,
        "userid": s.userid,
        "tokenId": s.token,
        "ipAddress": s.ip_address,
        "reviewer": s.reviewer,
        "data": data,
        "kyc": {
            "result": s.status.as_str(),
            "comment": list(&s.comment),
            "commentCode": list(&s.comment_code),
            // Ours.
            "reviewer": s.reviewer,
            "admin": s.admin,
        },
        "image": image,
        // What the document's MRZ said (`null`: none read), and ARGOS's hash of the holder's
        // identity (our documented hash; `null` without a valid read).
        "ocr": doc.as_ref().map(ocr_json),
        "duplicated_information": duplicated_information(s, doc.as_ref(), sealer),
        "liveness": crate::liveness::results_json(attempts),
        // As decided at finish (what the decision rests on); live for unfinished submissions.
        "verification": verification,
        "origin": s.origin,
        "created_at": argos_time(s.created_ms),
        "updated_at": argos_time(s.updated_ms),
        "pending_at": t(s.submitted_ms),
        "kyc_result_at": t(s.decided_ms),
        // Ours (the same as `pending_at`), kept from earlier releases.
        "submitted_at": t(s.submitted_ms),
    })
}

/// Where the next page starts: `(created_ms, id)` of the last item.
pub type PageKey = (i64, String);

/// A page of the project's submissions (optionally those found `by`), newest first, at most
/// `count`, as the API shows them (cut to `kind`), and the key of the next page when there is
/// one: `(created_ms, id)` of the last item.
pub(crate) fn find_page_json(
    st: &Store,
    pid: &str,
    by: Option<Lookup<'_>>,
    page: &Page,
    count: u32,
    kind: RequestType,
    projections: &[crate::config::Projection],
) -> Result<(Vec<Value>, Option<PageKey>), StoreError> {
    let mut rows = st.find_page(pid, by, page, count.saturating_add(1))?;
    let more = rows.len() > count as usize;
    rows.truncate(count as usize);
    let next = more
        .then(|| rows.last().map(|s| (s.created_ms, s.id.clone())))
        .flatten();
    let mut out = Vec::new();
    for s in rows {
        let caps = st.captures(&s.id)?;
        let attempts = st.liveness_attempts(&s.id)?;
        let mut v = shaped(item(&s, &caps, &attempts, st.sealer()), kind);
        crate::projection::apply(
            &mut v,
            &crate::projection::omitted(projections, s.projection.as_deref()),
        );
        out.push(v);
    }
    Ok((out, next))
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

/// ARGOS's `fields` of a partial delete and what each removes here (`None`: we keep nothing of
/// the kind, accepted as a no-op).
const ARGOS_PARTIAL: [(&str, Option<&str>); 13] = [
    ("id_image", Some("document_front,document_back")),
    ("selfie_image", Some("selfie,liveness")),
    ("data", Some("data")),
    ("OCR_raw", None),
    ("ocr", Some("ocr")),
    ("review", Some("review")),
    ("applicant_id", None),
    ("email", Some("email")),
    ("userid", Some("userid")),
    ("additional_list", None),
    // Derived from the MRZ read: it goes with it.
    ("duplicated_information", Some("ocr")),
    ("custom_duplicated_information", None),
    ("injection_action", None),
];

/// Our names from earlier releases, kept as aliases.
const OUR_PARTIAL: [(&str, &str); 10] = [
    ("cf1", "cf1"),
    ("cf2", "cf2"),
    ("cf3", "cf3"),
    ("ipAddress", "ip_address"),
    ("idImage", "document_front"),
    ("idBackImage", "document_back"),
    ("selfieImage", "selfie"),
    ("livenessImage", "liveness"),
    // (`userid` and `email` are ARGOS's names too.)
    ("userid", "userid"),
    ("email", "email"),
];

/// ARGOS's `data_fields` (which parts of `data` a `fields=data` delete takes).
const ARGOS_DATA_FIELDS: [&str; 31] = [
    "age_group",
    "first_name",
    "last_name",
    "full_name",
    "name",
    "gender",
    "nationality",
    "date_of_birth",
    "address_city",
    "address_country",
    "address_state",
    "address_street",
    "address_street2",
    "address_zipcode",
    "address_globalCode",
    "address_compoundCode",
    "address_formatted",
    "address_input",
    "address_detail",
    "ip_address",
    "idcard_issuingCountry",
    "idcard_issueDate",
    "idcard_expireDate",
    "idType",
    "documentNumber",
    "identityNumber",
    "ssnNumber",
    "phoneNumber",
    "cf1",
    "cf2",
    "cf3",
];

/// Every name `fields` accepts (ARGOS's, then our aliases).
pub fn partial_field_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = ARGOS_PARTIAL.iter().map(|(n, _)| *n).collect();
    for (n, _) in OUR_PARTIAL {
        if !v.contains(&n) {
            v.push(n);
        }
    }
    v
}

/// What a partial delete with `fields` (and `data_fields`, for `fields=data`) removes, and the
/// names accepted as no-ops; `Err` names what is wrong (ARGOS's messages).
pub fn partial_plan(
    fields: &[String],
    data_fields: Option<&[String]>,
) -> Result<(Partial, Vec<String>), String> {
    let unknown: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| {
            !ARGOS_PARTIAL.iter().any(|(n, _)| n == f) && !OUR_PARTIAL.iter().any(|(n, _)| n == f)
        })
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "invalid fields found in fields: {}",
            unknown.join(", ")
        ));
    }
    let with_data = fields.iter().any(|f| f == "data");
    if let Some(df) = data_fields {
        if !with_data {
            return Err(
                "data_fields parameter is not allowed when fields does not include data".into(),
            );
        }
        let bad: Vec<&str> = df
            .iter()
            .map(String::as_str)
            .filter(|f| !ARGOS_DATA_FIELDS.contains(f))
            .collect();
        if !bad.is_empty() {
            return Err(format!(
                "invalid fields found in data_fields: {}",
                bad.join(", ")
            ));
        }
    }
    let mut p = Partial::default();
    let mut noop = Vec::new();
    let column = |p: &mut Partial, c: &'static str| {
        if !p.columns.contains(&c) {
            p.columns.push(c);
        }
    };
    let slot = |p: &mut Partial, name: &str| {
        if let Some(s) = crate::store::parse_slot(name) {
            if !p.slots.contains(&s) {
                p.slots.push(s);
            }
        }
    };
    for f in fields {
        let target = ARGOS_PARTIAL
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, t)| *t)
            .or_else(|| {
                OUR_PARTIAL
                    .iter()
                    .find(|(n, _)| n == f)
                    .map(|(_, t)| Some(*t))
            })
            .flatten();
        match target {
            None => noop.push(f.clone()),
            Some("data") => match data_fields.filter(|d| !d.is_empty()) {
                // All of `data`: the identity fields, the address, the custom fields, the
                // document's type and country.
                None => {
                    for c in [
                        "person",
                        "ocr",
                        "ip_address",
                        "cf1",
                        "cf2",
                        "cf3",
                        "id_type",
                    ] {
                        column(&mut p, c);
                    }
                    column(&mut p, "issuing_country");
                }
                Some(df) => {
                    for d in df {
                        match d.as_str() {
                            "ip_address" => column(&mut p, "ip_address"),
                            "cf1" => column(&mut p, "cf1"),
                            "cf2" => column(&mut p, "cf2"),
                            "cf3" => column(&mut p, "cf3"),
                            "idType" => column(&mut p, "id_type"),
                            "idcard_issuingCountry" => column(&mut p, "issuing_country"),
                            "full_name" | "name" => {
                                p.person_keys.push("name".into());
                                column(&mut p, "ocr");
                            }
                            // Fields the document's MRZ gives: its read goes whole.
                            k @ ("gender" | "nationality" | "date_of_birth" | "documentNumber"
                            | "idcard_expireDate" | "age_group" | "first_name"
                            | "last_name" | "identityNumber") => {
                                p.person_keys.push(k.to_owned());
                                column(&mut p, "ocr");
                            }
                            other => p.person_keys.push(other.to_owned()),
                        }
                    }
                }
            },
            Some("review") => column(&mut p, "review"),
            Some("ocr") => column(&mut p, "ocr"),
            Some("email") => column(&mut p, "email"),
            Some("userid") => column(&mut p, "userid"),
            Some("cf1") => column(&mut p, "cf1"),
            Some("cf2") => column(&mut p, "cf2"),
            Some("cf3") => column(&mut p, "cf3"),
            Some("ip_address") => column(&mut p, "ip_address"),
            Some(slots) => {
                for s in slots.split(',') {
                    slot(&mut p, s);
                }
            }
        }
    }
    Ok((p, noop))
}

/// Partially deletes the project's submission `id` ([`partial_plan`]). `false` when there is
/// no such submission.
pub(crate) fn delete_partial(
    st: &Store,
    pid: &str,
    id: &str,
    plan: &Partial,
    now_ms: i64,
) -> Result<bool, StoreError> {
    if st.submission(id)?.filter(|s| s.pid == pid).is_none() {
        return Ok(false);
    }
    st.delete_parts(id, plan, now_ms)
}

/// The fields of a `multipart/form-data` body (text fields only, each once, UTF-8); `Err`
/// says why not.
pub fn multipart_fields(
    content_type: &str,
    body: &[u8],
) -> Result<BTreeMap<String, String>, String> {
    let boundary = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or("multipart/form-data without a boundary")?;
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let find = |from: usize| {
        body.get(from..)
            .and_then(|rest| rest.windows(d.len()).position(|w| w == d))
            .map(|i| i + from)
    };
    let mut out = BTreeMap::new();
    let mut at = find(0).ok_or("no multipart boundary in the body")? + d.len();
    loop {
        let rest = body.get(at..).ok_or("multipart body cut short")?;
        if rest.starts_with(b"--") {
            return Ok(out);
        }
        let part_start = at + if rest.starts_with(b"\r\n") { 2 } else { 0 };
        let next = find(part_start).ok_or("multipart body without its closing boundary")?;
        let part = body
            .get(part_start..next)
            .ok_or("multipart body cut short")?;
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split = part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("a multipart part without headers")?;
        let head =
            std::str::from_utf8(&part[..split]).map_err(|_| "multipart headers not UTF-8")?;
        let value = &part[split + 4..];
        let name = head
            .split("\r\n")
            .find(|l| {
                l.split(':')
                    .next()
                    .is_some_and(|h| h.trim().eq_ignore_ascii_case("content-disposition"))
            })
            .and_then(|l| {
                l.split(';').find_map(|p| {
                    let (k, v) = p.trim().split_once('=')?;
                    (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
                })
            })
            .ok_or("a multipart part without a name")?;
        let value = String::from_utf8(value.to_vec())
            .map_err(|_| format!("{name}: not text (images are Base64 strings)"))?;
        if out.insert(name.clone(), value).is_some() {
            return Err(format!("{name} given twice"));
        }
        if out.len() > 32 {
            return Err("too many fields".into());
        }
        at = next + d.len();
    }
}

/// An image of `PUT /v3/submission/image`, decoded from Base64 and checked in its header, ready
/// for the server's verification.
pub struct PlannedImage {
    pub name: &'static str,
    pub job: crate::verify::Job,
    pub data: Vec<u8>,
    pub record: liveform_core::api::CaptureRecord,
}

/// A checked `PUT /v3/submission/image` request.
pub struct ImagePlan {
    pub submission_id: String,
    pub id_type: Option<String>,
    pub images: Vec<PlannedImage>,
}

/// An ARGOS validation failure: its `errorCode` and the message.
pub type ArgosError = (&'static str, String);

fn base64_image(name: &str, v: &str, max: u64) -> Result<Vec<u8>, ArgosError> {
    use base64::Engine as _;
    let v = v
        .split_once(";base64,")
        .filter(|(p, _)| p.starts_with("data:"))
        .map_or(v, |(_, b)| b);
    let clean: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    // The decoded size, known before decoding.
    if (clean.len() as u64).saturating_mul(3) / 4 > max {
        return Err((
            "invalid_format",
            format!("invalid format: {name} is over {max} bytes"),
        ));
    }
    let e = base64::engine::general_purpose::STANDARD;
    let ne = base64::engine::general_purpose::STANDARD_NO_PAD;
    e.decode(&clean)
        .or_else(|_| ne.decode(&clean))
        .map_err(|_| {
            (
                "invalid_format",
                format!("invalid format: {name} is not Base64"),
            )
        })
}

/// Checks the fields of `PUT /v3/submission/image` (ARGOS's codes) and decodes its images.
pub fn image_plan(
    fields: &mut BTreeMap<String, String>,
    max: u64,
) -> Result<ImagePlan, ArgosError> {
    const KNOWN: [&str; 7] = [
        "submissionId",
        "admin",
        "idType",
        "idImage",
        "idBackImage",
        "selfieImage",
        "addressImage",
    ];
    if let Some(k) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(("invalid_parameter", format!("invalid parameter: {k}")));
    }
    if fields.contains_key("addressImage") {
        return Err((
            "invalid_parameter",
            "invalid parameter: addressImage (this server keeps no proof-of-address images)".into(),
        ));
    }
    let take =
        |f: &mut BTreeMap<String, String>, k: &str| f.remove(k).filter(|v| !v.trim().is_empty());
    let (Some(submission_id), Some(_admin)) = (take(fields, "submissionId"), take(fields, "admin"))
    else {
        return Err((
            "missing_data",
            "Required input data is missing: submissionId, admin".into(),
        ));
    };
    let id_type = take(fields, "idType");
    let names = [
        ("idImage", CaptureSlot::DocumentFront),
        ("idBackImage", CaptureSlot::DocumentBack),
        ("selfieImage", CaptureSlot::Selfie),
    ];
    let given: Vec<(&'static str, CaptureSlot, String)> = names
        .iter()
        .filter_map(|(n, s)| take(fields, n).map(|v| (*n, *s, v)))
        .collect();
    if given.is_empty() {
        return Err((
            "invalid_data",
            "At least one image parameter is required.".into(),
        ));
    }
    let documents = given.iter().any(|(_, s, _)| s.is_document());
    let parsed = match (&id_type, documents) {
        (None, true) => {
            return Err((
                "missing_data",
                "The idType is required when submit idImage or idBackImage.".into(),
            ))
        }
        (Some(t), _) => Some(
            liveform_core::IdType::parse(t)
                .ok_or(("invalid_idType", format!("Invalid IdType: {t}")))?,
        ),
        (None, false) => None,
    };
    let mut images = Vec::new();
    for (name, slot, v) in given {
        if slot == CaptureSlot::DocumentBack
            && parsed.is_some_and(|t| !liveform_core::policy::sides(t).needs_back())
        {
            return Err((
                "invalid_parameter",
                format!(
                    "invalid parameter: idBackImage ({} has no back side)",
                    id_type.as_deref().unwrap_or("")
                ),
            ));
        }
        let data = base64_image(name, &v, max)?;
        let kind = crate::media::sniff(&data)
            .filter(|m| matches!(m, crate::media::Media::Jpeg | crate::media::Media::Png))
            .ok_or((
                "invalid_format",
                format!("invalid format: {name} is not a JPEG or PNG image"),
            ))?;
        let (w, h) = crate::media::dimensions(kind, &data).ok_or((
            "invalid_format",
            format!("invalid format: {name}: unreadable image header"),
        ))?;
        crate::media::check_dimensions(slot, w, h)
            .map_err(|m| ("invalid_format", format!("invalid format: {name}: {m}")))?;
        let mut rnd = [0u8; 12];
        getrandom::fill(&mut rnd)
            .map_err(|_| ("processing_error", "no system randomness".to_owned()))?;
        let document = slot.is_document().then_some(match parsed {
            Some(liveform_core::IdType::Passport) => liveform_core::vision::DocumentKind::Td3,
            _ => liveform_core::vision::DocumentKind::Id1,
        });
        images.push(PlannedImage {
            name,
            job: crate::verify::Job {
                slot,
                media: kind,
                document,
                device_issues: None,
                // Images put through the API are checked, not read (ARGOS runs no OCR on a
                // migration).
                mrz: None,
            },
            record: liveform_core::api::CaptureRecord {
                capture_id: format!("api-{}", hex::encode(rnd)),
                slot,
                content_type: kind.content_type().to_owned(),
                bytes: data.len() as u64,
                width: Some(w),
                height: Some(h),
                check: None,
            },
            data,
        });
    }
    Ok(ImagePlan {
        submission_id,
        id_type: parsed.map(|t| t.as_str().to_owned()),
        images,
    })
}

/// `POST /v3/submission`'s fields: (name, required).
const MIGRATION_FIELDS: [(&str, bool); 23] = [
    ("admin", true),
    ("email", true),
    ("fullName", true),
    ("birthDate", true),
    ("kycStatus", true),
    ("idType", true),
    ("issuingCountry", true),
    ("nationality", false),
    ("gender", false),
    ("issueDate", false),
    ("expireDate", false),
    ("ipAddress", false),
    ("identityNumber", false),
    ("documentNumber", false),
    ("address_city", false),
    ("address_country", false),
    ("address_state", false),
    ("address_street", false),
    ("address_full", false),
    ("cf1", false),
    ("cf2", false),
    ("cf3", false),
    ("userid", false),
];

/// Checks `POST /v3/submission`'s fields (ARGOS's codes) into the submission to insert as
/// `id` of project `pid`.
pub fn migration(
    pid: &str,
    id: String,
    mut f: BTreeMap<String, String>,
) -> Result<crate::store::NewMigrated, ArgosError> {
    if let Some(k) = f
        .keys()
        .find(|k| !MIGRATION_FIELDS.iter().any(|(n, _)| n == k))
    {
        return Err(("invalid_parameter", format!("invalid parameter: {k}")));
    }
    f.retain(|_, v| !v.trim().is_empty());
    let missing: Vec<&str> = MIGRATION_FIELDS
        .iter()
        .filter(|(n, req)| *req && !f.contains_key(*n))
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err((
            "missing_data",
            format!("Required input data is missing: {}", missing.join(", ")),
        ));
    }
    let bad = |k: &str| ("invalid_format", format!("invalid format: {k}"));
    if let Some((k, _)) = f.iter().find(|(_, v)| v.len() > 1000) {
        return Err(bad(k));
    }
    let get = |k: &str| f.get(k).cloned();
    let status = match f.get("kycStatus").map(String::as_str) {
        Some("approved") => KycStatus::Approved,
        Some("rejected") => KycStatus::Rejected,
        _ => return Err(bad("kycStatus")),
    };
    if !f
        .get("email")
        .is_some_and(|e| liveform_core::launch::is_valid_email(e))
    {
        return Err(bad("email"));
    }
    if f.get("idType")
        .and_then(|t| liveform_core::IdType::parse(t))
        .is_none()
    {
        return Err(bad("idType"));
    }
    for k in ["issuingCountry", "nationality"] {
        if f.get(k)
            .is_some_and(|c| liveform_core::Alpha3::parse(c).is_none())
        {
            return Err(bad(k));
        }
    }
    for k in ["birthDate", "issueDate", "expireDate"] {
        if f.get(k).is_some_and(|d| parse_day(d).is_none()) {
            return Err(bad(k));
        }
    }
    if f.get("gender")
        .is_some_and(|g| g != "male" && g != "female")
    {
        return Err(bad("gender"));
    }
    let ip = match f.get("ipAddress") {
        Some(v) => Some(
            v.parse::<std::net::IpAddr>()
                .map_err(|_| bad("ipAddress"))?
                .to_string(),
        ),
        None => None,
    };
    // ARGOS's `data` names for what the API shows.
    let mut person = serde_json::Map::new();
    for (from, to) in [
        ("fullName", "name"),
        ("birthDate", "date_of_birth"),
        ("gender", "gender"),
        ("nationality", "nationality"),
        ("issueDate", "idcard_issueDate"),
        ("expireDate", "idcard_expireDate"),
        ("identityNumber", "identityNumber"),
        ("documentNumber", "documentNumber"),
        ("address_city", "address_city"),
        ("address_country", "address_country"),
        ("address_state", "address_state"),
        ("address_street", "address_street"),
        ("address_full", "address_formatted"),
    ] {
        if let Some(v) = f.get(from) {
            person.insert(to.into(), json!(v));
        }
    }
    Ok(crate::store::NewMigrated {
        base: crate::store::NewSubmission {
            id,
            pid: pid.to_owned(),
            userid: get("userid"),
            email: get("email"),
            cf1: get("cf1"),
            cf2: get("cf2"),
            cf3: get("cf3"),
            token: None,
            ip_address: ip,
            projection: None,
        },
        status,
        admin: get("admin").unwrap_or_default(),
        id_type: get("idType").unwrap_or_default(),
        issuing_country: get("issuingCountry").unwrap_or_default(),
        person: Value::Object(person).to_string(),
        verification: migrated_verification().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argos_timestamps() {
        assert_eq!(argos_time(1_800_000_000_007), "2027-01-15-08-00-00-007");
        assert_eq!(
            parse_argos_time("2027-01-15-08-00-00-007"),
            Some(1_800_000_000_007)
        );
        assert_eq!(parse_argos_time("2027-01-15T08:00:00Z"), None);
        assert_eq!(
            parse_day("2027-01-15"),
            Some(1_800_000_000_000 - 8 * 3_600_000)
        );
        assert_eq!(parse_day("2027-02-30"), None);
    }

    #[test]
    fn partial_names_map_to_what_we_store() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
        let (p, noop) = partial_plan(&s(&["id_image", "ocr", "email"]), None).unwrap();
        assert_eq!(
            p.slots,
            [CaptureSlot::DocumentFront, CaptureSlot::DocumentBack]
        );
        assert_eq!(p.columns, ["ocr", "email"]);
        assert!(noop.is_empty());
        let (_, noop) = partial_plan(&s(&["OCR_raw", "applicant_id"]), None).unwrap();
        assert_eq!(noop, ["OCR_raw", "applicant_id"]);
        let (p, _) = partial_plan(&s(&["data"]), Some(&s(&["gender", "ip_address"]))).unwrap();
        assert_eq!(p.columns, ["ocr", "ip_address"]);
        assert_eq!(p.person_keys, ["gender"]);
        assert!(partial_plan(&s(&["password"]), None).is_err());
        assert!(partial_plan(&s(&["email"]), Some(&s(&["gender"]))).is_err());
        assert!(partial_plan(&s(&["data"]), Some(&s(&["shoe_size"]))).is_err());
    }
}
