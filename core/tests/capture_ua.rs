//! `core::capture::ua` against real user-agent strings (as browsers and apps send them).

use liveform_core::capture::ua::{
    chrome_intent_url, percent_encode, Browser, DesktopOs, Escape, EscapeLink, InApp, Platform,
    RecoveryBrowser, UaHints, UserAgent,
};

/// One expectation: platform, browser, in-app, needs_escape, escape.
struct Case {
    ua: &'static str,
    hints: UaHints<'static>,
    platform: Platform,
    browser: Browser,
    in_app: Option<InApp>,
    needs_escape: bool,
    escape: Option<Escape>,
    recovery: RecoveryBrowser,
}

const NO_HINTS: UaHints<'static> = UaHints {
    platform: None,
    max_touch_points: None,
};
const IPAD: UaHints<'static> = UaHints {
    platform: Some("MacIntel"),
    max_touch_points: Some(5),
};
const MAC: UaHints<'static> = UaHints {
    platform: Some("MacIntel"),
    max_touch_points: Some(0),
};
const ANDROID_TABLET: UaHints<'static> = UaHints {
    platform: Some("Linux armv8l"),
    max_touch_points: Some(5),
};

const MAC_OS: Platform = Platform::Desktop(DesktopOs::Mac);
const WINDOWS: Platform = Platform::Desktop(DesktopOs::Windows);
const LINUX: Platform = Platform::Desktop(DesktopOs::Linux);
const INTENT: Option<Escape> = Some(Escape::Link(EscapeLink::ChromeIntent));
const SAFARI_SCHEME: Option<Escape> = Some(Escape::Link(EscapeLink::SafariScheme));
const COPY: Option<Escape> = Some(Escape::CopyLink);
const KAKAO: Option<Escape> = Some(Escape::Link(EscapeLink::KakaoTalk));
const LINE: Option<Escape> = Some(Escape::Link(EscapeLink::Line));

#[allow(clippy::too_many_arguments)]
const fn case(
    ua: &'static str,
    hints: UaHints<'static>,
    platform: Platform,
    browser: Browser,
    in_app: Option<InApp>,
    needs_escape: bool,
    escape: Option<Escape>,
    recovery: RecoveryBrowser,
) -> Case {
    Case {
        ua,
        hints,
        platform,
        browser,
        in_app,
        needs_escape,
        escape,
        recovery,
    }
}

fn cases() -> Vec<Case> {
    use Browser as B;
    use InApp as A;
    use Platform::{Android, Ios};
    use RecoveryBrowser as R;
    vec![
        // ---- iOS browsers
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
            NO_HINTS, Ios, B::Safari, None, false, None, R::IosSafari),
        case("Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1",
            NO_HINTS, Ios, B::Safari, None, false, None, R::IosSafari),
        case("Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
            NO_HINTS, Ios, B::Safari, None, false, None, R::IosSafari),
        // iPadOS Safari asks for desktop sites: a Mac UA, told apart by the touch screen.
        case("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
            IPAD, Ios, B::Safari, None, false, None, R::IosSafari),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/117.0.5938.117 Mobile/15E148 Safari/604.1",
            NO_HINTS, Ios, B::Chrome, None, false, SAFARI_SCHEME, R::Other),
        // Before iOS 14.3 only Safari had getUserMedia.
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 13_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/83.0.4103.88 Mobile/15E148 Safari/604.1",
            NO_HINTS, Ios, B::Chrome, None, true, COPY, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/118.0 Mobile/15E148 Safari/605.1.15",
            NO_HINTS, Ios, B::Firefox, None, false, COPY, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/117.2045.65 Mobile/15E148 Safari/605.1.15",
            NO_HINTS, Ios, B::Edge, None, false, SAFARI_SCHEME, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1 OPT/4.3.2",
            NO_HINTS, Ios, B::Opera, None, false, COPY, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/277.0.555192628 Mobile/15E148 Safari/604.1",
            NO_HINTS, Ios, B::Other, None, false, COPY, R::Other),
        // ---- Android browsers
        case("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36",
            NO_HINTS, Android, B::Chrome, None, false, None, R::ChromeAndroid),
        case("Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            NO_HINTS, Android, B::SamsungInternet, None, false, INTENT, R::SamsungInternet),
        case("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/21.0 Chrome/110.0.5481.154 Safari/537.36",
            NO_HINTS, Android, B::SamsungInternet, None, false, INTENT, R::SamsungInternet),
        case("Mozilla/5.0 (Android 13; Mobile; rv:109.0) Gecko/118.0 Firefox/118.0",
            NO_HINTS, Android, B::Firefox, None, false, INTENT, R::Other),
        case("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36 EdgA/118.0.2088.66",
            NO_HINTS, Android, B::Edge, None, false, INTENT, R::Other),
        case("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Mobile Safari/537.36 OPR/78.4.4143.75736",
            NO_HINTS, Android, B::Opera, None, false, INTENT, R::Other),
        case("Mozilla/5.0 (Linux; U; Android 13; en-us; 22101316G Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.9.71230",
            NO_HINTS, Android, B::Other, None, false, INTENT, R::Other),
        // Chrome on an Android tablet asks for desktop sites: a Linux UA, an ARM platform, touch.
        case("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
            ANDROID_TABLET, Android, B::Chrome, None, false, None, R::ChromeAndroid),
        // ---- desktop
        case("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
            NO_HINTS, WINDOWS, B::Chrome, None, false, None, R::DesktopChrome),
        case("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 Edg/118.0.2088.46",
            NO_HINTS, WINDOWS, B::Edge, None, false, None, R::DesktopChrome),
        case("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36 OPR/103.0.0.0",
            NO_HINTS, WINDOWS, B::Opera, None, false, None, R::DesktopChrome),
        case("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/118.0",
            NO_HINTS, WINDOWS, B::Firefox, None, false, None, R::DesktopFirefox),
        case("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Whale/3.23.214.10 Safari/537.36",
            NO_HINTS, WINDOWS, B::Other, None, false, None, R::Other),
        case("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
            NO_HINTS, LINUX, B::Firefox, None, false, None, R::DesktopFirefox),
        case("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
            NO_HINTS, LINUX, B::Chrome, None, false, None, R::DesktopChrome),
        case("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
            NO_HINTS, Platform::Desktop(DesktopOs::ChromeOs), B::Chrome, None, false, None, R::DesktopChrome),
        case("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15",
            MAC, MAC_OS, B::Safari, None, false, None, R::DesktopSafari),
        case("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
            MAC, MAC_OS, B::Chrome, None, false, None, R::DesktopChrome),
        case("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:109.0) Gecko/20100101 Firefox/118.0",
            NO_HINTS, MAC_OS, B::Firefox, None, false, None, R::DesktopFirefox),
        // ---- in-app browsers
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 290.0.0.13.76 (iPhone13,2; iOS 16_5; en_US; en-US; scale=3.00; 1170x2532; 497219404)",
            NO_HINTS, Ios, B::Other, Some(A::Instagram), true, COPY, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 307.0.2.22.108 (iPhone15,2; iOS 17_1; ko_KR; ko; scale=3.00; 1179x2556; 533414106)",
            NO_HINTS, Ios, B::Other, Some(A::Instagram), true, SAFARI_SCHEME, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/118.0.5993.80 Mobile Safari/537.36 Instagram 305.0.0.34.110 Android (33/13; 420dpi; 1080x2176; samsung; SM-G991B; o1s; exynos2100; en_US; 529083166)",
            NO_HINTS, Android, B::Other, Some(A::Instagram), true, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/0]",
            NO_HINTS, Ios, B::Other, Some(A::Facebook), true, COPY, R::Other),
        case("Mozilla/5.0 (Linux; Android 12; SM-A525F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.140 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/436.0.0.35.101;]",
            NO_HINTS, Android, B::Other, Some(A::Facebook), true, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/MessengerForiOS;FBAV/430.0.0.40.109;FBBV/532445318;FBDV/iPhone13,2;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]",
            NO_HINTS, Ios, B::Other, Some(A::Messenger), true, COPY, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36 [FB_IAB/Orca-Android;FBAV/428.0.0.22.113;]",
            NO_HINTS, Android, B::Other, Some(A::Messenger), true, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.3.5",
            NO_HINTS, Ios, B::Other, Some(A::KakaoTalk), true, KAKAO, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; SM-S908N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36;KAKAOTALK 2410300",
            NO_HINTS, Android, B::Other, Some(A::KakaoTalk), true, KAKAO, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.16.0",
            NO_HINTS, Ios, B::Other, Some(A::Line), true, LINE, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; SM-S911N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36 Line/13.17.1/IAB",
            NO_HINTS, Android, B::Other, Some(A::Line), true, LINE, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 1000; 12.0.4; 14PRO)",
            NO_HINTS, Ios, B::Other, Some(A::Naver), true, COPY, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; SM-S918N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.1.6)",
            NO_HINTS, Android, B::Other, Some(A::Naver), true, INTENT, R::Other),
        case("Mozilla/5.0 (Linux; Android 12; SM-A515F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.5845.163 Mobile Safari/537.36 trill_310203 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/trill app_version/31.2.3 ByteLocale/en ByteFullLocale/en Region/US AppId/1180 Spark/1.4.8.2-bugfix AppVersion/31.2.3 BytedanceWebview/d8a21c6",
            NO_HINTS, Android, B::Other, Some(A::TikTok), true, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_31.5.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US isDarkMode/0 WKWebView/1 RevealType/Dialog BytedanceWebview/d8a21c6",
            NO_HINTS, Ios, B::Other, Some(A::TikTok), true, COPY, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN",
            NO_HINTS, Ios, B::Other, Some(A::WeChat), true, COPY, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5317 MMWEBSDK/20230805 MMWEBID/2590 MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
            NO_HINTS, Android, B::Other, Some(A::WeChat), true, COPY, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/12.54.0.36 (like Safari/8615.3.12.10.2, panda)",
            NO_HINTS, Ios, B::Other, Some(A::Snapchat), true, COPY, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; Pixel 6 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.5845.163 Mobile Safari/537.36 TwitterAndroid",
            NO_HINTS, Android, B::Other, Some(A::Twitter), true, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
            NO_HINTS, Ios, B::Other, Some(A::Pinterest), true, COPY, R::Other),
        case("Mozilla/5.0 (Linux; Android 13; SM-G998B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36 [Pinterest/Android]",
            NO_HINTS, Android, B::Other, Some(A::Pinterest), true, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.28.2241",
            NO_HINTS, Ios, B::Other, Some(A::LinkedIn), true, SAFARI_SCHEME, R::Other),
        // Telegram: recognised, not escaped up front (see the module docs).
        case("Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.210 Mobile Safari/537.36 Telegram-Android/10.5.0 (Samsung SM-S918B; Android 14; SDK 34; HIGH)",
            NO_HINTS, Android, B::Other, Some(A::Telegram), false, INTENT, R::Other),
        // Generic WebViews: tried first.
        case("Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36",
            NO_HINTS, Android, B::Other, Some(A::AndroidWebView), false, INTENT, R::Other),
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            NO_HINTS, Ios, B::Other, Some(A::IosWebView), false, COPY, R::Other),
        // …except before iOS 14.3, where WKWebView had no getUserMedia.
        case("Mozilla/5.0 (iPhone; CPU iPhone OS 13_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            NO_HINTS, Ios, B::Other, Some(A::IosWebView), true, COPY, R::Other),
    ]
}

#[test]
fn real_user_agents() {
    let all = cases();
    assert!(all.len() >= 50, "{} cases", all.len());
    for c in all {
        let got = UserAgent::parse_with(c.ua, c.hints);
        let want = (
            c.platform,
            c.browser,
            c.in_app,
            c.needs_escape,
            c.escape,
            c.recovery,
        );
        let have = (
            got.platform,
            got.browser,
            got.in_app,
            got.needs_escape,
            got.escape,
            got.recovery_browser(),
        );
        assert_eq!(have, want, "{}", c.ua);
    }
}

#[test]
fn ipad_in_desktop_mode_needs_the_touch_hint() {
    let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
    let without = UserAgent::parse(ua);
    assert_eq!(without.platform, MAC_OS);
    assert_eq!(without.recovery_browser(), RecoveryBrowser::DesktopSafari);
    let with = UserAgent::parse_with(ua, IPAD);
    assert_eq!(with.platform, Platform::Ios);
    assert_eq!(with.ios_version, Some((17, 0)));
    assert!(with.is_mobile());
    // A Mac reports no touch points.
    assert_eq!(UserAgent::parse_with(ua, MAC).platform, MAC_OS);
}

#[test]
fn android_desktop_mode_needs_an_arm_platform_and_touch() {
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36";
    let desktop_touch = UaHints {
        platform: Some("Linux x86_64"),
        max_touch_points: Some(10),
    };
    assert_eq!(UserAgent::parse_with(ua, desktop_touch).platform, LINUX);
    let arm_no_touch = UaHints {
        platform: Some("Linux aarch64"),
        max_touch_points: Some(0),
    };
    assert_eq!(UserAgent::parse_with(ua, arm_no_touch).platform, LINUX);
    let arm_touch = UaHints {
        platform: Some("Linux aarch64"),
        max_touch_points: Some(5),
    };
    assert_eq!(
        UserAgent::parse_with(ua, arm_touch).platform,
        Platform::Android
    );
}

#[test]
fn ios_versions() {
    let v = |ua: &str| UserAgent::parse(ua).ios_version;
    assert_eq!(
        v("Mozilla/5.0 (iPhone; CPU iPhone OS 14_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"),
        Some((14, 3))
    );
    assert_eq!(
        v("Mozilla/5.0 (iPad; CPU OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
        Some((17, 1))
    );
    assert_eq!(
        v("Mozilla/5.0 (iPhone; CPU iPhone OS 18 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"),
        Some((18, 0))
    );
    assert_eq!(
        v("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/118.0.0.0 Safari/537.36"),
        None
    );
    // 14.3 is the first WKWebView with getUserMedia.
    let at = UserAgent::parse(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 14_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    );
    assert!(!at.needs_escape);
    let before = UserAgent::parse(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 14_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/87.0.4280.77 Mobile/15E148 Safari/604.1",
    );
    assert!(before.needs_escape);
    // Old Safari is Safari: no other browser would do better.
    let old_safari = UserAgent::parse(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
    );
    assert!(!old_safari.needs_escape);
}

#[test]
fn odd_inputs_do_not_panic() {
    for ua in [
        "",
        "Line/",
        "iPhone OS ",
        "CPU OS _",
        "Version/",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 99999999999_1 like Mac OS X)",
        "\u{0}\u{ffff}한국어 KAKAOTALK",
        "curl/8.4.0",
    ] {
        let _ = UserAgent::parse(ua);
    }
    let bot = UserAgent::parse("curl/8.4.0");
    assert_eq!(bot.platform, Platform::Desktop(DesktopOs::Other));
    assert_eq!(bot.browser, Browser::Other);
    assert_eq!(bot.in_app, None);
    assert_eq!(bot.escape, None);
}

#[test]
fn tokens_are_not_matched_inside_words() {
    // "Online/" is not LINE.
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 Online/2.0";
    assert_eq!(UserAgent::parse(ua).in_app, None);
}

#[test]
fn every_named_app_blocks_the_camera_but_the_generic_ones() {
    use InApp as A;
    for app in [
        A::Instagram,
        A::Facebook,
        A::Messenger,
        A::KakaoTalk,
        A::Line,
        A::Naver,
        A::TikTok,
        A::WeChat,
        A::Snapchat,
        A::Twitter,
        A::Pinterest,
        A::LinkedIn,
    ] {
        assert!(app.blocks_camera(), "{app:?}");
        assert!(app.display_name().is_some(), "{app:?}");
    }
    for app in [A::Telegram, A::AndroidWebView, A::IosWebView] {
        assert!(!app.blocks_camera(), "{app:?}");
    }
    assert_eq!(A::AndroidWebView.display_name(), None);
    assert_eq!(A::Line.display_name(), Some("LINE"));
}

const URL: &str = "https://form.example.com/h/AbC123?lang=ko";

#[test]
fn chrome_intent() {
    assert_eq!(
        chrome_intent_url(URL).unwrap(),
        "intent://form.example.com/h/AbC123?lang=ko#Intent;scheme=https;package=com.android.chrome;\
         S.browser_fallback_url=https%3A%2F%2Fform.example.com%2Fh%2FAbC123%3Flang%3Dko;end"
    );
    // The fragment cannot survive (the intent's parameters live there).
    assert_eq!(
        chrome_intent_url("https://a.example/p#frag").unwrap(),
        "intent://a.example/p#Intent;scheme=https;package=com.android.chrome;\
         S.browser_fallback_url=https%3A%2F%2Fa.example%2Fp;end"
    );
    // Case-insensitive scheme.
    assert!(chrome_intent_url("HTTPS://a.example/").is_some());
    // Plain http only on loopback (local runs and tests).
    assert_eq!(
        chrome_intent_url("http://127.0.0.1:8080/?handoff=x").unwrap(),
        "intent://127.0.0.1:8080/?handoff=x#Intent;scheme=http;package=com.android.chrome;\
         S.browser_fallback_url=http%3A%2F%2F127.0.0.1%3A8080%2F%3Fhandoff%3Dx;end"
    );
    assert!(chrome_intent_url("http://localhost/").is_some());
    for bad in [
        "http://127.0.0.1.evil.example/",
        "http://localhost:80x/",
        "http://[::2]/",
    ] {
        assert_eq!(chrome_intent_url(bad), None, "{bad:?}");
    }
    for bad in [
        "http://a.example/",
        "https://",
        "javascript:alert(1)",
        "intent://a#Intent;end",
        "https://a.example/with space",
        "https://a.example/\n",
        "",
        "ftp://x",
    ] {
        assert_eq!(chrome_intent_url(bad), None, "{bad:?}");
        assert_eq!(
            Escape::Link(EscapeLink::KakaoTalk).url(bad),
            None,
            "{bad:?}"
        );
        assert_eq!(Escape::Link(EscapeLink::Line).url(bad), None, "{bad:?}");
        assert_eq!(
            Escape::Link(EscapeLink::SafariScheme).url(bad),
            None,
            "{bad:?}"
        );
    }
}

#[test]
fn other_escape_links() {
    assert_eq!(
        Escape::Link(EscapeLink::KakaoTalk).url(URL).unwrap(),
        "kakaotalk://web/openExternal?url=https%3A%2F%2Fform.example.com%2Fh%2FAbC123%3Flang%3Dko"
    );
    assert_eq!(
        Escape::Link(EscapeLink::Line).url(URL).unwrap(),
        "https://form.example.com/h/AbC123?lang=ko&openExternalBrowser=1"
    );
    assert_eq!(
        Escape::Link(EscapeLink::Line)
            .url("https://form.example.com/h/AbC123")
            .unwrap(),
        "https://form.example.com/h/AbC123?openExternalBrowser=1"
    );
    assert_eq!(
        Escape::Link(EscapeLink::SafariScheme).url(URL).unwrap(),
        "x-safari-https://form.example.com/h/AbC123?lang=ko"
    );
    assert_eq!(
        Escape::Link(EscapeLink::ChromeIntent).url(URL),
        chrome_intent_url(URL)
    );
    assert_eq!(Escape::CopyLink.url(URL), None);
    assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
}

#[test]
fn serialises_for_telemetry() {
    let ua = UserAgent::parse(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15",
    );
    let v = serde_json::to_value(ua).unwrap();
    assert_eq!(v["platform"], serde_json::json!({"desktop": "mac"}));
    assert_eq!(v["browser"], "safari");
    assert_eq!(v["in_app"], serde_json::Value::Null);
    let ig = UserAgent::parse(
        "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/118.0.5993.80 Mobile Safari/537.36 Instagram 305.0.0.34.110 Android (33/13; 420dpi; 1080x2176; samsung; SM-G991B; o1s; exynos2100; en_US; 529083166)",
    );
    let v = serde_json::to_value(ig).unwrap();
    assert_eq!(v["in_app"], "instagram");
    assert_eq!(v["escape"], serde_json::json!({"link": "chrome_intent"}));
    let back: UserAgent = serde_json::from_value(v).unwrap();
    assert_eq!(back, ig);
}
