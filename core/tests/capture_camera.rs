//! `core::capture::camera`: every `DOMException` name, the context flags, codes and recoveries.

use liveform_core::capture::camera::{precheck, should_retry_looser};
use liveform_core::capture::{CameraError, FailureContext, InApp, Recovery, UserAgent};
use liveform_core::errors::{ErrorCode, CATALOGUE};

fn plain(name: &str) -> CameraError {
    CameraError::from_dom(name, &FailureContext::default())
}

#[test]
fn names_map_to_errors_codes_and_recoveries() {
    use CameraError as E;
    let over = E::Overconstrained { constraint: None };
    let table: Vec<(&str, CameraError, &str, Recovery)> = vec![
        (
            "NotAllowedError",
            E::Denied,
            "LF-60101",
            Recovery::RetryAfterSettings,
        ),
        (
            "PermissionDeniedError",
            E::Denied,
            "LF-60101",
            Recovery::RetryAfterSettings,
        ),
        (
            "PermissionDismissedError",
            E::Dismissed,
            "LF-60103",
            Recovery::Retry,
        ),
        (
            "NotFoundError",
            E::NotFound,
            "LF-60105",
            Recovery::UseAnotherDevice,
        ),
        (
            "DevicesNotFoundError",
            E::NotFound,
            "LF-60105",
            Recovery::UseAnotherDevice,
        ),
        (
            "NotReadableError",
            E::InUse,
            "LF-60106",
            Recovery::CloseOtherApps,
        ),
        (
            "TrackStartError",
            E::InUse,
            "LF-60106",
            Recovery::CloseOtherApps,
        ),
        (
            "SourceUnavailableError",
            E::InUse,
            "LF-60106",
            Recovery::CloseOtherApps,
        ),
        (
            "OverconstrainedError",
            over.clone(),
            "LF-60107",
            Recovery::TryLooserConstraints,
        ),
        (
            "ConstraintNotSatisfiedError",
            over,
            "LF-60107",
            Recovery::TryLooserConstraints,
        ),
        (
            "SecurityError",
            E::Security,
            "LF-60108",
            Recovery::OpenInBrowser,
        ),
        ("AbortError", E::Aborted, "LF-60109", Recovery::Retry),
        (
            "TypeError",
            E::InvalidConstraints,
            "LF-60110",
            Recovery::TryLooserConstraints,
        ),
        (
            "NotSupportedError",
            E::NoMediaDevices,
            "LF-60111",
            Recovery::OpenInBrowser,
        ),
        (
            "InternalError",
            E::Unknown {
                name: "InternalError".into(),
            },
            "LF-60113",
            Recovery::Reload,
        ),
    ];
    for (name, want, id, recovery) in table {
        let got = plain(name);
        assert_eq!(got, want, "{name}");
        assert_eq!(got.code().id(), id, "{name}");
        assert_eq!(got.recovery(), recovery, "{name}");
        assert!(!got.to_string().is_empty());
    }
}

#[test]
fn chrome_messages_tell_system_and_dismissed_apart() {
    let ctx = |message| FailureContext {
        message,
        ..Default::default()
    };
    let e = CameraError::from_dom("NotAllowedError", &ctx("Permission denied by system"));
    assert_eq!(e, CameraError::DeniedBySystem);
    assert_eq!(e.code().id(), "LF-60102");
    assert_eq!(e.recovery(), Recovery::RetryAfterSettings);
    let e = CameraError::from_dom("NotAllowedError", &ctx("Permission dismissed"));
    assert_eq!(e, CameraError::Dismissed);
    assert_eq!(e.recovery(), Recovery::Retry);
    // Firefox and Safari say the same words for everything: a denial.
    for m in [
        "Permission denied",
        "The request is not allowed by the user agent or the platform in the current context.",
        "The request is not allowed by the user agent or the platform in the current context, possibly because the user denied permission.",
        "",
    ] {
        assert_eq!(
            CameraError::from_dom("NotAllowedError", &ctx(m)),
            CameraError::Denied,
            "{m}"
        );
    }
}

#[test]
fn the_policy_flag_turns_a_denial_into_an_integrator_problem() {
    let ctx = FailureContext {
        policy_blocked: true,
        ..Default::default()
    };
    for name in ["NotAllowedError", "PermissionDeniedError", "SecurityError"] {
        let e = CameraError::from_dom(name, &ctx);
        assert_eq!(e, CameraError::BlockedByPolicy, "{name}");
        assert_eq!(e.code().id(), "LF-60104");
        assert_eq!(e.recovery(), Recovery::AskIntegrator);
    }
    // Other failures keep their meaning.
    assert_eq!(
        CameraError::from_dom("NotReadableError", &ctx),
        CameraError::InUse
    );
    assert_eq!(
        CameraError::from_dom("NotFoundError", &ctx),
        CameraError::NotFound
    );
    // The policy comes first, even inside an in-app browser.
    let both = FailureContext {
        policy_blocked: true,
        in_app: Some(InApp::AndroidWebView),
        ..Default::default()
    };
    assert_eq!(
        CameraError::from_dom("NotAllowedError", &both),
        CameraError::BlockedByPolicy
    );
}

#[test]
fn inside_an_in_app_browser_a_denial_or_no_camera_means_leave() {
    let ctx = FailureContext {
        in_app: Some(InApp::Telegram),
        message: "Permission denied",
        ..Default::default()
    };
    for name in [
        "NotAllowedError",
        "PermissionDeniedError",
        "PermissionDismissedError",
        "NotFoundError",
        "DevicesNotFoundError",
    ] {
        let e = CameraError::from_dom(name, &ctx);
        assert_eq!(
            e,
            CameraError::InAppBrowser {
                app: InApp::Telegram
            },
            "{name}"
        );
        assert_eq!(e.code().id(), "LF-60112");
        assert_eq!(e.recovery(), Recovery::OpenInBrowser);
    }
    assert_eq!(
        CameraError::from_dom("NotReadableError", &ctx),
        CameraError::InUse
    );
}

#[test]
fn overconstrained_keeps_the_constraint_name() {
    let ctx = FailureContext {
        constraint: Some("facingMode"),
        ..Default::default()
    };
    assert_eq!(
        CameraError::from_dom("OverconstrainedError", &ctx),
        CameraError::Overconstrained {
            constraint: Some("facingMode".into())
        }
    );
    assert!(CameraError::from_dom("OverconstrainedError", &ctx)
        .to_string()
        .contains("facingMode"));
    let empty = FailureContext {
        constraint: Some(""),
        ..Default::default()
    };
    assert_eq!(
        CameraError::from_dom("OverconstrainedError", &empty),
        CameraError::Overconstrained { constraint: None }
    );
}

#[test]
fn unknown_names_are_bounded() {
    let long = "X".repeat(1000);
    match plain(&long) {
        CameraError::Unknown { name } => assert_eq!(name.len(), 64),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        plain(""),
        CameraError::Unknown {
            name: String::new()
        }
    );
}

#[test]
fn looser_retry_for_constraint_and_start_failures_only() {
    let retry: Vec<String> = [
        "NotAllowedError",
        "PermissionDismissedError",
        "NotFoundError",
        "NotReadableError",
        "OverconstrainedError",
        "SecurityError",
        "AbortError",
        "TypeError",
        "NotSupportedError",
        "Whatever",
    ]
    .into_iter()
    .filter(|n| should_retry_looser(&plain(n)))
    .map(str::to_owned)
    .collect();
    assert_eq!(
        retry,
        [
            "NotReadableError",
            "OverconstrainedError",
            "AbortError",
            "TypeError"
        ]
    );
    assert!(!should_retry_looser(&CameraError::InAppBrowser {
        app: InApp::Instagram
    }));
    assert!(!should_retry_looser(&CameraError::BlockedByPolicy));
}

/// Every camera code: in the catalogue, `LF-601xx`, `error-camera-…`, reachable from an error.
#[test]
fn camera_codes_in_the_catalogue() {
    use CameraError as E;
    let all = [
        E::Denied,
        E::DeniedBySystem,
        E::Dismissed,
        E::BlockedByPolicy,
        E::NotFound,
        E::InUse,
        E::Overconstrained { constraint: None },
        E::Security,
        E::Aborted,
        E::InvalidConstraints,
        E::NoMediaDevices,
        E::InAppBrowser {
            app: InApp::Instagram,
        },
        E::Unknown { name: "x".into() },
    ];
    let codes: Vec<ErrorCode> = all.iter().map(CameraError::code).collect();
    let camera_rows: Vec<_> = CATALOGUE
        .iter()
        .filter(|e| e.id.starts_with("LF-601"))
        .collect();
    assert_eq!(camera_rows.len(), all.len());
    for row in camera_rows {
        assert!(codes.contains(&row.code), "{} unreachable", row.id);
        assert!(row.message_key.starts_with("error-camera-"), "{}", row.id);
        assert_eq!(row.http_status, 400);
    }
    // Distinct errors, distinct codes.
    let mut ids: Vec<&str> = codes.iter().map(|c| c.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len());
}

#[test]
fn errors_serialise_with_a_kind_tag() {
    let e = CameraError::InAppBrowser {
        app: InApp::KakaoTalk,
    };
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"kind": "in_app_browser", "app": "kakaotalk"})
    );
    assert_eq!(serde_json::from_value::<CameraError>(v).unwrap(), e);
    let v = serde_json::to_value(CameraError::Denied).unwrap();
    assert_eq!(v, serde_json::json!({"kind": "denied"}));
}

const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1";
const INSTAGRAM: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 290.0.0.13.76 (iPhone13,2; iOS 16_5; en_US; en-US; scale=3.00; 1170x2532; 497219404)";
const WEBVIEW: &str = "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36";
const OLD_CRIOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 13_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/83.0.4103.88 Mobile/15E148 Safari/604.1";

#[test]
fn prechecks() {
    let safari = UserAgent::parse(SAFARI);
    assert_eq!(precheck(&safari, true, false), Ok(()));
    assert_eq!(
        precheck(&safari, false, false),
        Err(CameraError::NoMediaDevices)
    );
    assert_eq!(
        precheck(&safari, true, true),
        Err(CameraError::BlockedByPolicy)
    );

    let ig = UserAgent::parse(INSTAGRAM);
    let in_app = Err(CameraError::InAppBrowser {
        app: InApp::Instagram,
    });
    assert_eq!(precheck(&ig, true, false), in_app);
    assert_eq!(precheck(&ig, false, true), in_app);

    // A generic WebView is tried; without mediaDevices it is the in-app error.
    let wv = UserAgent::parse(WEBVIEW);
    assert_eq!(precheck(&wv, true, false), Ok(()));
    assert_eq!(
        precheck(&wv, false, false),
        Err(CameraError::InAppBrowser {
            app: InApp::AndroidWebView
        })
    );

    // Chrome on iOS 13: no camera outside Safari, not an in-app browser.
    let old = UserAgent::parse(OLD_CRIOS);
    assert_eq!(
        precheck(&old, true, false),
        Err(CameraError::NoMediaDevices)
    );
}
