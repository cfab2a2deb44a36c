//! The server's configuration: `liveform_config::parse` (TOML, then validation naming the
//! field), the URL and origin normalisers it applies, the storage-key reader and the per-project
//! ID-type CSV (`id_types_csv`) reader.
//!
//! Input: the file's text (UTF-8; other inputs are skipped, as `std::fs::read_to_string` would
//! refuse them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveform_config::{normalise_base_url, normalise_origin, parse, parse_storage_key};
use liveform_core::policy::SupportTable;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `id_types_csv` is read from the disk: keep the fuzzer away from device files.
    if ["/dev", "/proc", "/sys", "\\"]
        .iter()
        .any(|p| text.contains(p))
    {
        return;
    }
    let env = |name: &str| {
        let v = match name {
            "LF_KEY" => "from-the-environment-0123",
            "LF_STORAGE_KEY" => "222dae056b40df8d53cf4ebd2c7cadcb5621201ead1eb2c54b9b2fbf804560a4",
            "LF_DATABASE_URL" => "postgres://liveform@127.0.0.1:5432/liveform",
            _ => return None,
        };
        Some(v.to_owned())
    };
    if let Ok(cfg) = parse(text, env) {
        assert!(!cfg.projects.is_empty());
        let _ = cfg.warnings();
        for (i, p) in cfg.projects.iter().enumerate() {
            // pids are unique, so a lookup finds this project.
            assert!(std::ptr::eq(cfg.project(&p.pid).expect("pid"), p), "{i}");
            for o in &p.allowed_origins {
                check_origin(o);
            }
            for c in [&p.main_color, &p.inner_color].into_iter().flatten() {
                assert!(c.len() == 7 && c.starts_with('#'), "{c:?}");
            }
            if let Some(k) = &p.api_key {
                assert!(cfg.project_by_api_key(k).is_some());
            }
            if let Some(seq) = &p.liveness_challenges {
                assert!(liveform_core::liveness::validate_sequence(seq).is_ok());
            }
        }
        if let Some(u) = &cfg.server.public_base_url {
            assert_eq!(normalise_base_url(u).as_deref(), Ok(u.as_str()));
        }
    }
    // The normalisers on their own, each line as a candidate value.
    for line in text.lines().take(16) {
        if let Ok(o) = normalise_origin(line) {
            check_origin(&o);
        }
        if let Ok(u) = normalise_base_url(line) {
            assert_eq!(
                normalise_base_url(&u).as_deref(),
                Ok(u.as_str()),
                "{line:?}"
            );
            assert!(u.bytes().all(|b| b.is_ascii_graphic()), "{u:?}");
        }
        if let Some(k) = parse_storage_key(line) {
            assert_eq!(k.len(), 32);
        }
    }
    if let Ok(table) = SupportTable::from_csv(text) {
        if let Ok(builtin) = SupportTable::builtin() {
            let merged = builtin.with_override(&table);
            assert!(merged.len() >= builtin.len());
        }
    }
});

/// A normalised origin goes into the CSP's `frame-ancestors` and a quoted Permissions-Policy
/// entry: visible ASCII without separators, and normalising it again changes nothing.
fn check_origin(o: &str) {
    assert!(
        o.bytes()
            .all(|b| b.is_ascii_graphic() && !b";,'\"".contains(&b)),
        "{o:?}"
    );
    assert_eq!(normalise_origin(o).as_deref(), Ok(o), "not idempotent");
}
