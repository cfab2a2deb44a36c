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

/// Runs `liveform ARGS` until one of its output lines (stdout or stderr, as `from_stderr` says)
/// contains `needle` or 60 s pass, then stops it; returns what it wrote there.
fn output_until(args: &[&str], from_stderr: bool, needle: &str) -> String {
    use std::io::BufRead as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_liveform"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run liveform");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let reader: Box<dyn std::io::Read + Send> = if from_stderr {
        Box::new(err)
    } else {
        Box::new(out)
    };
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut text = String::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
                if line.contains(needle) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    text
}

const ECB_RETURN: &str = "[[project]]\npid = \"shop\"\nkey = \"shop-key-123\"\nalgorithm = \"ecb\"\n\
    return_url = \"https://shop.example/r\"\nreturn_encrypted = true\nreturn_fields = [\"userid\"]\n\
    [[project]]\npid = \"safe\"\nkey = \"safe-key-123\"\nalgorithm = \"gcm\"\n";

#[test]
fn check_config_warns_about_each_ecb_project() {
    let p = write_config("ecbwarn", ECB_RETURN);
    let o = liveform(&["check-config", p.to_str().unwrap()]);
    assert!(o.status.success(), "still valid: {}", stderr(&o));
    let out = stdout(&o);
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{out}");
    assert!(
        warnings[0].contains("project \"shop\"")
            && warnings[0].contains("cut out")
            && warnings[0].contains("allowedCountries")
            && warnings[0].contains("startValidUntil")
            && warnings[0].contains("gcm"),
        "{out}"
    );
    assert!(
        warnings[1].contains("Return URL") && warnings[1].contains("valid link"),
        "{out}"
    );
    assert!(!out.contains("\"safe\""), "no warning for GCM: {out}");
    // A GCM-only file: no warning at all.
    let g = write_config(
        "gcmonly",
        "[[project]]\npid = \"g\"\nkey = \"g-key-12345\"\nalgorithm = \"gcm\"\n",
    );
    let o = liveform(&["check-config", g.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(!stdout(&o).contains("warning"), "{}", stdout(&o));
    let _ = std::fs::remove_file(p);
    let _ = std::fs::remove_file(g);
}

#[test]
fn serve_logs_the_ecb_warning_at_start_up() {
    let p = write_config("ecbserve", ECB_RETURN);
    let data = std::env::temp_dir().join(format!("liveform-cli-{}-ecbdata", std::process::id()));
    let log = output_until(
        &[
            "serve",
            "--config",
            p.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--data",
            data.to_str().unwrap(),
            "--dist",
            "/nonexistent-dist",
        ],
        true,
        "no integrity",
    );
    assert!(
        log.contains("WARN") && log.contains("project \"shop\"") && log.contains("cut out"),
        "{log}"
    );
    let _ = std::fs::remove_file(p);
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn demo_prints_the_gcm_link_first_and_ecb_as_compatibility_mode() {
    let out = output_until(
        &[
            "demo",
            "--addr",
            "127.0.0.1:0",
            "--dist",
            "/nonexistent-dist",
        ],
        false,
        "Stop with Ctrl-C",
    );
    if let Some(dir) = out
        .lines()
        .find_map(|l| l.strip_prefix("liveform: demo data (captures, submissions) in "))
    {
        let _ = std::fs::remove_dir_all(dir.trim());
    }
    let links: Vec<&str> = out.lines().filter(|l| l.contains("?pid=")).collect();
    assert!(!links.is_empty(), "{out}");
    assert!(
        links[0].contains("encrypted (GCM)") && links[0].contains("pid=demo-gcm"),
        "GCM first: {out}"
    );
    let ecb = links
        .iter()
        .find(|l| l.contains("ECB"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(ecb.contains("compatibility mode"), "{out}");
}
