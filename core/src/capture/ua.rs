//! What the user agent is, for the camera layer: platform, browser, in-app browser.
//!
//! Input: `navigator.userAgent`, plus two hints the UA string alone cannot give:
//! `navigator.platform` and `navigator.maxTouchPoints`. iPadOS Safari (13+) asks for desktop sites
//! by default and reports itself as a Mac (`Macintosh; Intel Mac OS X 10_15_7`); a touch screen
//! (`maxTouchPoints > 1`) is what gives it away, as no Mac has one. Chrome on Android tablets asks
//! for desktop sites by default too (`X11; Linux x86_64`), but keeps `navigator.platform` at
//! `Linux armv8l`/`Linux aarch64`: an ARM Linux with a touch screen is taken for Android.
//!
//! In-app browsers are recognised by the tokens their apps add; the generic cases are the Android
//! WebView marker `; wv)` and an iOS WebKit UA without the `Safari/` token (a `WKWebView`).
//! [`UserAgent::needs_escape`] is `true` for the apps known to block or break `getUserMedia`
//! (the form shows "open in your browser" before trying the camera); every other in-app browser
//! is tried first and gets the same way out only after a camera failure
//! ([`crate::capture::camera::CameraError::InAppBrowser`]).
//!
//! Decisions:
//! * Telegram is recognised (`Telegram-Android`) but not escaped: Telegram opens links in Chrome
//!   Custom Tabs / `SFSafariViewController` by default (full browsers, camera works), and its own
//!   WebView asks for the camera like a browser.
//! * A generic Android WebView or iOS `WKWebView` is not escaped up front: it may be the
//!   integrator's own app, which can grant the camera (iOS ≥ 14.3, Android with
//!   `onPermissionRequest`), and an iOS home-screen web app has the same UA shape. Exception: iOS
//!   before 14.3 had no `getUserMedia` outside Safari, so every non-Safari iOS browser there is
//!   escaped.
//! * `browser` is [`Browser::Other`] inside any in-app browser, even when the engine's tokens say
//!   Chrome or Safari: the person cannot use that browser's settings there.
//! * No automatic navigation: [`Escape`] describes a link for a button the person taps (several
//!   apps only hand a URL to another app on a user gesture).

use serde::{Deserialize, Serialize};

/// The operating system family that decides constraints and recovery steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// iPhone, iPod touch, iPad (also in desktop mode, with [`UaHints`]).
    Ios,
    /// Android phones and tablets (also in desktop mode, with [`UaHints`]).
    Android,
    /// Everything else.
    Desktop(DesktopOs),
}

/// The desktop operating systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesktopOs {
    Mac,
    Windows,
    Linux,
    ChromeOs,
    Other,
}

/// The browser app (not the engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Browser {
    Safari,
    /// Chrome, also Chrome on iOS (`CriOS`) and Chromium builds without a token of their own.
    Chrome,
    SamsungInternet,
    /// Firefox, also on iOS (`FxiOS`).
    Firefox,
    /// Edge (`Edg/`, `EdgA/`, `EdgiOS/`).
    Edge,
    /// Opera (`OPR/`, `OPiOS/`, `OPT/`, `OPX/`, Opera Mini).
    Opera,
    /// Any other browser, and every in-app browser.
    Other,
}

/// An in-app browser (a page opened from inside another app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InApp {
    Instagram,
    Facebook,
    Messenger,
    KakaoTalk,
    Line,
    Naver,
    /// TikTok and other ByteDance apps (`musical_ly`, `trill_`, `BytedanceWebview`).
    TikTok,
    /// WeChat (`MicroMessenger`), also WeCom.
    WeChat,
    Snapchat,
    /// X, formerly Twitter (its Android WebView; on iOS it uses `SFSafariViewController`, which
    /// is Safari and not detectable).
    Twitter,
    Pinterest,
    LinkedIn,
    Telegram,
    /// An Android WebView of an app not listed here (`; wv)`).
    #[serde(rename = "android_webview")]
    AndroidWebView,
    /// An iOS `WKWebView` of an app not listed here (no `Safari/` token).
    #[serde(rename = "ios_webview")]
    IosWebView,
}

impl InApp {
    /// The app's name as people know it; `None` for the generic WebViews.
    pub fn display_name(self) -> Option<&'static str> {
        Some(match self {
            InApp::Instagram => "Instagram",
            InApp::Facebook => "Facebook",
            InApp::Messenger => "Messenger",
            InApp::KakaoTalk => "KakaoTalk",
            InApp::Line => "LINE",
            InApp::Naver => "NAVER",
            InApp::TikTok => "TikTok",
            InApp::WeChat => "WeChat",
            InApp::Snapchat => "Snapchat",
            InApp::Twitter => "X",
            InApp::Pinterest => "Pinterest",
            InApp::LinkedIn => "LinkedIn",
            InApp::Telegram => "Telegram",
            InApp::AndroidWebView | InApp::IosWebView => return None,
        })
    }

    /// Whether this app's browser is known to block or break `getUserMedia`, so that the form
    /// sends the person to a real browser before trying the camera.
    ///
    /// Meta's apps (Instagram, Facebook, Messenger), TikTok, Snapchat, X, Pinterest, LinkedIn and
    /// WeChat deny the camera in their Android WebViews and are unreliable on iOS (Persona and
    /// BlinkID declare them unsupported). KakaoTalk, LINE and NAVER are named by issue 5; the
    /// first two have an official one-tap way out, so escaping them costs the person one tap.
    pub fn blocks_camera(self) -> bool {
        !matches!(
            self,
            InApp::Telegram | InApp::AndroidWebView | InApp::IosWebView
        )
    }
}

/// Which browser's steps to show after the camera permission was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryBrowser {
    /// Safari on iPhone/iPad ("aA" menu → Website Settings → Camera, or Settings → Safari).
    IosSafari,
    /// Chrome on Android (lock icon → Permissions → Camera).
    ChromeAndroid,
    /// Samsung Internet (its own permission UI: ⋮ → Settings → Sites and downloads → Site
    /// permissions).
    SamsungInternet,
    /// Chrome and the other Chromium desktop browsers with the same site-settings control in the
    /// address bar (Edge, Opera).
    DesktopChrome,
    DesktopFirefox,
    DesktopSafari,
    /// Anything else (other browsers on iOS/Android, in-app browsers): generic steps.
    Other,
}

/// How to leave for a real browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Escape {
    /// A link that opens the page elsewhere: a button navigates to [`EscapeLink::url`]. Copy-link
    /// steps stay on the screen too, in case the app ignores the link.
    Link(EscapeLink),
    /// No link works: show the address with a copy button and the steps (the app's menu → "Open
    /// in browser"/"Open in Safari", or paste the address into Safari/Chrome).
    CopyLink,
}

impl Escape {
    /// The address a button should open, when there is one (`https_url` must be `https://`).
    pub fn url(self, https_url: &str) -> Option<String> {
        match self {
            Escape::Link(l) => l.url(https_url),
            Escape::CopyLink => None,
        }
    }
}

/// The kinds of escape link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscapeLink {
    /// Android: an `intent:` URL that opens Chrome ([`chrome_intent_url`]).
    ChromeIntent,
    /// KakaoTalk (iOS and Android): `kakaotalk://web/openExternal?url=…` opens the default browser.
    KakaoTalk,
    /// LINE (iOS and Android): the same address with `openExternalBrowser=1` opens the default
    /// browser.
    Line,
    /// iOS 17+: `x-safari-https://…` asks iOS to open the address in Safari. Not every app passes
    /// it on, so the copy-link steps stay next to it.
    SafariScheme,
}

impl EscapeLink {
    /// The link for `https_url`; `None` when it is not an `https://` URL (or contains spaces or
    /// control characters).
    pub fn url(self, https_url: &str) -> Option<String> {
        let (scheme, rest) = https_rest(https_url)?;
        Some(match self {
            EscapeLink::ChromeIntent => return chrome_intent_url(https_url),
            EscapeLink::KakaoTalk => format!(
                "kakaotalk://web/openExternal?url={}",
                percent_encode(https_url)
            ),
            EscapeLink::Line => with_query_param(https_url, "openExternalBrowser=1"),
            EscapeLink::SafariScheme => format!("x-safari-{scheme}://{rest}"),
        })
    }
}

/// What the form knows about the browser it runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAgent {
    pub platform: Platform,
    pub browser: Browser,
    pub in_app: Option<InApp>,
    /// iOS version (major, minor), when the UA says it.
    pub ios_version: Option<(u16, u16)>,
    /// Send the person to a real browser before trying the camera (see the module docs).
    pub needs_escape: bool,
    /// How to leave for a real browser; `None` where the form already runs in the platform's
    /// main browser (Safari on iOS, Chrome on Android) or on a desktop (whose way out is another
    /// device, not another browser).
    pub escape: Option<Escape>,
}

/// Hints from `navigator` that the UA string alone lacks (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UaHints<'a> {
    /// `navigator.platform`, e.g. `MacIntel`, `Linux armv8l`, `iPhone`.
    pub platform: Option<&'a str>,
    /// `navigator.maxTouchPoints`.
    pub max_touch_points: Option<u32>,
}

impl UserAgent {
    /// Classifies a UA string without hints (iPadOS in desktop mode reads as a Mac).
    pub fn parse(ua: &str) -> UserAgent {
        UserAgent::parse_with(ua, UaHints::default())
    }

    /// Classifies a UA string with the `navigator` hints.
    pub fn parse_with(ua: &str, hints: UaHints<'_>) -> UserAgent {
        let touch = hints.max_touch_points.unwrap_or(0);
        let platform = if ["iPhone", "iPad", "iPod"].iter().any(|t| ua.contains(t)) {
            Platform::Ios
        } else if ua.contains("Android") {
            Platform::Android
        } else if ua.contains("CrOS") {
            Platform::Desktop(DesktopOs::ChromeOs)
        } else if ua.contains("Macintosh") || ua.contains("Mac OS X") {
            if touch > 1 {
                Platform::Ios
            } else {
                Platform::Desktop(DesktopOs::Mac)
            }
        } else if ua.contains("Windows") {
            Platform::Desktop(DesktopOs::Windows)
        } else if ua.contains("Linux") || ua.contains("X11") {
            let arm = hints.platform.is_some_and(|p| {
                let p = p.to_ascii_lowercase();
                p.contains("arm") || p.contains("aarch64")
            });
            if arm && touch > 0 {
                Platform::Android
            } else {
                Platform::Desktop(DesktopOs::Linux)
            }
        } else {
            Platform::Desktop(DesktopOs::Other)
        };

        let in_app = detect_in_app(ua, platform);
        let browser = if in_app.is_some() {
            Browser::Other
        } else {
            detect_browser(ua, platform)
        };
        let ios_version = if platform == Platform::Ios {
            ios_version(ua)
        } else {
            None
        };
        let before_14_3 = ios_version.is_some_and(|v| v < (14, 3));
        let needs_escape = in_app.is_some_and(InApp::blocks_camera)
            || (platform == Platform::Ios && browser != Browser::Safari && before_14_3);
        let escape = match platform {
            Platform::Android => match in_app {
                Some(InApp::KakaoTalk) => Some(Escape::Link(EscapeLink::KakaoTalk)),
                Some(InApp::Line) => Some(Escape::Link(EscapeLink::Line)),
                // WeChat swallows intent: links.
                Some(InApp::WeChat) => Some(Escape::CopyLink),
                Some(_) => Some(Escape::Link(EscapeLink::ChromeIntent)),
                None if browser == Browser::Chrome => None,
                None => Some(Escape::Link(EscapeLink::ChromeIntent)),
            },
            Platform::Ios => match in_app {
                Some(InApp::KakaoTalk) => Some(Escape::Link(EscapeLink::KakaoTalk)),
                Some(InApp::Line) => Some(Escape::Link(EscapeLink::Line)),
                Some(InApp::WeChat) => Some(Escape::CopyLink),
                None if browser == Browser::Safari => None,
                _ if ios_version.is_some_and(|v| v >= (17, 0)) => {
                    Some(Escape::Link(EscapeLink::SafariScheme))
                }
                _ => Some(Escape::CopyLink),
            },
            Platform::Desktop(_) => None,
        };
        UserAgent {
            platform,
            browser,
            in_app,
            ios_version,
            needs_escape,
            escape,
        }
    }

    /// iOS or Android.
    pub fn is_mobile(&self) -> bool {
        matches!(self.platform, Platform::Ios | Platform::Android)
    }

    /// Which browser's steps to show after a permission denial.
    pub fn recovery_browser(&self) -> RecoveryBrowser {
        if self.in_app.is_some() {
            return RecoveryBrowser::Other;
        }
        match (self.platform, self.browser) {
            (Platform::Ios, Browser::Safari) => RecoveryBrowser::IosSafari,
            (Platform::Android, Browser::Chrome) => RecoveryBrowser::ChromeAndroid,
            (Platform::Android, Browser::SamsungInternet) => RecoveryBrowser::SamsungInternet,
            (Platform::Desktop(_), Browser::Chrome | Browser::Edge | Browser::Opera) => {
                RecoveryBrowser::DesktopChrome
            }
            (Platform::Desktop(_), Browser::Firefox) => RecoveryBrowser::DesktopFirefox,
            (Platform::Desktop(DesktopOs::Mac), Browser::Safari) => RecoveryBrowser::DesktopSafari,
            _ => RecoveryBrowser::Other,
        }
    }
}

fn detect_in_app(ua: &str, platform: Platform) -> Option<InApp> {
    let lower = ua.to_ascii_lowercase();
    let has = |t: &str| ua.contains(t);
    let app = if has("Instagram") {
        InApp::Instagram
    } else if has("MessengerForiOS")
        || has("FBAN/Messenger")
        || has("Orca-Android")
        || has("MessengerLite")
    {
        InApp::Messenger
    } else if has("FBAN/") || has("FBAV/") || has("FB_IAB") || has("FBIOS") {
        InApp::Facebook
    } else if lower.contains("kakaotalk") {
        InApp::KakaoTalk
    } else if has_token(ua, "Line/") {
        InApp::Line
    } else if has("NAVER(inapp") {
        InApp::Naver
    } else if has("musical_ly")
        || has("BytedanceWebview")
        || has_token(ua, "trill_")
        || has("TikTok")
    {
        InApp::TikTok
    } else if has("MicroMessenger") {
        InApp::WeChat
    } else if has("Snapchat") {
        InApp::Snapchat
    } else if has("Twitter") {
        InApp::Twitter
    } else if has("Pinterest") {
        InApp::Pinterest
    } else if has("LinkedInApp") {
        InApp::LinkedIn
    } else if has("Telegram") {
        InApp::Telegram
    } else if platform == Platform::Android && has("; wv)") {
        InApp::AndroidWebView
    } else if platform == Platform::Ios && has("AppleWebKit") && !has("Safari/") {
        InApp::IosWebView
    } else {
        return None;
    };
    Some(app)
}

fn detect_browser(ua: &str, platform: Platform) -> Browser {
    let has = |t: &str| ua.contains(t);
    if has("SamsungBrowser/") {
        Browser::SamsungInternet
    } else if has("EdgiOS/") || has("EdgA/") || has("Edg/") || has("Edge/") {
        Browser::Edge
    } else if has("OPR/") || has("OPiOS/") || has("OPT/") || has("OPX/") || has("Opera") {
        Browser::Opera
    } else if has("FxiOS/") || has("Firefox/") {
        Browser::Firefox
    } else if [
        "YaBrowser/",
        "UCBrowser/",
        "MiuiBrowser/",
        "HuaweiBrowser/",
        "HeyTapBrowser/",
        "VivoBrowser/",
        "Whale/",
        "DuckDuckGo/",
        "Ddg/",
        "Vivaldi/",
        "Silk/",
        "QQBrowser/",
        "Quark/",
        "GSA/",
    ]
    .iter()
    .any(|t| has(t))
    {
        Browser::Other
    } else if has("CriOS/") || has("Chrome/") || has("Chromium/") {
        Browser::Chrome
    } else if has("Safari/")
        && matches!(platform, Platform::Ios | Platform::Desktop(DesktopOs::Mac))
    {
        Browser::Safari
    } else {
        Browser::Other
    }
}

/// `token` at the start of the UA or after a separator (so `Line/` does not match `Online/`).
fn has_token(ua: &str, token: &str) -> bool {
    ua.match_indices(token).any(|(i, _)| {
        i == 0
            || matches!(
                ua.as_bytes()[i - 1],
                b' ' | b';' | b'(' | b'[' | b')' | b','
            )
    })
}

/// `CPU iPhone OS 16_5 like Mac OS X`, `CPU OS 17_1_2 like Mac OS X` (iPad); for an iPad in
/// desktop mode, Safari's `Version/17.1` (which follows the iOS version).
fn ios_version(ua: &str) -> Option<(u16, u16)> {
    for marker in ["iPhone OS ", "CPU OS "] {
        if let Some(i) = ua.find(marker) {
            return parse_version(&ua[i + marker.len()..], '_');
        }
    }
    let i = ua.find("Version/")?;
    parse_version(&ua[i + "Version/".len()..], '.')
}

fn parse_version(s: &str, sep: char) -> Option<(u16, u16)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == sep))
        .unwrap_or(s.len());
    let mut parts = s[..end].split(sep);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// The part after `https://` of an acceptable URL.
/// `(scheme, rest)` of an `https://` URL, or of an `http://` URL on a loopback host (local
/// development and tests; browsers treat loopback as a secure context); `None` for anything else
/// or with spaces / control characters.
fn https_rest(url: &str) -> Option<(&'static str, &str)> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let after = |prefix: &str| {
        url.get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(prefix) && url.len() > prefix.len())
            .map(|_| &url[prefix.len()..])
    };
    if let Some(rest) = after("https://") {
        return Some(("https", rest));
    }
    let rest = after("http://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]").then_some(("http", rest))
}

/// An Android `intent:` URL that opens `https_url` in Chrome:
/// `intent://host/path?query#Intent;scheme=https;package=com.android.chrome;S.browser_fallback_url=…;end`.
///
/// The URL's own fragment is dropped (the intent's parameters live in the fragment): carry state
/// in the path or the query. Where Chrome is not installed, Android opens the fallback, the same
/// address, in the current browser. `None` unless `https_url` is an `https://` URL.
pub fn chrome_intent_url(https_url: &str) -> Option<String> {
    let (scheme, rest) = https_rest(https_url)?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let without_fragment = https_url.split('#').next().unwrap_or(https_url);
    Some(format!(
        "intent://{rest}#Intent;scheme={scheme};package=com.android.chrome;S.browser_fallback_url={};end",
        percent_encode(without_fragment)
    ))
}

/// `url` with `param` (`name=value`) added to its query, before any fragment.
fn with_query_param(url: &str, param: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let sep = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{sep}{param}{fragment}")
}

/// Percent-encodes everything but the RFC 3986 unreserved characters (like
/// `encodeURIComponent`, which also keeps `!'()*`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_need_a_separator_before_them() {
        assert!(has_token("Mobile Safari Line/13.1.0", "Line/"));
        assert!(!has_token("Mozilla Online/1.0", "Line/"));
        assert!(has_token("Line/1", "Line/"));
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("16_5 like Mac", '_'), Some((16, 5)));
        assert_eq!(parse_version("17 like", '_'), Some((17, 0)));
        assert_eq!(parse_version("17.1.2 Safari", '.'), Some((17, 1)));
        assert_eq!(parse_version("x", '.'), None);
    }

    #[test]
    fn query_params() {
        assert_eq!(with_query_param("https://a/b", "x=1"), "https://a/b?x=1");
        assert_eq!(
            with_query_param("https://a/b?y=2", "x=1"),
            "https://a/b?y=2&x=1"
        );
        assert_eq!(with_query_param("https://a/b?", "x=1"), "https://a/b?x=1");
        assert_eq!(
            with_query_param("https://a/b?y=2#f", "x=1"),
            "https://a/b?y=2&x=1#f"
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(
            percent_encode("https://a.b/c?d=e&f=g h~"),
            "https%3A%2F%2Fa.b%2Fc%3Fd%3De%26f%3Dg%20h~"
        );
        assert_eq!(percent_encode("한"), "%ED%95%9C");
    }
}
