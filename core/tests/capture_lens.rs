//! `core::capture::lens`: realistic camera lists (labels as browsers report them).

use liveform_core::capture::lens::{rank, CameraDevice, Exclusion, LensKind, Remembered};
use liveform_core::capture::Facing;

fn dev(id: &str, label: &str) -> CameraDevice {
    CameraDevice {
        device_id: id.into(),
        label: label.into(),
        ..Default::default()
    }
}

fn ids(devices: &[CameraDevice], facing: Facing, remembered: Option<&Remembered>) -> Vec<String> {
    rank(devices, facing, remembered)
        .ids()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Chrome on a Samsung Galaxy S22 (front cameras listed first, as Chrome does).
fn galaxy_s22() -> Vec<CameraDevice> {
    vec![
        dev("f1", "camera2 1, facing front"),
        dev("f3", "camera2 3, facing front"),
        dev("b2", "camera2 2, facing back"),
        dev("b0", "camera2 0, facing back"),
    ]
}

#[test]
fn samsung_primary_rear_is_camera_0() {
    let r = rank(&galaxy_s22(), Facing::Environment, None);
    assert_eq!(r.ids(), ["b0", "b2", "f1", "f3"]);
    let kinds: Vec<LensKind> = r.candidates.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            LensKind::Primary,
            LensKind::Other,
            LensKind::Opposite,
            LensKind::Opposite
        ]
    );
    assert_eq!(r.best().unwrap().device_id, "b0");
    assert!(r.excluded.is_empty());
    // Selfies: the lowest-numbered front camera.
    assert_eq!(
        ids(&galaxy_s22(), Facing::User, None),
        ["f1", "f3", "b0", "b2"]
    );
}

#[test]
fn samsung_with_capabilities() {
    // The browser layer read getCapabilities(): camera 2 is the fixed-focus ultra-wide.
    let mut d = galaxy_s22();
    d[2].focus_modes = Some(vec!["none".into()]);
    d[3].focus_modes = Some(vec![
        "continuous".into(),
        "single-shot".into(),
        "manual".into(),
    ]);
    d[3].torch = Some(true);
    let r = rank(&d, Facing::Environment, None);
    assert_eq!(r.ids(), ["b0", "b2", "f1", "f3"]);
    assert_eq!(r.candidates[1].kind, LensKind::Secondary);

    // A device whose camera 0 has a single, fixed focus mode (Onfido drops those): the other
    // rear camera with autofocus goes first.
    let mut d = galaxy_s22();
    d[3].focus_modes = Some(vec!["manual".into()]);
    d[2].focus_modes = Some(vec!["continuous".into(), "manual".into()]);
    d[2].torch = Some(true);
    assert_eq!(ids(&d, Facing::Environment, None), ["b2", "b0", "f1", "f3"]);
    // Fixed-focus front cameras are normal: no demotion for selfies.
    let mut d = galaxy_s22();
    d[0].focus_modes = Some(vec!["none".into()]);
    assert_eq!(ids(&d, Facing::User, None)[0], "f1");
}

#[test]
fn among_equals_torch_and_autofocus_win() {
    let mut d = vec![
        dev("b3", "camera2 3, facing back"),
        dev("b0", "camera2 0, facing back"),
        dev("b2", "camera2 2, facing back"),
    ];
    d[2].torch = Some(true);
    assert_eq!(ids(&d, Facing::Environment, None), ["b0", "b2", "b3"]);
}

#[test]
fn pixel_and_firefox_android() {
    let pixel = vec![
        dev("p0", "camera2 0, facing back"),
        dev("p1", "camera2 1, facing front"),
    ];
    assert_eq!(ids(&pixel, Facing::Environment, None), ["p0", "p1"]);
    assert_eq!(ids(&pixel, Facing::User, None), ["p1", "p0"]);
    let firefox = vec![
        dev("x1", "Camera 1, Facing front, Orientation 270"),
        dev("x0", "Camera 0, Facing back, Orientation 90"),
    ];
    assert_eq!(ids(&firefox, Facing::Environment, None), ["x0", "x1"]);
}

/// Safari on an iPhone 13 Pro (iOS 17).
fn iphone_13_pro() -> Vec<CameraDevice> {
    vec![
        dev("front", "Front Camera"),
        dev("back", "Back Camera"),
        dev("tele", "Back Telephoto Camera"),
        dev("dual", "Back Dual Camera"),
        dev("uw", "Back Ultra Wide Camera"),
        dev("dw", "Back Dual Wide Camera"),
        dev("tri", "Back Triple Camera"),
    ]
}

#[test]
fn iphone_pro_prefers_dual_wide_then_triple_then_back_camera() {
    let r = rank(&iphone_13_pro(), Facing::Environment, None);
    assert_eq!(
        r.ids(),
        ["dw", "tri", "back", "dual", "tele", "uw", "front"]
    );
    let kinds: Vec<LensKind> = r.candidates.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            LensKind::DualWide,
            LensKind::Triple,
            LensKind::Primary,
            LensKind::Other,
            LensKind::Secondary,
            LensKind::Secondary,
            LensKind::Opposite
        ]
    );
    assert_eq!(ids(&iphone_13_pro(), Facing::User, None)[0], "front");
}

#[test]
fn iphone_without_pro_lenses() {
    let iphone_11 = vec![
        dev("f", "Front Camera"),
        dev("b", "Back Camera"),
        dev("uw", "Back Ultra Wide Camera"),
        dev("dw", "Back Dual Wide Camera"),
    ];
    assert_eq!(
        ids(&iphone_11, Facing::Environment, None),
        ["dw", "b", "uw", "f"]
    );
    let iphone_se = vec![dev("f", "Front Camera"), dev("b", "Back Camera")];
    assert_eq!(ids(&iphone_se, Facing::Environment, None), ["b", "f"]);
}

#[test]
fn iphone_labels_in_korean_japanese_and_arabic() {
    let ko = vec![
        dev("f", "전면 카메라"),
        dev("b", "후면 카메라"),
        dev("uw", "후면 울트라 와이드 카메라"),
        dev("dw", "후면 듀얼 와이드 카메라"),
        dev("t", "후면 망원 카메라"),
    ];
    assert_eq!(
        ids(&ko, Facing::Environment, None),
        ["dw", "b", "uw", "t", "f"]
    );
    assert_eq!(ids(&ko, Facing::User, None)[0], "f");
    let ja = vec![
        dev("f", "前面カメラ"),
        dev("b", "背面カメラ"),
        dev("uw", "背面超広角カメラ"),
        dev("dw", "背面デュアル広角カメラ"),
        dev("tri", "背面トリプルカメラ"),
        dev("t", "背面望遠カメラ"),
        dev("d", "背面デュアルカメラ"),
    ];
    assert_eq!(
        ids(&ja, Facing::Environment, None),
        ["dw", "tri", "b", "d", "uw", "t", "f"]
    );
    let ar = vec![
        dev("f", "الكاميرا الأمامية"),
        dev("b", "الكاميرا الخلفية"),
        dev("dw", "كاميرا خلفية مزدوجة عريضة"),
    ];
    assert_eq!(ids(&ar, Facing::Environment, None), ["dw", "b", "f"]);
    assert_eq!(ids(&ar, Facing::User, None), ["f", "b", "dw"]);
}

#[test]
fn laptop_with_obs() {
    let d = vec![
        dev("obs", "OBS Virtual Camera"),
        dev("int", "Integrated Camera (04f2:b6dd)"),
    ];
    for facing in [Facing::Environment, Facing::User] {
        let r = rank(&d, facing, None);
        assert_eq!(r.ids(), ["int"]);
        assert_eq!(r.candidates[0].kind, LensKind::Unknown);
        assert_eq!(
            r.excluded,
            [(
                "obs".to_owned(),
                "OBS Virtual Camera".to_owned(),
                Exclusion::Virtual
            )]
        );
    }
}

#[test]
fn windows_hello_ir_is_never_chosen() {
    let d = vec![
        dev("ir", "USB2.0 HD IR UVC WebCam (13d3:56bb)"),
        dev("rgb", "USB2.0 HD UVC WebCam (13d3:56bb)"),
        dev("ir2", "Integrated IR Camera"),
        dev("hello", "Windows Hello Face Camera"),
        dev("rs", "Intel(R) RealSense(TM) 3D Camera (Front F200) Depth"),
    ];
    let r = rank(&d, Facing::User, None);
    assert_eq!(r.ids(), ["rgb"]);
    assert_eq!(r.excluded.len(), 4);
    assert!(r.excluded.iter().all(|e| e.2 == Exclusion::Infrared));
}

#[test]
fn every_virtual_camera_is_refused() {
    let d: Vec<CameraDevice> = [
        "OBS Virtual Camera",
        "OBS-Camera",
        "ManyCam Virtual Webcam",
        "Snap Camera",
        "XSplit VCam",
        "e2eSoft VCam",
        "CamTwist",
        "mmhmm Camera",
        "NVIDIA Broadcast",
        "SplitCam Video Driver",
        "CyberLink YouCam 10",
        "Elgato Virtual Camera",
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| dev(&format!("v{i}"), l))
    .collect();
    let r = rank(&d, Facing::Environment, None);
    assert!(r.candidates.is_empty(), "{:?}", r.candidates);
    assert!(r.excluded.iter().all(|e| e.2 == Exclusion::Virtual));
    assert_eq!(r.best(), None);
}

#[test]
fn real_cameras_with_lookalike_names_stay() {
    let d = vec![
        dev("a", "Logitech BRIO Ultra HD Webcam"),
        dev("b", "HD Pro Webcam C920"),
        dev("c", "Camo"),
        dev("d", "DroidCam Source 3"),
        dev("e", "fake_device_0"),
        dev("f", "Mirrorless Camera"),
    ];
    let r = rank(&d, Facing::Environment, None);
    assert_eq!(r.ids(), ["a", "b", "c", "d", "e", "f"]);
    assert!(r.candidates.iter().all(|c| c.kind == LensKind::Unknown));
}

#[test]
fn mac_with_facetime_and_continuity_camera() {
    let d = vec![
        dev("ft", "FaceTime HD Camera"),
        dev("iph", "Alice’s iPhone Camera"),
        dev("snap", "Snap Camera"),
    ];
    // Documents: the iPhone (side unknown) before the front-facing built-in camera.
    assert_eq!(ids(&d, Facing::Environment, None), ["iph", "ft"]);
    // Selfies: the built-in front camera.
    assert_eq!(ids(&d, Facing::User, None), ["ft", "iph"]);
}

#[test]
fn the_browsers_facing_mode_beats_the_label() {
    let mut d = vec![dev("a", "Camera A"), dev("b", "Camera B")];
    d[1].facing = Some(Facing::Environment);
    d[0].facing = Some(Facing::User);
    assert_eq!(ids(&d, Facing::Environment, None), ["b", "a"]);
    assert_eq!(ids(&d, Facing::User, None), ["a", "b"]);
}

#[test]
fn remembered_choice_first_when_still_there() {
    let remembered = Remembered {
        device_id: "b2".into(),
        label: "camera2 2, facing back".into(),
    };
    let r = rank(&galaxy_s22(), Facing::Environment, Some(&remembered));
    assert_eq!(r.ids(), ["b2", "b0", "f1", "f3"]);
    assert_eq!(r.candidates[0].kind, LensKind::Remembered);

    // Gone: the usual order.
    let gone = Remembered {
        device_id: "zz".into(),
        label: "USB Camera".into(),
    };
    assert_eq!(
        ids(&galaxy_s22(), Facing::Environment, Some(&gone)),
        ["b0", "b2", "f1", "f3"]
    );

    // Safari gave the camera a new id: found again by its label.
    let by_label = Remembered {
        device_id: "old-id".into(),
        label: "Back Camera".into(),
    };
    assert_eq!(
        ids(&iphone_13_pro(), Facing::Environment, Some(&by_label))[0],
        "back"
    );

    // A label shared by two cameras says nothing.
    let twins = vec![dev("1", "USB Camera"), dev("2", "USB Camera")];
    let r = rank(
        &twins,
        Facing::Environment,
        Some(&Remembered {
            device_id: "x".into(),
            label: "USB Camera".into(),
        }),
    );
    assert!(r.candidates.iter().all(|c| c.kind == LensKind::Unknown));

    // A remembered virtual camera stays excluded.
    let d = vec![
        dev("obs", "OBS Virtual Camera"),
        dev("int", "Integrated Camera"),
    ];
    let obs = Remembered {
        device_id: "obs".into(),
        label: "OBS Virtual Camera".into(),
    };
    assert_eq!(ids(&d, Facing::User, Some(&obs)), ["int"]);
}

#[test]
fn before_permission_labels_are_empty() {
    // Chrome: ids hidden too; Safari: ids present, labels empty.
    let chrome = vec![dev("", ""), dev("", "")];
    let r = rank(&chrome, Facing::Environment, None);
    assert!(!r.labelled);
    assert!(r.candidates.is_empty());
    assert_eq!(r.best(), None);

    let safari = vec![dev("a", ""), dev("b", "")];
    let r = rank(&safari, Facing::Environment, None);
    assert!(!r.labelled);
    assert_eq!(r.ids(), ["a", "b"]);
    assert_eq!(r.best(), None, "open by facingMode instead");
}

#[test]
fn manual_switch_cycles() {
    let r = rank(&galaxy_s22(), Facing::Environment, None);
    assert_eq!(r.next_after("b0").unwrap().device_id, "b2");
    assert_eq!(r.next_after("f3").unwrap().device_id, "b0");
    assert_eq!(r.next_after("gone").unwrap().device_id, "b0");
    let one = rank(&[dev("x", "Integrated Camera")], Facing::User, None);
    assert_eq!(one.next_after("x"), None);
}

#[test]
fn nothing_in_nothing_out() {
    let r = rank(&[], Facing::Environment, None);
    assert!(r.candidates.is_empty() && r.excluded.is_empty() && !r.labelled);
}

#[test]
fn ranking_serialises() {
    let r = rank(&galaxy_s22(), Facing::Environment, None);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["candidates"][0]["kind"], "primary");
    let d: CameraDevice =
        serde_json::from_value(serde_json::json!({"device_id": "a", "label": "b"})).unwrap();
    assert_eq!(d, dev("a", "b"));
}
