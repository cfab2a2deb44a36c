//! Issue 14: a forged client, nothing but HTTP over loopback against a real server. Every case a
//! scripted client can try, with the code or the reason the server answers, and nothing stored
//! that a real camera and a real person would not have produced.

mod common;

use common::client::{config, good_captures, Client, SEQ};
use common::{
    face_jpeg, frame_jpeg, genuine_liveness, jpeg, liveness_attempt, liveness_record, upload_step,
    Resp, TestServer,
};
use liveform_core::api::{LIVENESS_OPEN_PATH, SESSION_HEADER};
use liveform_server::media::fixtures;

fn code(r: &Resp) -> String {
    r.code()
}

#[tokio::test]
async fn images_that_do_not_decode_are_refused_and_nothing_is_stored() {
    let data = common::temp_dir("decode");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "decode").await;
    let good = face_jpeg(1280, 960, 0.38, 0.5, 0.45);
    let cases: Vec<(&str, &str, &str, Vec<u8>)> = vec![
        // A 33-byte PNG header as the document.
        (
            "png-header",
            "document_front",
            "image/png",
            fixtures::png(1280, 720),
        ),
        // A bare JPEG header (SOF, no scan) as the selfie.
        (
            "jpeg-header",
            "selfie",
            "image/jpeg",
            fixtures::jpeg(1280, 960),
        ),
        (
            "webp-header",
            "selfie",
            "image/webp",
            fixtures::webp(1280, 960),
        ),
        // A real JPEG cut in the middle of its scan, and one without its end.
        (
            "cut-half",
            "selfie",
            "image/jpeg",
            good[..good.len() / 2].to_vec(),
        ),
        (
            "cut-end",
            "selfie",
            "image/jpeg",
            good[..good.len() - 2].to_vec(),
        ),
    ];
    for (id, slot, ct, body) in cases {
        let r = c.put(id, slot, ct, &body).await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (422, "LF-30013"),
            "{id}: {}",
            r.text()
        );
    }
    // A 12-byte "mp4" as the liveness clip: clips are not accepted at all.
    let r = c
        .put("clip", "liveness", "video/mp4", b"\0\0\0\x18ftypmp42")
        .await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (415, "LF-30002"),
        "{}",
        r.text()
    );
    let r = c
        .put(
            "webm",
            "liveness",
            "video/webm",
            &[0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0, 0, 0, 0, 0],
        )
        .await;
    assert_eq!(code(&r), "LF-30002");
    assert_eq!(s.capture_files(), 0, "nothing on disk");
    // The selfie's minimum is ARGOS's 480 px, not 320.
    let r = c
        .put(
            "small",
            "selfie",
            "image/jpeg",
            &face_jpeg(400, 300, 0.4, 0.5, 0.45),
        )
        .await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (422, "LF-30003"),
        "{}",
        r.text()
    );
    assert_eq!(s.capture_files(), 0);
    // The whole image is still accepted.
    let r = c.put("whole", "selfie", "image/jpeg", &good).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(s.capture_files(), 1);
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_before_it_allocates() {
    let data = common::temp_dir("bomb");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "bomb").await;
    // 7000 x 5000 (35 M pixels: inside the header limits, 8192 a side and 40 M) of one colour.
    let mut bomb = Vec::new();
    {
        struct Flat;
        impl jpeg_encoder::ImageBuffer for Flat {
            fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
                jpeg_encoder::JpegColorType::Ycbcr
            }
            fn width(&self) -> u16 {
                7000
            }
            fn height(&self) -> u16 {
                5000
            }
            fn fill_buffers(&self, _y: u16, buffers: &mut [Vec<u8>; 4]) {
                for _ in 0..7000 {
                    buffers[0].push(128);
                    buffers[1].push(128);
                    buffers[2].push(128);
                }
            }
        }
        let mut enc = jpeg_encoder::Encoder::new(&mut bomb, 75);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        enc.encode_image(Flat).expect("encode");
    }
    // The same size as a 1-bit PNG: a few KB (deflate's best ratio), 140 MB as RGBA.
    let mut png_bomb = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bomb, 7000, 5000);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        enc.set_compression(png::Compression::Best);
        let mut w = enc.write_header().expect("png header");
        w.write_image_data(&vec![0u8; 875 * 5000])
            .expect("png data");
    }
    assert!(png_bomb.len() < 16 * 1024, "{} bytes", png_bomb.len());
    for (name, ct, body) in [
        ("PNG", "image/png", &png_bomb),
        ("JPEG", "image/jpeg", &bomb),
    ] {
        let before = common::support::reset_peak();
        let r = c.put(name, "document_front", ct, body).await;
        let after = common::support::peak_kib();
        eprintln!(
            "    BENCH bomb: {name} {} bytes compressed, 7000x5000 -> {} {}; resident {before} KiB before, peak {after} KiB during",
            body.len(),
            r.status,
            code(&r),
        );
        assert_eq!(
            (r.status, code(&r).as_str()),
            (422, "LF-30014"),
            "{}",
            r.text()
        );
        // Decoding would take 7000 * 5000 * 4 = 140 MB; the refusal allocates nothing of that.
        assert!(
            after - before < 32 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
    }
    assert_eq!(s.capture_files(), 0);
}

#[tokio::test]
async fn a_plain_surface_as_the_document_is_stored_flagged_and_never_approved() {
    let data = common::temp_dir("surface");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "surface").await;
    let r = c
        .put("front", "document_front", "image/jpeg", &jpeg(1280, 960))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let check = &r.json()["check"];
    assert_eq!(check["ok"], false, "{check}");
    assert!(
        check["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "no_document"),
        "{check}"
    );
    // The resume list carries it too (the finish screen offers the retake from it).
    let list =
        c.s.request(
            "GET",
            "/api/session/captures",
            &[(SESSION_HEADER, &c.token)],
            None,
        )
        .await;
    assert_eq!(
        list.json()["captures"][0]["check"]["issues"][0],
        "no_document"
    );
    // A face-free JPEG as the selfie: stored, no face.
    let r = c
        .put("selfie", "selfie", "image/jpeg", &jpeg(640, 480))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["check"]["issues"][0], "no_face", "{}", r.text());
    // A genuine liveness pass, then finish: the project says "approved", the server's checks do
    // not, so the submission waits for a person.
    let r = genuine_liveness(&s, &c.token, &SEQ, 1).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["outcome"], "passed", "{}", r.text());
    let r = c.finish().await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "pending");
    let item = c.result().await;
    let v = &item["verification"];
    assert_eq!(v["passed"], false, "{v}");
    assert_eq!(v["documents"]["front"]["found"], false, "{v}");
    assert_eq!(v["selfie"]["faces"], 0, "{v}");
    assert_eq!(v["liveness"]["server_outcome"], "passed", "{v}");
    let reasons: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        reasons.contains(&"document_front: no_document"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"selfie: no_face"), "{reasons:?}");
}

#[tokio::test]
async fn a_genuine_submission_is_verified_and_approved() {
    let data = common::temp_dir("genuine");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "genuine").await;
    good_captures(&c).await;
    // Finishing before liveness: refused, liveness missing.
    let r = c.finish().await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (422, "LF-30009"),
        "{}",
        r.text()
    );
    let r = genuine_liveness(&s, &c.token, &SEQ, 1).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["outcome"], "passed", "{}", r.text());
    let r = c.finish().await;
    assert_eq!(r.json()["status"], "approved", "{}", r.text());
    let item = c.result().await;
    let v = &item["verification"];
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["documents"]["front"]["found"], true, "{v}");
    assert_eq!(v["selfie"]["faces"], 1, "{v}");
    let l = &v["liveness"];
    assert_eq!(l["server_outcome"], "passed", "{l}");
    assert_eq!(l["device_outcome"], "passed", "{l}");
    assert_eq!(l["attempts"][0]["steps"][0]["challenge"], "closer", "{l}");
    assert_eq!(l["attempts"][0]["steps"][1]["duration_ms"], 1000, "{l}");
    assert_eq!(item["liveness"]["passed"], true);
    // The finished submission is frozen: no retake of the selfie, no delete, and the results
    // API serves the verification the decision rested on.
    let r = c
        .put("other", "selfie", "image/jpeg", &jpeg(640, 480))
        .await;
    assert_eq!(code(&r), "LF-30010", "{}", r.text());
    let r = common::http_bytes(
        s.addr,
        "DELETE",
        "/api/capture/front",
        &[(SESSION_HEADER, &c.token)],
        b"",
    )
    .await;
    assert_eq!(code(&r), "LF-30010", "{}", r.text());
    assert_eq!(c.result().await["verification"], *v);
}

/// Opens a client with valid captures, then runs `attempt` (which records one forged attempt)
/// and checks the server's answer: failed with `reason`.
async fn refused_with(tag: &str, reason: &str, attempt: impl AsyncFnOnce(&Client<'_>) -> Resp) {
    let data = common::temp_dir(tag);
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, tag).await;
    good_captures(&c).await;
    let r = attempt(&c).await;
    assert_eq!(r.status, 201, "{tag}: {}", r.text());
    let j = r.json();
    assert_eq!(j["outcome"], "retry", "{tag}: {j}");
    assert_eq!(j["attempts_left"], 2, "{tag}: {j}");
    let reasons: Vec<&str> = j["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        reasons.contains(&reason),
        "{tag}: expected {reason} in {reasons:?}"
    );
    // Stored as failed, the device's claim beside it; finishing is refused.
    let item = c.result().await;
    let a = &item["verification"]["liveness"]["attempts"][0];
    assert_eq!(
        (a["passed"].as_bool(), a["device_passed"].as_bool()),
        (Some(false), Some(true)),
        "{a}"
    );
    let r = c.finish().await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (422, "LF-30009"),
        "{tag}: {}",
        r.text()
    );
    eprintln!("    {tag}: failed on the server with {reasons:?}");
}

/// Opens an attempt, uploads real closer/back frames all at once (the server's clock does not
/// move), and records the steps with the device times `i * step_ms + start_ms` .. `+ step_ms`.
async fn at_once(c: &Client<'_>, start_ms: u64, step_ms: u64) -> Resp {
    let id = c.open_attempt().await;
    let mut steps = Vec::new();
    for (i, ch) in SEQ.iter().enumerate() {
        let (b, h) = common::zoom_of(*ch);
        let mut ids = Vec::new();
        for (j, f) in [b, b, h, h, h].iter().enumerate() {
            let fid = format!("now{i}{j}");
            let r = c.put(&fid, "liveness", "image/jpeg", &frame_jpeg(*f)).await;
            assert_eq!(r.status, 201, "{}", r.text());
            ids.push(fid);
        }
        steps.push(ids);
    }
    let mut rec: serde_json::Value =
        serde_json::from_str(&liveness_record(&SEQ, 1, true, steps, &id)).unwrap();
    for (i, st) in rec["steps"].as_array_mut().unwrap().iter_mut().enumerate() {
        st["started_ms"] = (start_ms + i as u64 * step_ms).into();
        st["ended_ms"] = (start_ms + (i as u64 + 1) * step_ms).into();
    }
    c.record(&rec.to_string()).await
}

#[tokio::test]
async fn forged_liveness_claims_fail_on_the_server() {
    // A claimed pass with no frames.
    refused_with("no-frames", "no_frames", async |c| {
        let id = c.open_attempt().await;
        c.record(&liveness_record(&SEQ, 1, true, vec![vec![], vec![]], &id))
            .await
    })
    .await;
    // Too few frames: one per step.
    refused_with("few-frames", "too_few_frames", async |c| {
        let id = c.open_attempt().await;
        let mut steps = Vec::new();
        for (i, f) in [0.31, 0.43].iter().enumerate() {
            let fid = format!("few{i}");
            assert_eq!(
                c.put(&fid, "liveness", "image/jpeg", &frame_jpeg(*f))
                    .await
                    .status,
                201
            );
            c.s.advance(1);
            steps.push(vec![fid]);
        }
        c.record(&liveness_record(&SEQ, 1, true, steps, &id)).await
    })
    .await;
    // 1 ms steps by the device's clock, all frames uploaded at once: the server's clock decides.
    refused_with("one-ms", "too_fast", async |c| at_once(c, 0, 1).await).await;
    // All frames within 200 ms (the test clock does not move), with plausible device times.
    refused_with("at-once", "too_fast", async |c| {
        at_once(c, 1_000, 2_400).await
    })
    .await;
    // Frames uploaded before the attempt was opened.
    refused_with("outside", "outside_attempt", async |c| {
        let mut steps = Vec::new();
        for (i, ch) in SEQ.iter().enumerate() {
            let (b, h) = common::zoom_of(*ch);
            steps.push(upload_step(c.s, &c.token, &format!("early{i}"), b, h).await);
        }
        c.s.advance(1);
        let id = c.open_attempt().await;
        c.s.advance(2);
        c.record(&liveness_record(&SEQ, 1, true, steps, &id)).await
    })
    .await;
    // A still face for closer then back (plausible device times, frames a second apart).
    refused_with("still", "no_movement", async |c| {
        let id = c.open_attempt().await;
        let mut steps = Vec::new();
        for i in 0..2 {
            steps.push(upload_step(c.s, &c.token, &format!("still{i}"), 0.38, 0.38).await);
        }
        c.record(&liveness_record(&SEQ, 1, true, steps, &id)).await
    })
    .await;
    // Real face frames in the wrong order: growing-then-shrinking reversed.
    refused_with("reversed", "wrong_direction", async |c| {
        let id = c.open_attempt().await;
        let a = upload_step(c.s, &c.token, "rev0", 0.43, 0.31).await;
        let b = upload_step(c.s, &c.token, "rev1", 0.31, 0.43).await;
        c.record(&liveness_record(&SEQ, 1, true, vec![a, b], &id))
            .await
    })
    .await;
}

#[tokio::test]
async fn records_without_an_open_attempt_are_invalid() {
    let data = common::temp_dir("unopened");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "unopened").await;
    good_captures(&c).await;
    // No attempt opened.
    let r = c.record(&liveness_attempt(&SEQ, 1, true, &[], "")).await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (422, "LF-30012"),
        "{}",
        r.text()
    );
    // Another id than the open attempt's.
    let _ = c.open_attempt().await;
    let r = c
        .record(&liveness_attempt(&SEQ, 1, true, &[], "made-up"))
        .await;
    assert_eq!(code(&r), "LF-30012", "{}", r.text());
    // A frame that is not this session's capture.
    let id = c.open_attempt().await;
    let r = c
        .record(&liveness_attempt(&SEQ, 1, true, &["nope"], &id))
        .await;
    assert_eq!(code(&r), "LF-30012", "{}", r.text());
    // Opening answers the number the server expects.
    let r = c.post(LIVENESS_OPEN_PATH, "").await;
    assert_eq!(r.json()["attempt"], 1, "{}", r.text());
}

#[tokio::test]
async fn three_failed_claims_end_in_se_50021() {
    let data = common::temp_dir("three");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "three").await;
    good_captures(&c).await;
    for n in 1..=3u8 {
        let id = c.open_attempt().await;
        let r = c
            .record(&liveness_record(&SEQ, n, true, vec![vec![], vec![]], &id))
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let want = if n < 3 { "retry" } else { "failed" };
        assert_eq!(r.json()["outcome"], want, "{}", r.text());
    }
    let r = c.post(LIVENESS_OPEN_PATH, "").await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "SE-50021"),
        "{}",
        r.text()
    );
    let r = c.finish().await;
    assert_eq!(code(&r), "SE-50021", "{}", r.text());
    // A genuine attempt after that is refused too.
    let r = c.record(&liveness_attempt(&SEQ, 3, true, &[], "x")).await;
    assert_eq!(code(&r), "SE-50021", "{}", r.text());
}

#[tokio::test]
async fn liveness_evidence_cannot_be_deleted() {
    let data = common::temp_dir("evidence");
    let s = TestServer::start_stored(&config(), &data).await;
    let c = Client::open(&s, "evidence").await;
    good_captures(&c).await;
    let r = genuine_liveness(&s, &c.token, &SEQ, 1).await;
    assert_eq!(r.json()["outcome"], "passed", "{}", r.text());
    let r = common::http_bytes(
        s.addr,
        "DELETE",
        "/api/capture/a1s0h0",
        &[(SESSION_HEADER, &c.token)],
        b"",
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "LF-30004"),
        "{}",
        r.text()
    );
    // A frame far larger than the form's is refused before it costs the pool.
    let r = c
        .put(
            "huge",
            "liveness",
            "image/jpeg",
            &face_jpeg(1920, 1080, 0.4, 0.5, 0.45),
        )
        .await;
    assert_eq!(code(&r), "LF-30003", "{}", r.text());
}
