//! Which camera to open, once permission is granted and `enumerateDevices` gives labels.
//!
//! `facingMode: "environment"` lets the browser open any rear lens: on multi-lens phones that
//! can be the ultra-wide (fisheye, often fixed focus), the telephoto (cannot focus close) or, on
//! Windows laptops, the IR camera of Windows Hello (a grey picture). [`rank`] orders the cameras
//! so that the first is the one to open and the rest feed a manual "switch camera" button.
//!
//! Order for documents ([`Facing::Environment`]), best first:
//! 1. the remembered choice, when it is still there (by device id; else by label when exactly
//!    one camera has it, as Safari may change ids between visits);
//! 2. iOS virtual multi-lens cameras: "Back Dual Wide Camera", then "Back Triple Camera". They
//!    switch to the ultra-wide lens by themselves when the document is close, which is the only
//!    way a web page gets the macro focus of a Pro iPhone (the main lens of an iPhone 13 Pro+ does
//!    not focus closer than 15–20 cm; BlinkID prefers Dual Wide for this). Dual Wide comes first:
//!    it never hands over to the telephoto lens and exists on every iPhone with an ultra-wide
//!    lens (Triple only on Pro models);
//! 3. the primary camera of that side: Android's lowest-numbered one (`camera2 0, facing back`,
//!    Firefox's `Camera 0, Facing back`; Android numbers the main rear camera 0), iOS's plain
//!    "Back Camera";
//! 4. other cameras of that side (`camera2 2, facing back`, "Back Dual Camera");
//! 5. cameras whose side is unknown (desktop webcams: "Integrated Camera", "USB2.0 HD UVC WebCam");
//! 6. secondary lenses of that side: ultra-wide / "0.5x", telephoto, macro, and a camera whose
//!    `getCapabilities().focusMode` lists no autofocus mode (fixed focus, as Onfido drops them);
//! 7. cameras of the other side (a Mac's "FaceTime HD Camera" still works for a document).
//!
//! Within a group: a torch and an autofocus mode first (the main rear camera carries the flash;
//! BlinkID scores the same), then the Android camera number, then the browser's order.
//!
//! For selfies ([`Facing::User`]) the same order with the sides swapped and no multi-lens group.
//!
//! Never offered: infrared/depth cameras (`IR`, "Infrared", "Windows Hello", "Depth") and virtual
//! cameras ("Virtual", OBS, ManyCam, Snap Camera, XSplit VCam, CamTwist, mmhmm, NVIDIA
//! Broadcast, SplitCam, YouCam): they feed arbitrary video, which an identity check must not
//! accept. Phone-as-webcam apps (Camo, DroidCam, Continuity Camera) are real cameras and stay.
//!
//! "Wide" alone is not a secondary lens: Apple's "Wide" is the main lens, and "Back Dual Wide
//! Camera" is the one we want. Labels are matched in English and in the languages of iOS's
//! localised labels that matter here (Korean, Japanese, Chinese, Arabic and the larger European
//! ones); an unknown language falls back on the facing mode the browser reports and on order.

use serde::{Deserialize, Serialize};

use crate::capture::Facing;

/// One `videoinput` from `enumerateDevices`, with what its track's `getCapabilities()` said
/// when the browser layer looked (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraDevice {
    pub device_id: String,
    pub label: String,
    /// `getCapabilities().facingMode` (or `getSettings().facingMode`), when the browser says.
    #[serde(default)]
    pub facing: Option<Facing>,
    /// `getCapabilities().focusMode` (`"continuous"`, `"single-shot"`, `"manual"`, `"none"`).
    #[serde(default)]
    pub focus_modes: Option<Vec<String>>,
    /// `getCapabilities().torch`.
    #[serde(default)]
    pub torch: Option<bool>,
}

/// A choice kept across visits (the browser layer stores one per [`Facing`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub device_id: String,
    pub label: String,
}

/// What a candidate camera is, in ranking order (earlier is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LensKind {
    /// The remembered choice.
    Remembered,
    /// iOS "Back Dual Wide Camera" (automatic macro switching).
    DualWide,
    /// iOS "Back Triple Camera".
    Triple,
    /// The side's main camera.
    Primary,
    /// Another camera of the wanted side.
    Other,
    /// A camera whose side is unknown.
    Unknown,
    /// Ultra-wide, telephoto, macro or fixed-focus camera of the wanted side.
    Secondary,
    /// A camera of the other side.
    Opposite,
}

/// Why a camera is never offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Infrared or depth camera (no colour picture).
    Infrared,
    /// Virtual camera (feeds arbitrary video).
    Virtual,
}

/// One camera that may be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub device_id: String,
    pub label: String,
    pub kind: LensKind,
}

/// The result of [`rank`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LensRanking {
    /// Cameras to offer, best first.
    pub candidates: Vec<Candidate>,
    /// Cameras never offered, with the reason (device id, label, why).
    pub excluded: Vec<(String, String, Exclusion)>,
    /// Whether any camera had a label (before permission every label is empty and the order
    /// says nothing: open by `facingMode` instead).
    pub labelled: bool,
}

impl LensRanking {
    /// The camera to open: the first candidate, when labels were known (else `None`: open by
    /// facing mode).
    pub fn best(&self) -> Option<&Candidate> {
        self.candidates.first().filter(|_| self.labelled)
    }

    /// The device ids, best first.
    pub fn ids(&self) -> Vec<&str> {
        self.candidates
            .iter()
            .map(|c| c.device_id.as_str())
            .collect()
    }

    /// The next camera for a "switch camera" button (wrapping round); the best one when
    /// `current` is not a candidate; `None` with fewer than two candidates.
    pub fn next_after(&self, current: &str) -> Option<&Candidate> {
        if self.candidates.len() < 2 {
            return None;
        }
        match self.candidates.iter().position(|c| c.device_id == current) {
            Some(i) => self.candidates.get((i + 1) % self.candidates.len()),
            None => self.candidates.first(),
        }
    }
}

/// Orders the cameras for a facing mode (see the module docs). Devices with an empty id cannot be
/// opened and are left out.
pub fn rank(
    devices: &[CameraDevice],
    facing: Facing,
    remembered: Option<&Remembered>,
) -> LensRanking {
    let labelled = devices.iter().any(|d| !d.label.trim().is_empty());
    let mut excluded = Vec::new();
    let mut scored: Vec<(LensKind, i32, u32, usize, &CameraDevice)> = Vec::new();

    let infos: Vec<LabelInfo> = devices.iter().map(|d| LabelInfo::of(&d.label)).collect();
    // The lowest Android camera number per side: the side's primary camera.
    let lowest = |side: Facing| {
        devices
            .iter()
            .zip(&infos)
            .filter(|(d, i)| i.exclusion.is_none() && side_of(d, i) == Some(side))
            .filter_map(|(_, i)| i.index)
            .min()
    };
    let lowest_wanted = lowest(facing);

    for (pos, (d, info)) in devices.iter().zip(&infos).enumerate() {
        if d.device_id.is_empty() {
            continue;
        }
        if let Some(why) = info.exclusion {
            excluded.push((d.device_id.clone(), d.label.clone(), why));
            continue;
        }
        let autofocus = d.focus_modes.as_ref().map(|m| {
            m.iter()
                .any(|m| matches!(m.as_str(), "continuous" | "single-shot" | "auto"))
        });
        let fixed_focus =
            d.focus_modes.as_ref().is_some_and(|m| !m.is_empty()) && autofocus == Some(false);
        let kind = match side_of(d, info) {
            Some(side) if side != facing => LensKind::Opposite,
            None => LensKind::Unknown,
            Some(_) if info.secondary => LensKind::Secondary,
            Some(Facing::Environment) if info.dual_wide => LensKind::DualWide,
            Some(Facing::Environment) if info.triple => LensKind::Triple,
            Some(_) if facing == Facing::Environment && fixed_focus => LensKind::Secondary,
            Some(_) if info.multi => LensKind::Other,
            Some(_) => match (info.index, lowest_wanted) {
                (Some(i), Some(low)) if i != low => LensKind::Other,
                _ => LensKind::Primary,
            },
        };
        let score = i32::from(d.torch == Some(true)) + i32::from(autofocus == Some(true));
        scored.push((kind, -score, info.index.unwrap_or(u32::MAX), pos, d));
    }

    if let Some(r) = remembered {
        let by_id = scored.iter().position(|s| s.4.device_id == r.device_id);
        let by_label = || {
            let mut same = scored
                .iter()
                .enumerate()
                .filter(|(_, s)| !r.label.is_empty() && s.4.label == r.label);
            match (same.next(), same.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        };
        if let Some(i) = by_id.or_else(by_label) {
            scored[i].0 = LensKind::Remembered;
        }
    }

    scored.sort_by_key(|&(kind, score, index, pos, _)| (kind, score, index, pos));
    LensRanking {
        candidates: scored
            .into_iter()
            .map(|(kind, _, _, _, d)| Candidate {
                device_id: d.device_id.clone(),
                label: d.label.clone(),
                kind,
            })
            .collect(),
        excluded,
        labelled,
    }
}

/// The side: the browser's facing mode when it gives one, else the label's words.
fn side_of(d: &CameraDevice, info: &LabelInfo) -> Option<Facing> {
    d.facing.or(info.side)
}

/// What a label says.
#[derive(Debug, Default)]
struct LabelInfo {
    side: Option<Facing>,
    /// Android camera number (`camera2 0`, `Camera 1`).
    index: Option<u32>,
    exclusion: Option<Exclusion>,
    /// Ultra-wide, telephoto or macro.
    secondary: bool,
    dual_wide: bool,
    triple: bool,
    /// A multi-lens camera other than Dual Wide / Triple ("Back Dual Camera").
    multi: bool,
}

const BACK: &[&str] = &[
    "back",
    "rear",
    "environment",
    "후면",
    "背面",
    "后置",
    "後置",
    "后面",
    "後面",
    "خلفية",
    "arrière",
    "rück",
    "trasera",
    "traseira",
    "trás",
    "posterior",
    "achter",
    "задн",
    "tylny",
    "belakang",
    "baksidan",
    "bagside",
    "takakamera",
    "hátsó",
    "zadní",
    "zadná",
    "πίσω",
    "אחורית",
    "หลัง",
    "mặt sau",
];
const FRONT: &[&str] = &[
    "front",
    "selfie",
    "facetime",
    "전면",
    "前面",
    "前置",
    "أمامية",
    "avant",
    "frontal",
    "anteriore",
    "передн",
    "vorder",
    "przedni",
    "depan",
    "קדמית",
    "μπροστ",
    "หน้า",
    "mặt trước",
];
const FRONT_WORDS: &[&str] = &["user", "ön"];
const ULTRA_WIDE: &[&str] = &[
    "ultra",
    "0.5x",
    "울트라",
    "초광각",
    "超広角",
    "超广角",
    "超廣角",
    "فائق",
    "сверхширок",
];
const TELE_MACRO: &[&str] = &[
    "telephoto",
    "téléobjectif",
    "teleobjektiv",
    "teleobiettivo",
    "telefoto",
    "телефото",
    "망원",
    "望遠",
    "长焦",
    "長焦",
    "macro",
    "makro",
    "매크로",
    "マクロ",
    "微距",
];
const DUAL: &[&str] = &[
    "dual",
    "듀얼",
    "デュアル",
    "双",
    "雙",
    "double",
    "doppia",
    "dupla",
    "doble",
    "doppel",
    "مزدوجة",
    "двойн",
    "здвоєн",
    "kaksois",
];
const WIDE: &[&str] = &[
    "wide",
    "와이드",
    "광각",
    "広角",
    "广角",
    "廣角",
    "grand angle",
    "gran angular",
    "grandangol",
    "grande angular",
    "grande-angular",
    "weitwinkel",
    "عريضة",
    "широк",
    "vidvinkel",
    "laajakulma",
];
const TRIPLE: &[&str] = &[
    "triple",
    "트리플",
    "トリプル",
    "三镜头",
    "三鏡頭",
    "tripla",
    "dreifach",
    "тройн",
    "ثلاثية",
];
const VIRTUAL: &[&str] = &[
    "virtual",
    "manycam",
    "snap camera",
    "xsplit",
    "camtwist",
    "mmhmm",
    "nvidia broadcast",
    "splitcam",
    "e2esoft",
    "youcam",
];
const VIRTUAL_WORDS: &[&str] = &["obs", "vcam"];
const INFRARED: &[&str] = &[
    "infrared",
    "windows hello",
    "적외선",
    "赤外線",
    "红外",
    "紅外",
    "深度",
];
const INFRARED_WORDS: &[&str] = &["ir", "depth"];

/// Whether a camera label names a virtual camera ("OBS Virtual Camera", ManyCam, Snap Camera,
/// XSplit VCam, CamTwist, mmhmm, NVIDIA Broadcast, SplitCam, e2eSoft, YouCam): software that
/// feeds arbitrary video. [`rank`] never offers them; the selfie and liveness steps refuse a
/// track with such a label (and record the flag with the attempt), as Amplify's liveness does.
/// Phone-as-webcam apps (Camo, DroidCam, Continuity Camera) are real cameras: `false`.
pub fn is_virtual_label(label: &str) -> bool {
    LabelInfo::of(label).exclusion == Some(Exclusion::Virtual)
}

impl LabelInfo {
    fn of(label: &str) -> LabelInfo {
        let l = label.to_lowercase();
        let words: Vec<&str> = l
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let any = |list: &[&str]| list.iter().any(|k| l.contains(k));
        let any_word = |list: &[&str]| words.iter().any(|w| list.contains(w));

        let exclusion = if any(VIRTUAL) || any_word(VIRTUAL_WORDS) {
            Some(Exclusion::Virtual)
        } else if any(INFRARED) || any_word(INFRARED_WORDS) {
            Some(Exclusion::Infrared)
        } else {
            None
        };
        let back = any(BACK);
        let front = any(FRONT) || any_word(FRONT_WORDS);
        let side = match (back, front) {
            (true, false) => Some(Facing::Environment),
            (false, true) => Some(Facing::User),
            _ => None,
        };
        // Android's "camera2 0, facing back" (Chrome) / "Camera 0, Facing back, …" (Firefox).
        let index = words
            .windows(2)
            .find(|w| w[0] == "camera" || w[0] == "camera2")
            .filter(|_| words.contains(&"facing"))
            .and_then(|w| w[1].parse().ok());
        let ultra = any(ULTRA_WIDE) && !l.contains("ultra hd") && !l.contains("ultrahd");
        let dual = any(DUAL);
        let wide = any(WIDE);
        let triple = any(TRIPLE);
        LabelInfo {
            side,
            index,
            exclusion,
            secondary: ultra || any(TELE_MACRO) || words.contains(&"tele"),
            dual_wide: dual && wide,
            triple,
            multi: dual || triple,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_words() {
        let i = LabelInfo::of("camera2 0, facing back");
        assert_eq!((i.side, i.index), (Some(Facing::Environment), Some(0)));
        let i = LabelInfo::of("Camera 1, Facing front, Orientation 270");
        assert_eq!((i.side, i.index), (Some(Facing::User), Some(1)));
        assert_eq!(LabelInfo::of("USB2.0 HD UVC WebCam").index, None);
        assert_eq!(
            LabelInfo::of("USB2.0 HD IR UVC WebCam").exclusion,
            Some(Exclusion::Infrared)
        );
        assert_eq!(LabelInfo::of("Mirror Cam").exclusion, None);
        assert_eq!(
            LabelInfo::of("OBS Virtual Camera").exclusion,
            Some(Exclusion::Virtual)
        );
        assert_eq!(LabelInfo::of("Jobs camera").exclusion, None);
        assert!(is_virtual_label("OBS Virtual Camera"));
        assert!(is_virtual_label("ManyCam Virtual Webcam"));
        assert!(is_virtual_label("XSplit VCam"));
        assert!(!is_virtual_label("FaceTime HD Camera"));
        assert!(!is_virtual_label("Jobs camera"));
        assert!(
            !is_virtual_label("USB2.0 HD IR UVC WebCam"),
            "infrared, not virtual"
        );
        assert!(LabelInfo::of("Back Dual Wide Camera").dual_wide);
        assert!(!LabelInfo::of("Back Dual Wide Camera").secondary);
        assert!(LabelInfo::of("Back Ultra Wide Camera").secondary);
        assert!(!LabelInfo::of("Logitech Ultra HD Webcam").secondary);
    }
}
