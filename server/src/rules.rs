//! The rules a link toggles (ARGOS §1.3), in one place: duplicate-user prevention and the
//! approved / rejected prevention periods. Pure: the project's settings, the link's switches and
//! the earlier submissions of the same identity in, the rule that fires (if any) out. The finish
//! route applies the answer inside the transaction that decides the submission.
//!
//! The identity is ARGOS's — the document holder's name, birth date, sex and nationality — when
//! the document's MRZ read with valid check digits ([`Identity::Holder`]); otherwise the link's
//! `userid`, else its `email` ([`identity`]), our documented extension. The rules that need the
//! document's data (age limit, expired ID) are `core::document::document_verdict`.

use liveform_core::api::KycStatus;
use liveform_core::launch::LaunchParams;

pub use crate::config::Rules;

/// One day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// ARGOS's reject code for every rule here (its reject-code list has `duplicate_user` and no
/// separate code for the prevention periods; docs/api.md marks the period use inferred).
pub const DUPLICATE_USER: &str = "duplicate_user";

/// Whether `code` is a rejection code of a rule decided at finish (duplicate user, prevention
/// periods, and the document rules `under_ageLimit` and `expired_id`): such rejections do not
/// start or extend the rejected prevention period.
pub fn is_rule_code(code: &str) -> bool {
    code == DUPLICATE_USER || code == "under_ageLimit" || code == "expired_id"
}

/// What a link switches (its launch parameters): `rejectDuplicateUser` (either way),
/// `approvePeriod=false`, `rejectPeriod=false`. A loosening value counts only as core's launch
/// parsing allowed it (from `encrypted`, or plain with `plain_loosening`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toggles {
    pub reject_duplicate_user: Option<bool>,
    pub approve_period: bool,
    pub reject_period: bool,
}

impl Toggles {
    pub fn of(p: &LaunchParams) -> Toggles {
        Toggles {
            reject_duplicate_user: p.reject_duplicate_user,
            approve_period: p.approve_period,
            reject_period: p.reject_period,
        }
    }
}

/// Which identity the rules compare, from the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `core::document::DocumentData::identity_key`.
    Holder(String),
    Userid(String),
    Email(String),
}

/// The identities the rules compare: the document holder when the MRZ read with valid check
/// digits, and the link's own ([`identity`]); an earlier submission matching either is the same
/// person. (The holder alone would let an approved `userid` through with another document; the
/// link's alone would let a holder through under another `userid`.)
pub fn identities(
    p: &LaunchParams,
    document: Option<&liveform_core::document::DocumentData>,
) -> Vec<Identity> {
    document
        .and_then(|d| d.identity_key())
        .map(Identity::Holder)
        .into_iter()
        .chain(identity(p))
        .collect()
}

/// Whether a rule of `rules`/`toggles` compares identities (duplicate user, either prevention
/// period): when the document's zone should identify the holder but did not read, such a rule
/// cannot be checked as ARGOS checks it.
pub fn compares_identities(rules: &Rules, toggles: Toggles) -> bool {
    toggles
        .reject_duplicate_user
        .unwrap_or(rules.duplicate_user)
        || (toggles.approve_period && rules.approved_period_days.is_some())
        || (toggles.reject_period && rules.rejected_period_days.is_some())
}

/// The link's identity: `userid`, then `email`; `None` when it carries neither. The e-mail a
/// person types at the end is theirs to choose and is not used.
pub fn identity(p: &LaunchParams) -> Option<Identity> {
    fn nonempty(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|v| !v.trim().is_empty())
    }
    if let Some(u) = nonempty(&p.userid) {
        return Some(Identity::Userid(u.to_owned()));
    }
    nonempty(&p.email).map(|e| Identity::Email(e.to_owned()))
}

/// An earlier submission of the same identity in the same project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    pub status: KycStatus,
    /// When it was approved or rejected (ms); `None` while undecided.
    pub decided_ms: Option<i64>,
    /// Rejected by one of these rules itself: it does not start or extend a period.
    pub by_rule: bool,
}

/// A rule that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// An approved submission of the same identity exists.
    DuplicateUser,
    /// One was approved within the approved prevention period.
    ApprovedPeriod,
    /// One was rejected within the rejected prevention period.
    RejectedPeriod,
}

impl Hit {
    /// ARGOS's `commentCode`.
    pub fn comment_code(self) -> &'static str {
        DUPLICATE_USER
    }

    /// The `comment` stored with the rejection.
    pub fn comment(self) -> &'static str {
        match self {
            Hit::DuplicateUser => "Duplicate user: an approved submission of this user exists.",
            Hit::ApprovedPeriod => "Duplicate submission within the approved prevention period.",
            Hit::RejectedPeriod => "Duplicate submission within the rejected prevention period.",
        }
    }
}

/// Whether a rule rejects a new submission finished at `now_ms`, given the earlier submissions
/// of its identity. Duplicate-user prevention is on when the link says so
/// (`rejectDuplicateUser=true`) or the project does and the link does not turn it off; a period
/// applies when the project sets it and the link does not lift it. Checked in this order.
pub fn check(rules: &Rules, toggles: Toggles, priors: &[Prior], now_ms: i64) -> Option<Hit> {
    let duplicate = toggles
        .reject_duplicate_user
        .unwrap_or(rules.duplicate_user);
    if duplicate && priors.iter().any(|p| p.status == KycStatus::Approved) {
        return Some(Hit::DuplicateUser);
    }
    let within = |days: Option<u32>, status: KycStatus| {
        days.is_some_and(|d| {
            let since = now_ms.saturating_sub(i64::from(d).saturating_mul(DAY_MS));
            priors.iter().any(|p| {
                p.status == status && !p.by_rule && p.decided_ms.is_some_and(|t| t > since)
            })
        })
    };
    if toggles.approve_period && within(rules.approved_period_days, KycStatus::Approved) {
        return Some(Hit::ApprovedPeriod);
    }
    if toggles.reject_period && within(rules.rejected_period_days, KycStatus::Rejected) {
        return Some(Hit::RejectedPeriod);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * DAY_MS;
    const ON: Toggles = Toggles {
        reject_duplicate_user: None,
        approve_period: true,
        reject_period: true,
    };

    fn prior(status: KycStatus, days_ago: i64) -> Prior {
        Prior {
            status,
            decided_ms: (status != KycStatus::Pending).then_some(NOW - days_ago * DAY_MS),
            by_rule: false,
        }
    }

    fn rules(dup: bool, a: Option<u32>, r: Option<u32>) -> Rules {
        Rules {
            duplicate_user: dup,
            approved_period_days: a,
            rejected_period_days: r,
            ..Rules::default()
        }
    }

    #[test]
    fn nothing_fires_without_settings_or_priors() {
        assert_eq!(check(&Rules::default(), ON, &[], NOW), None);
        let all = [prior(KycStatus::Approved, 0), prior(KycStatus::Rejected, 0)];
        assert_eq!(check(&Rules::default(), ON, &all, NOW), None);
        assert_eq!(check(&rules(true, Some(9), Some(9)), ON, &[], NOW), None);
    }

    #[test]
    fn duplicate_user_follows_project_and_link() {
        let p = [prior(KycStatus::Approved, 400)];
        assert_eq!(
            check(&rules(true, None, None), ON, &p, NOW),
            Some(Hit::DuplicateUser)
        );
        let off = Toggles {
            reject_duplicate_user: Some(false),
            ..ON
        };
        assert_eq!(check(&rules(true, None, None), off, &p, NOW), None);
        let on = Toggles {
            reject_duplicate_user: Some(true),
            ..ON
        };
        assert_eq!(
            check(&rules(false, None, None), on, &p, NOW),
            Some(Hit::DuplicateUser)
        );
        // Only an approved one makes a duplicate.
        let q = [prior(KycStatus::Pending, 0), prior(KycStatus::Rejected, 0)];
        assert_eq!(check(&rules(true, None, None), ON, &q, NOW), None);
    }

    #[test]
    fn periods_block_inside_and_unblock_after() {
        let r = rules(false, Some(7), Some(3));
        let approved = |d| [prior(KycStatus::Approved, d)];
        let rejected = |d| [prior(KycStatus::Rejected, d)];
        assert_eq!(check(&r, ON, &approved(6), NOW), Some(Hit::ApprovedPeriod));
        assert_eq!(check(&r, ON, &approved(7), NOW), None);
        assert_eq!(check(&r, ON, &rejected(2), NOW), Some(Hit::RejectedPeriod));
        assert_eq!(check(&r, ON, &rejected(3), NOW), None);
        let lifted = Toggles {
            reject_duplicate_user: None,
            approve_period: false,
            reject_period: false,
        };
        assert_eq!(check(&r, lifted, &approved(0), NOW), None);
        assert_eq!(check(&r, lifted, &rejected(0), NOW), None);
        // A rejection by a rule itself does not extend the period.
        let mut own = prior(KycStatus::Rejected, 0);
        own.by_rule = true;
        assert_eq!(check(&r, ON, &[own], NOW), None);
    }

    #[test]
    fn order_and_codes() {
        let r = rules(true, Some(7), Some(7));
        let p = [prior(KycStatus::Rejected, 1), prior(KycStatus::Approved, 1)];
        assert_eq!(check(&r, ON, &p, NOW), Some(Hit::DuplicateUser));
        for h in [Hit::DuplicateUser, Hit::ApprovedPeriod, Hit::RejectedPeriod] {
            assert_eq!(h.comment_code(), "duplicate_user");
        }
    }

    #[test]
    fn identity_is_the_holder_then_userid_then_email() {
        let mut p: LaunchParams = liveform_core::RawQuery::parse("pid=p")
            .expect("a link")
            .resolve(&liveform_core::LaunchContext {
                key: "k",
                algorithm: liveform_core::Algorithm::Ecb,
                encrypted_only: false,
                now_unix: 0,
            })
            .expect("a plain link");
        assert_eq!(identity(&p), None);
        p.email = Some("a@b.example".into());
        assert_eq!(identity(&p), Some(Identity::Email("a@b.example".into())));
        p.userid = Some("u1".into());
        assert_eq!(identity(&p), Some(Identity::Userid("u1".into())));
        p.userid = Some("  ".into());
        assert_eq!(identity(&p), Some(Identity::Email("a@b.example".into())));
        // A valid MRZ read adds the holder (ARGOS's identity); an invalid one does not.
        let mut doc = liveform_core::document::DocumentData {
            layout: liveform_core::document::MrzLayout::Td3,
            document_code: "P".into(),
            issuing_state: "UTO".into(),
            document_number: "L898902C3".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            nationality: "UTO".into(),
            date_of_birth: "1974-08-12".into(),
            sex: "F".into(),
            expiry_date: "2012-04-15".into(),
            optional_data: String::new(),
            mrz_valid: true,
        };
        assert_eq!(
            identities(&p, Some(&doc)),
            [
                Identity::Holder("ERIKSSON<<ANNA MARIA|1974-08-12|F|UTO".into()),
                Identity::Email("a@b.example".into())
            ]
        );
        doc.mrz_valid = false;
        assert_eq!(
            identities(&p, Some(&doc)),
            [Identity::Email("a@b.example".into())]
        );
    }
}
