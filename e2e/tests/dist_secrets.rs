//! The built SPA must carry no project key: scans every file of dist/ (binary-safe) for every key
//! found in the repository's configs (server/demo.toml, test configs in server/ and e2e/, the
//! ARGOS vector key), as text and as its SHA-256 (hex either case, Base64, raw bytes).

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "target" && n != "node_modules")
            {
                files(&p, exts, out);
            }
        } else if exts.is_empty()
            || p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
        {
            out.push(p);
        }
    }
}

/// Every `key = "…"` value in TOML configs and in test sources that embed TOML.
fn keys() -> Vec<String> {
    let ws = workspace();
    let mut sources = Vec::new();
    for d in ["server", "e2e", "core/tests"] {
        files(&ws.join(d), &["toml", "rs", "json"], &mut sources);
    }
    let mut keys = Vec::new();
    for f in sources {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for line in text.lines() {
            let l = line.trim();
            let rest = l
                .strip_prefix("key = \"")
                .or_else(|| l.strip_prefix("api_key = \""))
                .or_else(|| l.strip_prefix("storage_key = \""))
                .or_else(|| l.strip_prefix("webhook_secret = \""))
                .or_else(|| l.strip_prefix("\"keyString\": \""))
                .or_else(|| l.strip_prefix("key = r\""));
            if let Some(rest) = rest {
                if let Some(end) = rest.find('"') {
                    let k = &rest[..end];
                    if k.len() >= 8 && !keys.iter().any(|x| x == k) {
                        keys.push(k.to_owned());
                    }
                }
            }
        }
    }
    keys
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn dist_contains_no_project_key_nor_its_sha256() {
    let dist = std::env::var_os("LIVEFORM_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("dist"));
    assert!(
        dist.join("index.html").is_file(),
        "no {}/index.html: run scripts/build-spa.sh",
        dist.display()
    );
    let keys = keys();
    assert!(
        keys.iter().any(|k| k == "liveform-demo-key-ecb-not-secret"),
        "demo keys found: {keys:?}"
    );
    assert!(keys.len() >= 4, "keys found: {keys:?}");
    let mut dist_files = Vec::new();
    files(&dist, &[], &mut dist_files);
    assert!(dist_files
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "wasm")));
    use base64::Engine as _;
    for key in &keys {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let needles: Vec<Vec<u8>> = vec![
            key.as_bytes().to_vec(),
            hex.as_bytes().to_vec(),
            hex.to_uppercase().into_bytes(),
            base64::engine::general_purpose::STANDARD
                .encode(digest)
                .into_bytes(),
            digest.to_vec(),
        ];
        for f in &dist_files {
            let bytes = std::fs::read(f).unwrap();
            for n in &needles {
                assert!(
                    !contains(&bytes, n),
                    "{} contains key material of {key:?}",
                    f.display()
                );
            }
        }
    }
    println!(
        "scanned {} dist files for {} keys (text, SHA-256 hex/Base64/raw)",
        dist_files.len(),
        keys.len()
    );
}
