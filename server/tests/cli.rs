//! The `liveform` binary: link encrypt/decrypt (ARGOS vectors, round trips, failures), config
//! checks naming the bad field, and `serve` refusing a bad config without panicking.

use std::process::{Command, Output};

fn liveform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liveform"))
        .args(args)
        .env_remove("LIVEFORM_KEY")
        .output()
        .expect("run liveform")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim_end().to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    key_string: String,
    plaintext: String,
    ecb_base64: String,
    ecb_url_encoded: String,
    gcm_hex: String,
    example_url_ecb: Option<String>,
}

#[test]
fn decrypt_reproduces_every_argos_vector() {
    let v: Vectors =
        serde_json::from_str(include_str!("../../core/tests/data/argos-vectors.json")).unwrap();
    let cases = [
        ("ecb", v.ecb_base64.clone()),
        ("ecb", v.ecb_url_encoded.clone()),
        ("ecb", v.example_url_ecb.clone().unwrap()),
        ("gcm", v.gcm_hex.clone()),
        ("gcm", v.gcm_hex.to_uppercase()),
    ];
    for (alg, ct) in cases {
        let o = liveform(&[
            "link",
            "decrypt",
            "--key",
            &v.key_string,
            "--algorithm",
            alg,
            &ct,
        ]);
        assert!(o.status.success(), "{alg} {ct}: {}", stderr(&o));
        assert_eq!(stdout(&o), v.plaintext, "{alg} {ct}");
    }
}

#[test]
fn encrypt_then_decrypt_round_trips() {
    let json = r#"{"userid":"user 1","allowedCountries":"USA,KOR","blacklistCountries":false}"#;
    for alg in ["ecb", "gcm"] {
        let o = liveform(&[
            "link",
            "encrypt",
            "--key",
            "my-api-key-1",
            "--algorithm",
            alg,
            "--json",
            json,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let ct = stdout(&o);
        let o = liveform(&[
            "link",
            "decrypt",
            "--key",
            "my-api-key-1",
            "--algorithm",
            alg,
            &ct,
        ]);
        assert_eq!(stdout(&o), json);

        let o = liveform(&[
            "link",
            "encrypt",
            "--key",
            "my-api-key-1",
            "--algorithm",
            alg,
            "--json",
            json,
            "--pid",
            "demo",
            "--base-url",
            "https://form.example",
        ]);
        let url = stdout(&o);
        assert!(
            url.starts_with("https://form.example/?pid=demo&encrypted="),
            "{url}"
        );
        let o = liveform(&[
            "link",
            "decrypt",
            "--key",
            "my-api-key-1",
            "--algorithm",
            alg,
            &url,
        ]);
        assert_eq!(stdout(&o), json, "a whole link decrypts too");
    }
    // The key may come from the environment instead of the command line.
    let o = Command::new(env!("CARGO_BIN_EXE_liveform"))
        .args(["link", "encrypt", "--algorithm", "ecb", "--json", "{}"])
        .env("LIVEFORM_KEY", "env-key-123")
        .output()
        .unwrap();
    assert!(o.status.success());
}

#[test]
fn failures_exit_non_zero_with_the_reason_on_stderr() {
    let ct = stdout(&liveform(&[
        "link",
        "encrypt",
        "--key",
        "right-key",
        "--algorithm",
        "gcm",
        "--json",
        "{}",
    ]));
    let o = liveform(&[
        "link",
        "decrypt",
        "--key",
        "wrong-key",
        "--algorithm",
        "gcm",
        &ct,
    ]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("cannot decrypt"), "{}", stderr(&o));
    let o = liveform(&[
        "link",
        "decrypt",
        "--key",
        "k",
        "--algorithm",
        "ecb",
        "not base64!",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("Base64"), "{}", stderr(&o));
    let o = liveform(&[
        "link",
        "encrypt",
        "--key",
        "k",
        "--algorithm",
        "ecb",
        "--json",
        "[1,2]",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("JSON object"));
    let o = liveform(&[
        "link",
        "encrypt",
        "--key",
        "k",
        "--algorithm",
        "cbc",
        "--json",
        "{}",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cbc"));
}

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("liveform-cli-{}-{name}.toml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "[[project]]\npid = \"p1\"\nkey = \"key-key-key\"\nalgorithm = \"ecb\"\n";

#[test]
fn config_problems_name_the_field() {
    let good = write_config("good", GOOD);
    let o = liveform(&["check-config", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cases = [
        (
            "unknown",
            format!("{GOOD}return_urls = \"https://x\"\n"),
            "return_urls",
        ),
        ("badalg", GOOD.replace("\"ecb\"", "\"rot13\""), "algorithm"),
        (
            "badfield",
            format!("{GOOD}blacklist_countries = [\"XX\"]\n"),
            "project[0].blacklist_countries",
        ),
        (
            "badserver",
            format!("[server]\nsessions_per_minute = -1\n{GOOD}"),
            "sessions_per_minute",
        ),
        (
            "badbase",
            format!("[server]\npublic_base_url = \"kyc.example.com\"\n{GOOD}"),
            "server.public_base_url",
        ),
        (
            "badhandoff",
            format!("[server]\nhandoff_minutes = 0\n{GOOD}"),
            "server.handoff_minutes",
        ),
        ("syntax", "[[project]\n".to_owned(), "TOML"),
    ];
    for (name, text, needle) in cases {
        let p = write_config(name, &text);
        for args in [
            vec!["check-config", p.to_str().unwrap()],
            vec![
                "serve",
                "--config",
                p.to_str().unwrap(),
                "--addr",
                "127.0.0.1:0",
            ],
        ] {
            let o = liveform(&args);
            assert!(!o.status.success(), "{name} {args:?}");
            let e = stderr(&o);
            assert!(
                e.contains(needle) || (needle == "TOML" && e.contains("expected")),
                "{name}: {e}"
            );
            assert!(!e.contains("panicked"), "{name}: {e}");
        }
        let _ = std::fs::remove_file(p);
    }
    let o = liveform(&["check-config", "/nonexistent/liveform.toml"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot read"));
    let _ = std::fs::remove_file(good);
}

#[test]
fn demo_refuses_a_public_address() {
    let o = liveform(&["demo", "--addr", "0.0.0.0:0"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("loopback"));
}

#[test]
fn published_tables_print() {
    assert!(stdout(&liveform(&["errors"])).contains("PV-40018"));
    assert!(stdout(&liveform(&["params"])).contains("startValidUntil"));
}

#[test]
fn inspect_prints_params_offer_and_steps_or_the_code() {
    let cfg = write_config(
        "inspect",
        "[[project]]\npid = \"acme\"\nkey = \"inspect-key-1\"\nalgorithm = \"gcm\"\nblacklist_countries = [\"PRK\"]\n",
    );
    let ct = stdout(&liveform(&[
        "link",
        "encrypt",
        "--key",
        "inspect-key-1",
        "--algorithm",
        "gcm",
        "--json",
        r#"{"allowedCountries":"KOR,JPN,PRK","userid":"u9"}"#,
    ]));
    let o = liveform(&[
        "link",
        "inspect",
        "--config",
        cfg.to_str().unwrap(),
        &format!("https://f.example/?pid=acme&encrypted={ct}"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["countries"], serde_json::json!(["JPN", "KOR"]));
    assert!(v["id_types"]["KOR"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "passport"));
    assert_eq!(v["params"]["userid"], "u9");
    assert_eq!(v["steps"][0], "consent");
    let o = liveform(&[
        "link",
        "inspect",
        "--config",
        cfg.to_str().unwrap(),
        "pid=acme&encrypted=abcd",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("LF-40003"), "{}", stderr(&o));
    let o = liveform(&[
        "link",
        "inspect",
        "--config",
        cfg.to_str().unwrap(),
        "pid=nope",
    ]);
    assert!(stderr(&o).contains("LF-40002"));
    let _ = std::fs::remove_file(cfg);
}
