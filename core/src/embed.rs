//! The frame event protocol: what the form tells the page that embeds it in an `<iframe>`, and
//! what it accepts from that page. Documented for integrators in `docs/embedding.md`.
//!
//! Every message the form sends is one envelope, posted with `postMessage` to the embedding
//! page's origin only, never to `'*'`:
//!
//! ```json
//! {"source": "liveform", "version": 1, "type": "step", "payload": {"step": "selfie", "index": 4, "total": 6}}
//! ```
//!
//! * Before the handshake the form posts to each of the project's `allowed_origins` (a message
//!   whose target origin is not the parent's is dropped by the browser, so only an allowed parent
//!   ever hears it). The first message is `ready`, carrying a fresh `nonce`.
//! * The host answers `{"source": "liveform-host", "version": 1, "type": "hello", "nonce": …}`;
//!   from then on the form posts to that origin only, and accepts commands (`set_language`,
//!   `close`) only from the parent window, from that origin, with that nonce.
//! * Versioning: `version` is the major version. Within a major version changes are additive
//!   only (new event types, new payload fields); hosts must ignore what they do not know.
use serde::{Deserialize, Serialize};

/// `source` of the form's messages.
pub const SOURCE: &str = "liveform";
/// `source` of the host's messages.
pub const HOST_SOURCE: &str = "liveform-host";
/// The protocol's major version.
pub const VERSION: u32 = 1;
/// Longest inbound message accepted (bytes of JSON): commands are tiny.
pub const MAX_INBOUND_LEN: usize = 1024;

/// The events the form sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// The form has opened its session (payload: `nonce`, `lang`).
    Ready,
    /// A new screen (payload: `step`, `index`, `total`).
    Step,
    /// An error page is shown (payload: `code`).
    Error,
    /// The verification is submitted (payload: `status`, `submissionId`, `returnUrl`).
    Complete,
    /// The person left without finishing, or the host closed the form (payload: `reason`,
    /// `code`, `returnUrl`).
    Cancel,
    /// The content's height changed (payload: `height` in CSS pixels).
    Resize,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Ready => "ready",
            EventType::Step => "step",
            EventType::Error => "error",
            EventType::Complete => "complete",
            EventType::Cancel => "cancel",
            EventType::Resize => "resize",
        }
    }
}

/// The envelope around `payload` (already JSON: an object).
pub fn envelope(kind: EventType, payload_json: &str) -> String {
    format!(
        r#"{{"source":"{SOURCE}","version":{VERSION},"type":"{}","payload":{payload_json}}}"#,
        kind.as_str()
    )
}

/// `complete`'s payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Complete {
    /// `pending`, `approved` or `rejected` (as in the Return URL).
    pub status: String,
    pub submission_id: String,
    /// The Return URL the server built, when the project has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// `cancel`'s payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancel {
    /// `person` (left through an error page) or `host` (the host sent `close`).
    pub reason: String,
    /// The error code the person left with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// What the project wants when the form completes inside a frame (`[[project]] frame_complete`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameComplete {
    /// Send `complete` to the host and stay on the result page (the host decides).
    #[default]
    Notify,
    /// Send `complete`, then take the whole window (`window.top`) to the Return URL where the
    /// frame's sandbox allows it. The Return URL is never loaded inside the frame.
    NavigateTop,
}

/// Read leniently (an unknown value is `Notify`: a newer server never breaks an older form), and
/// without serde's enum machinery, which the first-screen module would pay for.
impl<'de> Deserialize<'de> for FrameComplete {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(if s == "navigate_top" {
            FrameComplete::NavigateTop
        } else {
            FrameComplete::Notify
        })
    }
}

/// A command from the host, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// The handshake answer: pin the origin.
    Hello,
    /// Switch the interface language (one the form supports).
    SetLanguage(String),
    /// The host is closing the form: release the camera and send `cancel`.
    Close,
}

/// Why an inbound message was ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("not from the parent window")]
    NotParent,
    #[error("origin not allowed")]
    Origin,
    #[error("not a Liveform host message")]
    NotOurs,
    #[error("unsupported protocol version")]
    Version,
    #[error("wrong nonce")]
    Nonce,
    #[error("unknown command")]
    Unknown,
    #[error("bad payload")]
    Payload,
    #[error("no handshake yet")]
    NoHandshake,
}

#[derive(Deserialize)]
struct Wire {
    source: String,
    version: u32,
    #[serde(rename = "type")]
    kind: String,
    nonce: String,
    #[serde(default)]
    payload: Option<WirePayload>,
}

#[derive(Deserialize)]
struct WirePayload {
    #[serde(default)]
    lang: Option<String>,
}

/// Whether `origin` (as the browser reports `MessageEvent.origin`) is one of `allowed` (the
/// server's normalised `scheme://host[:port]` list). Exact match, case-insensitive; the opaque
/// origin `"null"` never matches.
pub fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    origin != "null" && allowed.iter().any(|a| a.eq_ignore_ascii_case(origin))
}

/// The host's side of the connection as the form sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// The project's allowed origins.
    pub allowed: Vec<String>,
    /// The nonce sent with `ready`.
    pub nonce: String,
    /// The origin pinned by the handshake.
    pub pinned: Option<String>,
}

impl Link {
    pub fn new(allowed: Vec<String>, nonce: String) -> Self {
        Link {
            allowed,
            nonce,
            pinned: None,
        }
    }

    /// Where messages go now: the pinned origin, or every allowed one before the handshake.
    pub fn targets(&self) -> Vec<String> {
        match &self.pinned {
            Some(o) => vec![o.clone()],
            None => self.allowed.clone(),
        }
    }

    /// Validates one inbound message (`data_json` = `JSON.stringify(event.data)`); a `hello`
    /// pins the origin. `languages` are the ones the form can switch to.
    pub fn receive(
        &mut self,
        origin: &str,
        from_parent: bool,
        data_json: &str,
        languages: &[&str],
    ) -> Result<Inbound, InboundError> {
        if !from_parent {
            return Err(InboundError::NotParent);
        }
        if !origin_allowed(origin, &self.allowed) {
            return Err(InboundError::Origin);
        }
        if let Some(p) = &self.pinned {
            if !p.eq_ignore_ascii_case(origin) {
                return Err(InboundError::Origin);
            }
        }
        if data_json.len() > MAX_INBOUND_LEN {
            return Err(InboundError::NotOurs);
        }
        let w: Wire = serde_json::from_str(data_json).map_err(|_| InboundError::NotOurs)?;
        if w.source != HOST_SOURCE {
            return Err(InboundError::NotOurs);
        }
        if w.version != VERSION {
            return Err(InboundError::Version);
        }
        if self.nonce.is_empty() || w.nonce != self.nonce {
            return Err(InboundError::Nonce);
        }
        let cmd = match w.kind.as_str() {
            "hello" => Inbound::Hello,
            "set_language" => {
                let lang = w
                    .payload
                    .and_then(|p| p.lang)
                    .ok_or(InboundError::Payload)?;
                if !languages.contains(&lang.as_str()) {
                    return Err(InboundError::Payload);
                }
                Inbound::SetLanguage(lang)
            }
            "close" => Inbound::Close,
            _ => return Err(InboundError::Unknown),
        };
        if cmd == Inbound::Hello {
            self.pinned = Some(origin.to_owned());
        } else if self.pinned.is_none() {
            return Err(InboundError::NoHandshake);
        }
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "https://shop.example";
    const LANGS: &[&str] = &["en", "ko", "ja", "ar"];

    fn link() -> Link {
        Link::new(
            vec![HOST.into(), "http://127.0.0.1:9000".into()],
            "n0nce".into(),
        )
    }

    fn msg(kind: &str, nonce: &str, payload: &str) -> String {
        format!(
            r#"{{"source":"liveform-host","version":1,"type":"{kind}","nonce":"{nonce}","payload":{payload}}}"#
        )
    }

    #[test]
    fn envelopes_follow_the_schema() {
        let e = envelope(EventType::Step, r#"{"step":"selfie","index":4,"total":6}"#);
        let v: serde_json::Value = serde_json::from_str(&e).expect("json");
        assert_eq!(v["source"], "liveform");
        assert_eq!(v["version"], 1);
        assert_eq!(v["type"], "step");
        assert_eq!(v["payload"]["step"], "selfie");
        let c = Complete {
            status: "pending".into(),
            submission_id: "abc".into(),
            return_url: Some("https://shop.example/done?x=1".into()),
        };
        let e = envelope(
            EventType::Complete,
            &serde_json::to_string(&c).expect("json"),
        );
        let v: serde_json::Value = serde_json::from_str(&e).expect("json");
        assert_eq!(v["payload"]["submissionId"], "abc");
        assert_eq!(v["payload"]["returnUrl"], "https://shop.example/done?x=1");
        let k = Cancel {
            reason: "person".into(),
            code: Some("SE-50021".into()),
            return_url: None,
        };
        let v: serde_json::Value = serde_json::to_value(&k).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"reason": "person", "code": "SE-50021"})
        );
        for t in [
            EventType::Ready,
            EventType::Step,
            EventType::Error,
            EventType::Complete,
            EventType::Cancel,
            EventType::Resize,
        ] {
            assert!(envelope(t, "{}").contains(&format!(r#""type":"{}""#, t.as_str())));
        }
    }

    #[test]
    fn origins_match_exactly() {
        let allowed = vec![HOST.to_owned()];
        assert!(origin_allowed("https://shop.example", &allowed));
        assert!(origin_allowed("https://SHOP.example", &allowed));
        assert!(!origin_allowed("http://shop.example", &allowed));
        assert!(!origin_allowed("https://shop.example:8443", &allowed));
        assert!(!origin_allowed("https://evil.shop.example", &allowed));
        assert!(!origin_allowed("https://shop.example.evil", &allowed));
        assert!(!origin_allowed("null", &allowed));
        assert!(!origin_allowed("null", &["null".to_owned()]));
        assert!(!origin_allowed("https://shop.example", &[]));
    }

    #[test]
    fn before_the_handshake_messages_go_to_every_allowed_origin() {
        let mut l = link();
        assert_eq!(l.targets().len(), 2);
        assert_eq!(
            l.receive(HOST, true, &msg("hello", "n0nce", "{}"), LANGS),
            Ok(Inbound::Hello)
        );
        assert_eq!(l.targets(), vec![HOST.to_owned()]);
        assert_eq!(l.pinned.as_deref(), Some(HOST));
    }

    #[test]
    fn commands_need_the_handshake_the_parent_the_origin_and_the_nonce() {
        let mut l = link();
        let close = msg("close", "n0nce", "{}");
        assert_eq!(
            l.receive(HOST, true, &close, LANGS),
            Err(InboundError::NoHandshake)
        );
        assert_eq!(
            l.receive(HOST, true, &msg("hello", "other", "{}"), LANGS),
            Err(InboundError::Nonce)
        );
        assert_eq!(
            l.receive(
                "https://evil.example",
                true,
                &msg("hello", "n0nce", "{}"),
                LANGS
            ),
            Err(InboundError::Origin)
        );
        assert_eq!(
            l.receive(HOST, false, &msg("hello", "n0nce", "{}"), LANGS),
            Err(InboundError::NotParent)
        );
        assert!(l.pinned.is_none(), "nothing above pinned an origin");
        l.receive(HOST, true, &msg("hello", "n0nce", "{}"), LANGS)
            .expect("hello");
        // Pinned: another allowed origin is now refused.
        assert_eq!(
            l.receive("http://127.0.0.1:9000", true, &close, LANGS),
            Err(InboundError::Origin)
        );
        assert_eq!(l.receive(HOST, true, &close, LANGS), Ok(Inbound::Close));
        assert_eq!(
            l.receive(HOST, true, &msg("close", "stale", "{}"), LANGS),
            Err(InboundError::Nonce)
        );
    }

    #[test]
    fn commands_are_validated() {
        let mut l = link();
        l.receive(HOST, true, &msg("hello", "n0nce", "{}"), LANGS)
            .expect("hello");
        assert_eq!(
            l.receive(
                HOST,
                true,
                &msg("set_language", "n0nce", r#"{"lang":"ko"}"#),
                LANGS
            ),
            Ok(Inbound::SetLanguage("ko".into()))
        );
        assert_eq!(
            l.receive(
                HOST,
                true,
                &msg("set_language", "n0nce", r#"{"lang":"xx"}"#),
                LANGS
            ),
            Err(InboundError::Payload)
        );
        assert_eq!(
            l.receive(HOST, true, &msg("set_language", "n0nce", "{}"), LANGS),
            Err(InboundError::Payload)
        );
        assert_eq!(
            l.receive(HOST, true, &msg("navigate", "n0nce", "{}"), LANGS),
            Err(InboundError::Unknown)
        );
        assert_eq!(
            l.receive(HOST, true, r#""hello""#, LANGS),
            Err(InboundError::NotOurs)
        );
        assert_eq!(
            l.receive(
                HOST,
                true,
                r#"{"source":"other","version":1,"type":"close","nonce":"n0nce"}"#,
                LANGS
            ),
            Err(InboundError::NotOurs)
        );
        assert_eq!(
            l.receive(
                HOST,
                true,
                r#"{"source":"liveform-host","version":2,"type":"close","nonce":"n0nce"}"#,
                LANGS
            ),
            Err(InboundError::Version)
        );
        let long = msg(
            "close",
            "n0nce",
            &format!(r#"{{"pad":"{}"}}"#, "x".repeat(2000)),
        );
        assert_eq!(
            l.receive(HOST, true, &long, LANGS),
            Err(InboundError::NotOurs)
        );
    }

    #[test]
    fn frame_complete_reads_leniently() {
        let r = |s: &str| serde_json::from_str::<FrameComplete>(s).expect("json");
        assert_eq!(r(r#""navigate_top""#), FrameComplete::NavigateTop);
        assert_eq!(r(r#""notify""#), FrameComplete::Notify);
        assert_eq!(r(r#""something_new""#), FrameComplete::Notify);
        assert_eq!(
            serde_json::to_string(&FrameComplete::NavigateTop).expect("json"),
            r#""navigate_top""#
        );
    }

    #[test]
    fn an_empty_nonce_never_matches() {
        let mut l = Link::new(vec![HOST.into()], String::new());
        assert_eq!(
            l.receive(HOST, true, &msg("hello", "", "{}"), LANGS),
            Err(InboundError::Nonce)
        );
    }
}
