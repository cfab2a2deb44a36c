//! Every ARGOS Liveform query parameter (`argos-liveform.md` §1.3): its channel, its class
//! (whether it can narrow or widen what the person may do) and what this form does with it.
//! `docs/parameters.md` publishes this table; a test keeps them in step.

use crate::errors::ErrorCode;

/// Where a parameter may travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Only in the plain URL (`pid`, `lang`, `encrypted`); ignored inside `encrypted`.
    PlainOnly,
    /// Plain or inside `encrypted` (the encrypted value wins).
    PlainOrEncrypted,
    /// Only inside `encrypted`; ignored when plain.
    EncryptedOnly,
}

/// What this form does with a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Validated and acted on.
    Honoured,
    /// Validated and kept with the session (echoed to the integrator), no effect on the flow.
    PassedThrough,
    /// Refused with this code: the form does not support the feature, so the link cannot open.
    Refused(ErrorCode),
}

/// Whether a parameter narrows or widens what the person may do (issue 15). A plain parameter is
/// in the person's own hands: they can add, change or drop it in the address bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Narrows what the person may do (a whitelist, a deadline, a one-time token, an extra
    /// check). Worth something only where the person cannot drop it: inside GCM `encrypted`.
    Restricting,
    /// Its `false` value widens what the person may do (lifts a project check). A plain `false`
    /// is ignored (`IgnoredReason::LooseningNotEncrypted`) unless the project sets
    /// `plain_loosening = true`; from `encrypted` it is honoured.
    Loosening,
    /// Neither: selects the project or the language, carries data echoed to the integrator, or
    /// styles the page; the checks the form applies stay the same.
    Neutral,
}

/// One parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub channel: Channel,
    pub class: Class,
    pub support: Support,
    /// What happens, in a few words (published).
    pub note: &'static str,
}

use Channel::*;
use Class::*;
use Support::*;

/// The table, in ARGOS documentation order.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "pid", channel: PlainOnly, class: Neutral, support: Honoured, note: "Required; selects the project (its key, algorithm and settings)." },
    ParamSpec { name: "lang", channel: PlainOnly, class: Neutral, support: Honoured, note: "UI language (ISO 639-1, one of ARGOS's 26 codes, all translated; `fa`, `ur` and `ar` right to left). An unknown value is ignored: then the browser's languages in order (the first that is one of the 26; `fil` counts as `tl`, `in` as `id`), then English. The person can switch the language on the welcome screen; the page reopens in it and the session resumes." },
    ParamSpec { name: "encrypted", channel: PlainOnly, class: Neutral, support: Honoured, note: "The encrypted JSON options: ECB Base64 or GCM hex, per the project's `algorithm`." },
    ParamSpec { name: "email", channel: PlainOrEncrypted, class: Neutral, support: Honoured, note: "Validated; skips the e-mail step; echoed in the Return URL." },
    ParamSpec { name: "userid", channel: PlainOrEncrypted, class: Neutral, support: PassedThrough, note: "Free text (max 1000 chars); echoed in the Return URL and results." },
    ParamSpec { name: "cf1", channel: PlainOrEncrypted, class: Neutral, support: PassedThrough, note: "Free text (max 1000 chars); echoed in the Return URL and results." },
    ParamSpec { name: "cf2", channel: PlainOrEncrypted, class: Neutral, support: PassedThrough, note: "Free text (max 1000 chars); echoed in the Return URL and results." },
    ParamSpec { name: "cf3", channel: PlainOrEncrypted, class: Neutral, support: PassedThrough, note: "Free text (max 1000 chars); echoed in the Return URL and results." },
    ParamSpec { name: "token", channel: PlainOrEncrypted, class: Restricting, support: Honoured, note: "Private mode (`private_mode`: required, else TK-10000): refused 3 minutes after first use (TK-10001) or once a decided submission exists (TK-10002 approved, TK-10003 pending, TK-10004 rejected; time wins); with `token_registration` only tokens registered through the Token API (TK-10005 otherwise; TK-10001 past `token_expiry_hours`). Accepted plain (ARGOS private links), where the person can replace it: encrypt it with GCM when that matters." },
    ParamSpec { name: "blacklistCountries", channel: PlainOrEncrypted, class: Loosening, support: Honoured, note: "`false` lifts the project's issuing-country blacklist for this session (from `encrypted`; plain only with `plain_loosening`); `true` is the default." },
    ParamSpec { name: "approvePeriod", channel: PlainOrEncrypted, class: Loosening, support: Honoured, note: "`false` lifts the project's approved prevention period (`approved_period_days`) for this submission (from `encrypted`; plain only with `plain_loosening`); the same person is the document holder (from a valid MRZ read) or the link's `userid`, else `email`." },
    ParamSpec { name: "rejectPeriod", channel: PlainOrEncrypted, class: Loosening, support: Honoured, note: "`false` lifts the project's rejected prevention period (`rejected_period_days`) for this submission (from `encrypted`; plain only with `plain_loosening`); the same person is the document holder (from a valid MRZ read) or the link's `userid`, else `email`." },
    ParamSpec { name: "ageLimit", channel: PlainOrEncrypted, class: Loosening, support: Honoured, note: "Boolean; `false` lifts the project's `age_limit` for this submission (a plain `false` counts only with `plain_loosening`). The age is the holder's by the birth date of the document's MRZ read with valid check digits (`under_ageLimit` at finish); without such a read the submission is left to review." },
    ParamSpec { name: "rejectDuplicateUser", channel: PlainOrEncrypted, class: Loosening, support: Honoured, note: "Turns duplicate-user prevention on (`true`, either channel) or off (`false`: from `encrypted`; plain only with `plain_loosening`) for this submission, over the project's `reject_duplicate_user`; the same person is the document holder (name, birth date, sex, nationality from an MRZ read with valid check digits) or the link's `userid`, else `email` (our extension)." },
    ParamSpec { name: "allowedCountries", channel: EncryptedOnly, class: Restricting, support: Honoured, note: "Comma list of ISO alpha-3 codes, no spaces; only these issuing countries are offered." },
    ParamSpec { name: "allowedIdTypes", channel: EncryptedOnly, class: Restricting, support: Honoured, note: "Comma list of ID types, no spaces; only these types are offered." },
    ParamSpec { name: "allowedDocumentFields", channel: EncryptedOnly, class: Restricting, support: Honoured, note: "Comma list of document fields: the finish screen shows those the document's MRZ gives (`name`, `date_of_birth`, `gender`, `nationality`, `expiry_date`, `number`, `id_number`) for the person to confirm (a wrong one: retake the photo); the others are not read by this form." },
    ParamSpec { name: "selectedIssuingCountry", channel: EncryptedOnly, class: Restricting, support: Honoured, note: "Skips the country step; must be inside allowedCountries and not blacklisted." },
    ParamSpec { name: "selectedIdType", channel: EncryptedOnly, class: Restricting, support: Honoured, note: "Skips the ID-type step; needs selectedIssuingCountry; must be inside allowedIdTypes." },
    ParamSpec { name: "knowledgeField", channel: EncryptedOnly, class: Neutral, support: Refused(ErrorCode::KnowledgeUnsupported), note: "Knowledge-based pipeline: not supported." },
    ParamSpec { name: "knowledgePrefill", channel: EncryptedOnly, class: Neutral, support: Refused(ErrorCode::KnowledgeUnsupported), note: "Knowledge-based pipeline: not supported." },
    ParamSpec { name: "auxidField", channel: EncryptedOnly, class: Restricting, support: Refused(ErrorCode::AuxidUnsupported), note: "SMS phone verification: not supported." },
    ParamSpec { name: "projectionId", channel: EncryptedOnly, class: Neutral, support: Honoured, note: "A projection of the project (`[[project.projection]]`, unknown → LF-40005): its fields are left out of the results API and webhooks for this submission; exclusive with projectionName." },
    ParamSpec { name: "projectionName", channel: EncryptedOnly, class: Neutral, support: Honoured, note: "Same as projectionId, by the projection's name; exclusive with projectionId." },
    ParamSpec { name: "mainColor", channel: PlainOrEncrypted, class: Neutral, support: Honoured, note: "Brand colour, `#RRGGBB` or `RRGGBB` only (anything else is refused); text falls back to a readable colour when contrast is too low." },
    ParamSpec { name: "innerColor", channel: PlainOrEncrypted, class: Neutral, support: Honoured, note: "Second brand colour, same format as mainColor." },
    ParamSpec { name: "startValidUntil", channel: EncryptedOnly, class: Restricting, support: Honoured, note: "ISO 8601 timestamp (UTC when no offset); checked before anything else; past → PV-40018." },
    ParamSpec { name: "sid", channel: PlainOrEncrypted, class: Neutral, support: Refused(ErrorCode::InjectionUnsupported), note: "Address injection: not supported." },
    ParamSpec { name: "action", channel: PlainOrEncrypted, class: Neutral, support: Refused(ErrorCode::InjectionUnsupported), note: "Address injection: not supported." },
    ParamSpec { name: "ipRiskCategory", channel: EncryptedOnly, class: Restricting, support: Refused(ErrorCode::InjectionUnsupported), note: "Injection-only option: not supported." },
    ParamSpec { name: "ipRiskDurationHours", channel: EncryptedOnly, class: Restricting, support: Refused(ErrorCode::InjectionUnsupported), note: "Injection-only option: not supported." },
    ParamSpec { name: "distanceCheckSource", channel: EncryptedOnly, class: Restricting, support: Refused(ErrorCode::InjectionUnsupported), note: "Injection-only option: not supported." },
    ParamSpec { name: "distanceMaxDistanceKm", channel: EncryptedOnly, class: Restricting, support: Refused(ErrorCode::InjectionUnsupported), note: "Injection-only option: not supported." },
];

/// Looks a parameter up by its exact (case-sensitive) name.
pub fn spec(name: &str) -> Option<&'static ParamSpec> {
    PARAMS.iter().find(|p| p.name == name)
}

/// The table as Markdown (published in `docs/parameters.md`).
pub fn params_markdown() -> String {
    let mut out = String::from(
        "| parameter | channel | class | this form | notes |\n|---|---|---|---|---|\n",
    );
    for p in PARAMS {
        let channel = match p.channel {
            PlainOnly => "plain only",
            PlainOrEncrypted => "plain or encrypted",
            EncryptedOnly => "encrypted only",
        };
        let class = match p.class {
            Restricting => "restricting",
            Loosening => "loosening (`false`)",
            Neutral => "neutral",
        };
        let support = match p.support {
            Honoured => "honoured".to_owned(),
            PassedThrough => "passed through".to_owned(),
            Refused(code) => format!("refused (`{}`)", code.id()),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            p.name, channel, class, support, p.note
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, p) in PARAMS.iter().enumerate() {
            assert!(
                PARAMS[i + 1..].iter().all(|q| q.name != p.name),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn published_docs_match_the_table() {
        let doc = include_str!("../../../docs/parameters.md");
        assert!(
            doc.contains(&params_markdown()),
            "docs/parameters.md is out of date: paste the output of `liveform params` into it"
        );
    }
}
