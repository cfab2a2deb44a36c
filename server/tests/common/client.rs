//! The forged client of issue 14 (nothing but HTTP over loopback) and its project: `auto`, an
//! ECB project with a results API key, `auto_decision = "approved"` and the liveness challenges
//! closer / back (the ones a genuine attempt can be made of from one photo). Shared by
//! `forged.rs` and the attacker suite (`attacker.rs`).

use liveform_core::api::LIVENESS_PATH;
use liveform_core::liveness::Challenge;

use super::{open_attempt, post_session, put_capture, selfie_jpeg, Resp, TestServer};

pub const API_KEY: &str = "forged-api-key-0123456789";
/// The `auto` project's key (its links are ECB).
pub const PROJECT_KEY: &str = "auto-project-key-12345";
pub const SEQ: [Challenge; 2] = [Challenge::Closer, Challenge::Back];

/// The server and the `auto` project (the last table: lines appended to it are the project's).
pub fn config() -> String {
    let server = super::server_table("");
    format!(
        r#"{server}
[[project]]
pid = "auto"
key = "{PROJECT_KEY}"
algorithm = "ecb"
api_key = "{API_KEY}"
auto_decision = "approved"
liveness_challenges = ["closer", "back"]
"#
    )
}

/// A person's session of the `auto` project, the country and document chosen (KOR, passport).
pub struct Client<'a> {
    pub s: &'a TestServer,
    pub token: String,
    pub userid: String,
}

impl<'a> Client<'a> {
    /// Opens an ECB link carrying only `userid`.
    pub async fn open(s: &'a TestServer, userid: &str) -> Client<'a> {
        let json = format!(r#"{{"userid":"{userid}"}}"#);
        Self::open_link(s, &json, userid).await
    }

    /// Opens an ECB link whose `encrypted` JSON is `json` (for `userid`).
    pub async fn open_link(s: &'a TestServer, json: &str, userid: &str) -> Client<'a> {
        let q = format!(
            "pid=auto&encrypted={}",
            super::enc(liveform_core::Algorithm::Ecb, PROJECT_KEY, json)
        );
        Client {
            s,
            token: super::open_passport(s, &q).await,
            userid: userid.into(),
        }
    }

    pub async fn put(&self, id: &str, slot: &str, ct: &str, body: &[u8]) -> Resp {
        put_capture(self.s, &self.token, id, slot, ct, body).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Resp {
        post_session(self.s, &self.token, path, body).await
    }

    pub async fn open_attempt(&self) -> String {
        open_attempt(self.s, &self.token).await
    }

    pub async fn record(&self, body: &str) -> Resp {
        self.post(LIVENESS_PATH, body).await
    }

    pub async fn finish(&self) -> Resp {
        self.post("/api/session/finish", "").await
    }

    /// The results API's item for this person.
    pub async fn result(&self) -> serde_json::Value {
        let r = self
            .s
            .request(
                "GET",
                &format!("/v3/submission?userid={}", self.userid),
                &[("x-api-key", API_KEY)],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["Items"][0].clone()
    }
}

/// Stores a valid front (the passport scene) and selfie for `c`.
pub async fn good_captures(c: &Client<'_>) {
    let scene = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/media/passport_scene_640x480.png"
    ))
    .expect("passport scene");
    let r = c.put("front", "document_front", "image/png", &scene).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["check"]["ok"], true, "{}", r.text());
    let r = c
        .put("selfie", "selfie", "image/jpeg", &selfie_jpeg())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["check"]["ok"], true, "{}", r.text());
}
