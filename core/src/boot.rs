//! The SPA's start-up: what to do with the address the person arrived at (pure, tested natively;
//! used by the first-screen module and by the app module's "Try again").

use crate::launch::RawQuery;
use crate::ErrorCode;
use serde::{Deserialize, Serialize};

/// The address bar, read once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    pub raw_query: String,
    pub pid: Option<String>,
    /// The link's `lang` (normalised to one of ARGOS's codes), if any.
    pub lang_param: Option<String>,
    /// The query carries more than `pid` and `lang`: a link fresh from the integrator.
    pub is_fresh_link: bool,
    /// `?handoff=<token>`: this device continues a session started on another one.
    pub handoff: Option<String>,
}

impl Boot {
    pub fn read(search: &str) -> Boot {
        match RawQuery::parse(search) {
            Ok(q) => Boot {
                raw_query: search.to_owned(),
                pid: q.pid().ok().map(str::to_owned),
                lang_param: q.lang_hint(),
                is_fresh_link: q.names().any(|n| n != "pid" && n != "lang"),
                handoff: q
                    .value("handoff")
                    .filter(|v| v.len() <= 128)
                    .map(str::to_owned),
            },
            Err(_) => Boot {
                raw_query: search.to_owned(),
                pid: None,
                lang_param: None,
                is_fresh_link: true,
                handoff: None,
            },
        }
    }

    /// The query the address bar keeps: `?pid=…&lang=…`.
    pub fn clean_query(&self, lang: &str) -> String {
        let mut q = String::from("?");
        if let Some(p) = &self.pid {
            q.push_str("pid=");
            encode_into(&mut q, p);
            q.push('&');
        }
        q.push_str("lang=");
        encode_into(&mut q, lang);
        q
    }
}

/// Percent-encodes a query value (everything but unreserved ASCII), without a URL crate's
/// serializer in the first screen.
fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// A session remembered in this tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub pid: String,
    pub token: String,
}

/// A link remembered until its session opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub pid: String,
    pub query: String,
}

/// Whether a failed session request keeps the pending link (and a resumed session's token):
/// errors that a new attempt may fix (network, rate limit, server error, or a code this build
/// does not know), so that "Try again" still has `encrypted`.
pub fn keeps_pending(code: &str) -> bool {
    matches!(
        ErrorCode::from_id(code),
        Some(ErrorCode::Network | ErrorCode::RateLimited | ErrorCode::Internal) | None
    )
}

/// The link to remember under the tab's pending key before its session request goes out (a
/// fresh link being opened), so that "Try again" or a reload still has `encrypted`.
pub fn pending_for(boot: &Boot, plan: &Plan) -> Option<Pending> {
    match (plan, &boot.pid, boot.is_fresh_link) {
        (Plan::Create(query), Some(pid), true) => Some(Pending {
            pid: pid.clone(),
            query: query.clone(),
        }),
        _ => None,
    }
}

/// What the tab forgets after a session request failed with `code`: the pending link and, when
/// the request resumed the tab's session, that session — unless a new attempt may fix the error
/// ([`keeps_pending`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forget {
    pub pending: bool,
    pub session: bool,
}

pub fn forget_after_failure(plan: &Plan, code: &str) -> Forget {
    let lost = !keeps_pending(code);
    Forget {
        pending: lost,
        session: lost && matches!(plan, Plan::Resume(_)),
    }
}

/// The first request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Open a session from this query.
    Create(String),
    /// Resume the tab's session.
    Resume(String),
    /// Claim a one-time handoff token (`POST /api/handoff/claim`).
    Claim(String),
    /// Nothing to ask the server.
    Fail(ErrorCode),
}

pub fn plan(boot: &Boot, stored: Option<&Stored>, pending: Option<&Pending>) -> Plan {
    if let Some(t) = &boot.handoff {
        return Plan::Claim(t.clone());
    }
    let Some(pid) = &boot.pid else {
        if boot.raw_query.len() > crate::launch::MAX_QUERY_LEN {
            return Plan::Fail(ErrorCode::LinkTooLong);
        }
        return Plan::Fail(ErrorCode::MissingProject);
    };
    if boot.is_fresh_link {
        return Plan::Create(boot.raw_query.clone());
    }
    if let Some(s) = stored.filter(|s| &s.pid == pid) {
        return Plan::Resume(s.token.clone());
    }
    if let Some(p) = pending.filter(|p| &p.pid == pid) {
        return Plan::Create(p.query.clone());
    }
    Plan::Create(boot.raw_query.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_links() {
        let b = Boot::read("?pid=demo&encrypted=abc%2B&lang=KO&utm=1");
        assert_eq!(b.pid.as_deref(), Some("demo"));
        assert_eq!(b.lang_param.as_deref(), Some("ko"));
        assert!(b.is_fresh_link);
        assert_eq!(b.clean_query("ko"), "?pid=demo&lang=ko");
        let odd = Boot::read("?pid=a%26b%3Dc%2Bd%25&encrypted=x");
        assert_eq!(odd.pid.as_deref(), Some("a&b=c+d%"));
        assert_eq!(odd.clean_query("en"), "?pid=a%26b%3Dc%2Bd%25&lang=en");
        assert_eq!(
            Boot::read(&odd.clean_query("en")).pid,
            odd.pid,
            "the clean query reads back"
        );
        let b = Boot::read("?pid=demo&lang=en");
        assert!(!b.is_fresh_link);
        assert!(Boot::read("").pid.is_none());
    }

    #[test]
    fn a_handoff_link_claims_its_token() {
        let b = Boot::read("?handoff=abc_DEF-1&lang=ko");
        assert_eq!(b.handoff.as_deref(), Some("abc_DEF-1"));
        assert_eq!(plan(&b, None, None), Plan::Claim("abc_DEF-1".into()));
        assert_eq!(Boot::read("?handoff=").handoff, None);
        assert_eq!(Boot::read("?pid=d").handoff, None);
    }

    #[test]
    fn only_errors_a_retry_may_fix_keep_the_pending_link() {
        assert!(keeps_pending(ErrorCode::Network.id()));
        assert!(keeps_pending(ErrorCode::RateLimited.id()));
        assert!(
            keeps_pending("XX-00000"),
            "an unknown code may be temporary"
        );
        assert!(!keeps_pending(ErrorCode::MissingProject.id()));
    }

    #[test]
    fn what_is_kept_while_a_link_opens_and_after_it_failed() {
        let fresh = Boot::read("?pid=d&encrypted=x");
        let plan = plan(&fresh, None, None);
        assert_eq!(
            pending_for(&fresh, &plan),
            Some(Pending {
                pid: "d".into(),
                query: "?pid=d&encrypted=x".into()
            })
        );
        let resume = Plan::Resume("t".into());
        assert_eq!(pending_for(&Boot::read("?pid=d&lang=en"), &resume), None);
        let gone = forget_after_failure(&resume, ErrorCode::MissingProject.id());
        assert!(gone.pending && gone.session);
        let retry = forget_after_failure(&resume, ErrorCode::Network.id());
        assert!(!retry.pending && !retry.session);
        let created = forget_after_failure(&plan, ErrorCode::MissingProject.id());
        assert!(created.pending && !created.session);
    }

    #[test]
    fn plans() {
        let fresh = Boot::read("?pid=d&encrypted=x");
        let clean = Boot::read("?pid=d&lang=en");
        let stored = Stored {
            pid: "d".into(),
            token: "t".into(),
        };
        let other = Stored {
            pid: "e".into(),
            token: "u".into(),
        };
        let pending = Pending {
            pid: "d".into(),
            query: "?pid=d&encrypted=x".into(),
        };
        assert_eq!(
            plan(&fresh, Some(&stored), None),
            Plan::Create("?pid=d&encrypted=x".into()),
            "a new link wins"
        );
        assert_eq!(plan(&clean, Some(&stored), None), Plan::Resume("t".into()));
        assert_eq!(
            plan(&clean, Some(&other), None),
            Plan::Create("?pid=d&lang=en".into())
        );
        assert_eq!(
            plan(&clean, None, Some(&pending)),
            Plan::Create("?pid=d&encrypted=x".into()),
            "reload after a failed open keeps encrypted"
        );
        assert_eq!(
            plan(&Boot::read("?lang=en"), Some(&stored), None),
            Plan::Fail(ErrorCode::MissingProject)
        );
    }
}
