//! `core::capture::constraints`: the JS shapes per platform and facing mode, and the retry.

use liveform_core::capture::constraints::Constrain;
use liveform_core::capture::ua::DesktopOs;
use liveform_core::capture::{Facing, Platform, VideoConstraints};
use serde_json::{json, Value};

fn js(platform: Platform, facing: Facing) -> Value {
    serde_json::to_value(VideoConstraints::for_capture(platform, facing)).unwrap()
}

const DESKTOPS: [Platform; 5] = [
    Platform::Desktop(DesktopOs::Mac),
    Platform::Desktop(DesktopOs::Windows),
    Platform::Desktop(DesktopOs::Linux),
    Platform::Desktop(DesktopOs::ChromeOs),
    Platform::Desktop(DesktopOs::Other),
];

#[test]
fn ios_asks_for_a_width_only() {
    assert_eq!(
        js(Platform::Ios, Facing::Environment),
        json!({"facingMode": {"exact": "environment"}, "width": {"ideal": 1920}})
    );
    assert_eq!(
        js(Platform::Ios, Facing::User),
        json!({"facingMode": {"exact": "user"}, "width": {"ideal": 1280}})
    );
    for f in [Facing::Environment, Facing::User] {
        let v = js(Platform::Ios, f);
        assert!(v.get("height").is_none());
        assert!(v.get("aspectRatio").is_none());
    }
}

#[test]
fn android_rear_is_1080p_environment() {
    assert_eq!(
        js(Platform::Android, Facing::Environment),
        json!({
            "facingMode": {"exact": "environment"},
            "width": {"ideal": 1920},
            "height": {"ideal": 1080}
        })
    );
    assert_eq!(
        js(Platform::Android, Facing::User),
        json!({
            "facingMode": {"exact": "user"},
            "width": {"ideal": 1280},
            "height": {"ideal": 720}
        })
    );
}

#[test]
fn desktop_is_1280_wide_with_a_preferred_facing_mode() {
    for p in DESKTOPS {
        assert_eq!(
            js(p, Facing::Environment),
            json!({"facingMode": {"ideal": "environment"}, "width": {"ideal": 1280}})
        );
        assert_eq!(
            js(p, Facing::User),
            json!({"facingMode": {"ideal": "user"}, "width": {"ideal": 1280}})
        );
    }
}

#[test]
fn sizes_are_never_hard_requirements() {
    let mut all = vec![Platform::Ios, Platform::Android];
    all.extend(DESKTOPS);
    for p in all {
        for f in [Facing::Environment, Facing::User] {
            let c = VideoConstraints::for_capture(p, f);
            assert!(matches!(c.width, Some(Constrain::Ideal(_))), "{p:?} {f:?}");
            assert!(
                matches!(c.height, None | Some(Constrain::Ideal(_))),
                "{p:?} {f:?}"
            );
            assert_eq!(c.device_id, None);
            assert_eq!(c.facing_mode.as_ref().map(|m| *m.value()), Some(f));
        }
    }
}

#[test]
fn looser_drops_sizes_and_keeps_the_facing_mode_as_a_preference() {
    let first = VideoConstraints::for_capture(Platform::Android, Facing::Environment);
    assert!(!first.is_loosest());
    let l = first.looser();
    assert_eq!(
        serde_json::to_value(&l).unwrap(),
        json!({"facingMode": {"ideal": "environment"}})
    );
    assert!(l.is_loosest());
    assert_eq!(l.looser(), l);
    let ios = VideoConstraints::for_capture(Platform::Ios, Facing::User).looser();
    assert_eq!(
        serde_json::to_value(&ios).unwrap(),
        json!({"facingMode": {"ideal": "user"}})
    );
}

#[test]
fn a_chosen_camera_is_exact_and_the_facing_mode_only_preferred() {
    let c = VideoConstraints::for_capture(Platform::Ios, Facing::Environment).with_device("abc");
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({
            "deviceId": {"exact": "abc"},
            "facingMode": {"ideal": "environment"},
            "width": {"ideal": 1920}
        })
    );
    // The retry keeps the camera as a preference (it may have been unplugged).
    assert_eq!(
        serde_json::to_value(c.looser()).unwrap(),
        json!({"deviceId": {"ideal": "abc"}, "facingMode": {"ideal": "environment"}})
    );
}

#[test]
fn the_whole_argument_has_no_audio() {
    let s = VideoConstraints::for_capture(Platform::Android, Facing::User).stream();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["audio"], json!(false));
    assert_eq!(v["video"]["facingMode"], json!({"exact": "user"}));
}

#[test]
fn round_trips() {
    let c = VideoConstraints::for_capture(Platform::Android, Facing::Environment).with_device("d");
    let back: VideoConstraints = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let sparse: VideoConstraints = serde_json::from_value(json!({})).unwrap();
    assert!(sparse.is_loosest());
}

#[test]
fn facing_strings() {
    assert_eq!(Facing::Environment.as_str(), "environment");
    assert_eq!(Facing::parse("user"), Some(Facing::User));
    assert_eq!(Facing::parse("left"), None);
    assert_eq!(
        serde_json::to_value(Facing::Environment).unwrap(),
        json!("environment")
    );
}
