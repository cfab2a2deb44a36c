//! The frame event protocol's transport (`liveform_core::embed` holds the schema and the
//! checks). The main module only posts (the snippet is in `crate::module`): its events
//! wait in a queue on `globalThis.__liveformEmbed` until the link is up. The link itself (the
//! handshake, the inbound listener, the content height) is set up by the capture module, which
//! a framed form loads right after its first screen (`crate::embed_link`), keeping the
//! first screen small for everyone.

use liveform_core::embed::{envelope, EventType, FrameComplete};

use super::module::{lf_embed_mode, lf_embed_post};

/// Posts one event (its payload already JSON) to the host page, when there is one.
pub fn post(kind: EventType, payload_json: &str) {
    lf_embed_post(&envelope(kind, payload_json));
}

/// The project's choice for completion inside a frame (known once the link is up).
pub fn complete_mode() -> FrameComplete {
    if lf_embed_mode() == "navigate_top" {
        FrameComplete::NavigateTop
    } else {
        FrameComplete::Notify
    }
}
