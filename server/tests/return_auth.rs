//! Issue 15: the authenticated Return URL (`return_authenticated = true`, Liveform's own option),
//! over loopback HTTP: a finished flow's Return URL carries a value that opens under the derived
//! key with the right fields, that no link accepts, and that the decrypt code published in
//! docs/api.md ("Authenticated Return URL", Python and Node.js) opens, while it refuses altered,
//! truncated, foreign and stale ones. Without the option the ECB value is ARGOS's, as before.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{jpeg, post_session, temp_dir, TestServer, START};
use liveform_core::returning::{self, ReturnSettings, ReturnValues};

const AUTH_KEY: &str = "auth-return-key-0123";
const ECB_KEY: &str = "ecb-return-key-0123";
const RETURN_BASE: &str = "https://shop.example/kyc/done?src=lf";

fn config() -> String {
    let server = common::server_table("");
    // Both projects return these fields, encrypted.
    let ret = format!(
        "return_url = \"{RETURN_BASE}\"\n\
         return_fields = [\"kycStatus\", \"userid\", \"submissionId\", \"cf1\", \"errorCode\"]\n\
         return_encrypted = true\n\
         active_liveness = false\n"
    );
    format!(
        r#"{server}
[[project]]
pid = "auth"
key = "{AUTH_KEY}"
algorithm = "gcm"
{ret}return_authenticated = true

[[project]]
pid = "ecb"
key = "{ECB_KEY}"
algorithm = "ecb"
{ret}"#
    )
}

/// Opens `query`, chooses a passport, uploads its front and a selfie and finishes: the answer
/// (`submission_id`, `status`, `return_url`) and the session token.
async fn finish_a_flow(s: &TestServer, query: &str) -> (serde_json::Value, String) {
    let token = common::open_passport(s, query).await;
    let img = jpeg(1280, 720);
    let r = common::capture_and_finish_with(s, &token, &img, &img).await;
    assert_eq!(r.status, 200, "{}", r.text());
    (r.json(), token)
}

/// The one `encrypted` parameter of `url`, form-urlencoded decoded.
fn encrypted_of(url: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    let q = q.split('#').next().unwrap();
    let found: Vec<String> = form_urlencoded::parse(q.as_bytes())
        .filter(|(k, _)| k == "encrypted")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(found.len(), 1, "{url}");
    found[0].clone()
}

/// Opens an authenticated value by hand, from the documented format: AES-256-GCM under
/// HKDF-SHA256(key, info "liveform return-url v1"), associated data "liveform return-url v1:pid",
/// `v1.` + Base64url(nonce ‖ ciphertext ‖ tag).
fn open_by_hand(key: &str, pid: &str, value: &str) -> Option<serde_json::Value> {
    let raw = URL_SAFE_NO_PAD.decode(value.strip_prefix("v1.")?).ok()?;
    if raw.len() < 28 {
        return None;
    }
    let k = returning::auth_key(key);
    let aad = format!("liveform return-url v1:{pid}");
    let plain = Aes256Gcm::new(&k.into())
        .decrypt(
            Nonce::from_slice(&raw[..12]),
            Payload {
                msg: &raw[12..],
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

#[tokio::test]
async fn a_finished_flows_return_url_is_authenticated_and_no_link() {
    let data = temp_dir("fin");
    let s = TestServer::start_stored(&config(), &data).await;
    let (done, token) = finish_a_flow(&s, "pid=auth&userid=u%2B1&cf1=order-9").await;
    let sid = done["submission_id"].as_str().unwrap().to_owned();
    assert_eq!(done["status"], "pending");
    let url = done["return_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{RETURN_BASE}&encrypted=v1.")),
        "{url}"
    );
    assert!(returning::is_under(RETURN_BASE, &url));
    let v = encrypted_of(&url);
    // URL-safe as it stands: nothing percent-encoded.
    assert!(url.ends_with(&format!("encrypted={v}")), "{url}");
    let expected = serde_json::json!({
        "kycStatus": "pending",
        "userid": "u+1",
        "submissionId": sid,
        "cf1": "order-9",
        "iat": START,
    });
    assert_eq!(open_by_hand(AUTH_KEY, "auth", &v), Some(expected.clone()));
    let plain = returning::open(AUTH_KEY, "auth", &v).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&plain).unwrap(),
        expected
    );
    // Not under the link key, not for another project, not under another key.
    assert!(liveform_core::launch::crypto::decrypt_gcm(AUTH_KEY, &v).is_err());
    assert_eq!(open_by_hand(AUTH_KEY, "ecb", &v), None);
    assert_eq!(open_by_hand(ECB_KEY, "auth", &v), None);

    // A repeated finish answers again: a fresh nonce, the time of this answer.
    s.advance(100);
    let r = post_session(&s, &token, "/api/session/finish", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let again = encrypted_of(r.json()["return_url"].as_str().unwrap());
    assert_ne!(again, v);
    let mut later = expected.clone();
    later["iat"] = serde_json::json!(START + 100);
    assert_eq!(open_by_hand(AUTH_KEY, "auth", &again), Some(later));

    // Replayed as a link, of this project or of an ECB one: refused (LF-40003), whatever the
    // parameter's encoding.
    for pid in ["auth", "ecb"] {
        for value in [
            v.clone(),
            form_urlencoded::byte_serialize(v.as_bytes()).collect(),
        ] {
            let r = s.open(&format!("pid={pid}&encrypted={value}")).await;
            assert_eq!((r.status, r.code().as_str()), (400, "LF-40003"), "{pid}");
        }
    }

    // Leaving from an error page, without a session: the error code, authenticated.
    let r = common::leave_without_session(&s, r#"{"error_code":"TK-10001","pid":"auth"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let left = r.json()["return_url"].as_str().unwrap().to_owned();
    assert_eq!(
        open_by_hand(AUTH_KEY, "auth", &encrypted_of(&left)),
        Some(serde_json::json!({"errorCode": "TK-10001", "iat": START + 100}))
    );
}

#[tokio::test]
async fn without_the_option_the_return_url_is_argos_ecb_as_before() {
    let data = temp_dir("ecb");
    let s = TestServer::start_stored(&config(), &data).await;
    let (done, _) = finish_a_flow(&s, "pid=ecb&userid=u%2B1&cf1=order-9").await;
    let sid = done["submission_id"].as_str().unwrap().to_owned();
    let url = done["return_url"].as_str().unwrap().to_owned();
    // Exactly what the ARGOS builder writes for these values (no `iat`, no version) ...
    let fields: Vec<String> = ["kycStatus", "userid", "submissionId", "cf1", "errorCode"]
        .into_iter()
        .map(String::from)
        .collect();
    let argos = returning::build(
        &ReturnSettings {
            url: RETURN_BASE,
            fields: &fields,
            encrypted: true,
            key: ECB_KEY,
        },
        &ReturnValues {
            kyc_status: Some("pending"),
            userid: Some("u+1"),
            submission_id: Some(&sid),
            cf1: Some("order-9"),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(url, argos);
    // ... which is AES-256-ECB(SHA-256(key)) of the JSON object, standard Base64, percent-encoded.
    let v = encrypted_of(&url);
    assert!(!v.starts_with("v1."), "{v}");
    let plain = liveform_core::launch::crypto::decrypt_ecb(ECB_KEY, &v).unwrap();
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        format!(
            r#"{{"cf1":"order-9","kycStatus":"pending","submissionId":"{sid}","userid":"u+1"}}"#
        )
    );
    assert_eq!(open_by_hand(ECB_KEY, "ecb", &v), None);
}

// --- The published decrypt code (docs/api.md), run as written ---------------------------------

/// The first fenced block in `lang` of the docs/api.md section "Authenticated Return URL".
fn doc_snippet(lang: &str) -> String {
    let doc = include_str!("../../docs/api.md");
    let start = doc
        .find("\n## Authenticated Return URL\n")
        .expect("docs/api.md has the section");
    let section = &doc[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let fence = format!("\n```{lang}\n");
    let from = section.find(&fence).expect("a snippet") + fence.len();
    let len = section[from..].find("\n```\n").expect("a closed snippet");
    section[from..from + len + 1].to_owned()
}

/// Whether `program` runs and, for Python, has the `cryptography` package. Missing: skipped
/// (a note on stderr) on a developer's machine, a failure in CI (scripts/ensure-tools.sh installs
/// it there).
fn available(program: &str, probe: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} {probe:?} failed: the docs' decrypt code cannot be checked \
             (scripts/ensure-tools.sh installs what it needs)"
        );
        eprintln!("skipped: {program} {probe:?} failed (run scripts/ensure-tools.sh)");
    }
    ok
}

/// One check of the published code: the URL, the key and pid it is opened with, the time.
struct Case {
    name: &'static str,
    url: String,
    key: &'static str,
    pid: &'static str,
    now: i64,
}

/// Runs `snippet` + `harness` with `program` on the cases (JSON on stdin); one line of JSON per
/// case: `{"ok": fields}` or `{"error": "…"}`.
fn run(
    program: &str,
    ext: &str,
    snippet: &str,
    harness: &str,
    cases: &[Case],
) -> Vec<serde_json::Value> {
    let dir = temp_dir(&format!("doc-{ext}"));
    let file = dir.join(format!("open_return_url.{ext}"));
    std::fs::write(&file, format!("{snippet}\n{harness}")).unwrap();
    let input: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| serde_json::json!({"url": c.url, "key": c.key, "pid": c.pid, "now": c.now}))
        .collect();
    let mut child = Command::new(program)
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::Value::from(input).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len(), "{program}");
    lines
}

const PYTHON_HARNESS: &str = r#"
import sys
for c in json.load(sys.stdin):
    try:
        print(json.dumps({"ok": open_return_url(c["url"], c["key"], c["pid"], now=c["now"])}))
    except Exception as e:
        print(json.dumps({"error": type(e).__name__ + ": " + str(e)}))
"#;

const NODE_HARNESS: &str = r#"
for (const c of JSON.parse(require("node:fs").readFileSync(0, "utf8"))) {
  try {
    console.log(JSON.stringify({ ok: openReturnUrl(c.url, c.key, c.pid, { now: c.now }) }));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
}
"#;

#[tokio::test]
async fn the_documented_decrypt_code_opens_it_and_refuses_tampering() {
    let data = temp_dir("doc");
    let s = TestServer::start_stored(&config(), &data).await;
    let (done, _) = finish_a_flow(&s, "pid=auth&userid=u%2B1&cf1=order-9").await;
    let sid = done["submission_id"].as_str().unwrap().to_owned();
    let url = done["return_url"].as_str().unwrap().to_owned();
    let v = encrypted_of(&url);
    let expected = serde_json::json!({
        "kycStatus": "pending",
        "userid": "u+1",
        "submissionId": sid,
        "cf1": "order-9",
        "iat": START,
    });
    let with_value = |value: &str| format!("{RETURN_BASE}&encrypted={value}");
    let raw = URL_SAFE_NO_PAD.decode(&v[3..]).unwrap();
    let flipped = |i: usize| {
        let mut t = raw.clone();
        t[i] ^= 0x01;
        with_value(&format!("v1.{}", URL_SAFE_NO_PAD.encode(&t)))
    };
    // A character of the text changed (to another of the alphabet).
    let mut chars: Vec<char> = v.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let retyped: String = chars.into_iter().collect();
    let (ecb_done, _) = finish_a_flow(&s, "pid=ecb&userid=u%2B1").await;
    let ecb_url = ecb_done["return_url"].as_str().unwrap().to_owned();

    let good = |name, now| Case {
        name,
        url: url.clone(),
        key: AUTH_KEY,
        pid: "auth",
        now,
    };
    let bad = |name, url: String| Case {
        name,
        url,
        key: AUTH_KEY,
        pid: "auth",
        now: START,
    };
    let cases = vec![
        good("as issued", START),
        good("10 s later", START + 10),
        good("stale", START + 601),
        good("from the future", START - 601),
        bad("nonce flipped", flipped(0)),
        bad("ciphertext flipped", flipped(12)),
        bad("tag flipped", flipped(raw.len() - 1)),
        bad("a character changed", with_value(&retyped)),
        bad("truncated by a character", with_value(&v[..v.len() - 1])),
        bad("truncated by 16 bytes", {
            with_value(&format!(
                "v1.{}",
                URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 16])
            ))
        }),
        bad("no version", with_value(&v[3..])),
        bad("another version", with_value(&format!("v2.{}", &v[3..]))),
        bad("an ECB Return URL", ecb_url),
        bad("no value", RETURN_BASE.to_owned()),
        Case {
            name: "another project",
            url: url.clone(),
            key: AUTH_KEY,
            pid: "ecb",
            now: START,
        },
        Case {
            name: "another key",
            url: url.clone(),
            key: ECB_KEY,
            pid: "auth",
            now: START,
        },
    ];
    let accepted = ["as issued", "10 s later"];
    let check = |program: &str, results: Vec<serde_json::Value>| {
        for (c, r) in cases.iter().zip(results) {
            eprintln!("{program}, {}: {r}", c.name);
            if accepted.contains(&c.name) {
                assert_eq!(r["ok"], expected, "{program}, {}: {r}", c.name);
            } else {
                assert!(
                    r.get("ok").is_none() && r["error"].is_string(),
                    "{program} accepted {}: {r}",
                    c.name
                );
            }
        }
    };

    let mut ran = Vec::new();
    if available("node", &["-e", "require('node:crypto').hkdfSync"]) {
        let results = run("node", "js", &doc_snippet("js"), NODE_HARNESS, &cases);
        check("node", results);
        ran.push("node");
    }
    if available(
        "python3",
        &["-c", "import cryptography.hazmat.primitives.ciphers.aead"],
    ) {
        let results = run(
            "python3",
            "py",
            &doc_snippet("python"),
            PYTHON_HARNESS,
            &cases,
        );
        check("python3", results);
        ran.push("python3");
    }
    eprintln!("the docs' decrypt code checked with: {ran:?}");
}

/// `liveform check-config`: the option alone is refused naming the field and the fix; with
/// `return_encrypted` it is valid and the ECB Return URL warning goes; that warning names it.
#[test]
fn check_config_explains_the_option() {
    let check = |tag: &str, text: &str| {
        let p = std::env::temp_dir().join(format!("lf-ra-{tag}-{}.toml", std::process::id()));
        std::fs::write(&p, text).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_liveform"))
            .args(["check-config", p.to_str().unwrap()])
            .env_remove("LIVEFORM_KEY")
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&p);
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let project = "[[project]]\npid = \"shop\"\nkey = \"shop-key-123\"\nalgorithm = \"ecb\"\n\
                   return_url = \"https://shop.example/r\"\nreturn_fields = [\"userid\"]\n";
    let (ok, _, err) = check("alone", &format!("{project}return_authenticated = true\n"));
    assert!(!ok);
    assert!(
        err.contains("project[0].return_authenticated") && err.contains("return_encrypted = true"),
        "{err}"
    );
    let (ok, out, err) = check(
        "both",
        &format!("{project}return_encrypted = true\nreturn_authenticated = true\n"),
    );
    assert!(ok, "{err}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "only the ECB links' warning: {out}");
    assert!(!warnings[0].contains("Return URL"), "{out}");
    let (ok, out, err) = check("ecb", &format!("{project}return_encrypted = true\n"));
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("Return URL") && l.contains("return_authenticated = true")),
        "{out}"
    );
}
