//! Projections (ARGOS `projectionId` / `projectionName`): a named list of fields left out of the
//! results API (`GET /v3/submission`) and webhook bodies for a submission whose link chose it.
//! Configured per project (`[[project.projection]]`, our shape: ARGOS creates them through a
//! Projection API this server does not have). The link's choice is resolved when the session
//! opens (an unknown one refuses the link) and the projection's `id` is stored with the
//! submission.

use serde_json::Value;

use crate::config::{Projection, PROJECTION_FIELDS};

/// The JSON keys a projected field is found under in our output (ARGOS's name, its `data`
/// spelling and ours beside them).
fn keys(field: &str) -> &'static [&'static str] {
    match field {
        "email" => &["email"],
        "userid" => &["userid"],
        "cf1" => &["cf1"],
        "cf2" => &["cf2"],
        "cf3" => &["cf3"],
        "tokenId" => &["tokenId", "token"],
        "ipAddress" => &["ipAddress", "ip_address"],
        "idType" => &["idType", "id_type"],
        "issuingCountry" => &["issuingCountry", "idcard_issuingCountry", "issuing_country"],
        "verification" => &["verification"],
        "image" => &["image"],
        "liveness" => &["liveness"],
        "ocr" => &[
            "ocr",
            "duplicated_information",
            "full_name",
            "date_of_birth",
            "gender",
            "nationality",
            "documentNumber",
            "idcard_expireDate",
            "expireDate",
        ],
        _ => &[],
    }
}

/// The fields to leave out for a submission stored with `projection`: none without one, the
/// projection's, or — when the project no longer has it (its configuration changed) — every
/// field a projection can name (fail closed).
pub fn omitted<'a>(projections: &'a [Projection], projection: Option<&str>) -> Vec<&'a str> {
    let Some(id) = projection else {
        return Vec::new();
    };
    match projections.iter().find(|p| p.id == id) {
        Some(p) => p.omit.iter().map(String::as_str).collect(),
        None => PROJECTION_FIELDS.to_vec(),
    }
}

/// Removes the `omit` fields from `v`, at any depth (`cf.cf1`, `data.email`, …).
pub fn apply(v: &mut Value, omit: &[&str]) {
    if omit.is_empty() {
        return;
    }
    let names: Vec<&str> = omit.iter().flat_map(|f| keys(f).iter().copied()).collect();
    strip(v, &names);
}

fn strip(v: &mut Value, names: &[&str]) {
    match v {
        Value::Object(o) => {
            o.retain(|k, _| !names.contains(&k.as_str()));
            o.values_mut().for_each(|x| strip(x, names));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip(x, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_at_any_depth_and_keeps_the_rest() {
        let mut v = json!({"submission_id": "s", "email": "a@b", "cf": {"cf1": "x", "cf2": "y"},
                           "data": {"email": "a@b", "ip_address": "1.2.3.4", "cf1": "x"},
                           "ipAddress": "1.2.3.4", "webhook_trigger": "approved"});
        apply(&mut v, &["email", "cf1", "ipAddress"]);
        assert_eq!(
            v,
            json!({"submission_id": "s", "cf": {"cf2": "y"}, "data": {},
                   "webhook_trigger": "approved"})
        );
        let mut w = json!({"email": "a"});
        apply(&mut w, &[]);
        assert_eq!(w, json!({"email": "a"}));
    }

    #[test]
    fn unknown_projection_fails_closed() {
        let ps = [Projection {
            id: "p1".into(),
            name: "one".into(),
            omit: vec!["email".into()],
        }];
        assert!(omitted(&ps, None).is_empty());
        assert_eq!(omitted(&ps, Some("p1")), vec!["email"]);
        assert_eq!(omitted(&ps, Some("gone")), PROJECTION_FIELDS.to_vec());
    }
}
