/*! Liveform host kit, protocol version 1. Apache-2.0. No dependencies.
 *
 * Embeds the Liveform identity-verification form in an <iframe> and hears its events
 * (docs/embedding.md). Usage:
 *
 *   <script src="https://FORM-SERVER/embed/liveform-host.js"></script>
 *   <script>
 *     const form = Liveform.mount(document.getElementById("kyc"), {
 *       url: "https://FORM-SERVER/?pid=…&encrypted=…",
 *       onComplete: (p) => { // p.status, p.submissionId, p.returnUrl
 *         // Confirm the result on your server (webhook or results API), then move on.
 *       },
 *       onError: (p) => console.log("form shows error", p.code),
 *     });
 *     // form.setLanguage("ko"); form.close(); form.destroy();
 *   </script>
 *
 * Only messages from the frame's own window and origin, with source "liveform" and version 1,
 * are passed on; commands go to the form's origin only, with the nonce of its `ready` event.
 */
(function (global) {
  "use strict";
  var VERSION = 1;
  var TYPES = ["ready", "step", "error", "complete", "cancel", "resize"];

  function mount(container, options) {
    var opts = options || {};
    if (!container || !container.appendChild) throw new TypeError("Liveform.mount: no container element");
    if (!opts.url) throw new TypeError("Liveform.mount: options.url (the form link) is required");
    var src = new URL(opts.url, global.location.href);
    if (src.protocol !== "https:" && src.protocol !== "http:") throw new TypeError("Liveform.mount: the form link must be http(s)");
    var formOrigin = src.origin;
    var minHeight = typeof opts.minHeight === "number" ? opts.minHeight : 560;
    var frame = document.createElement("iframe");
    // The camera must be delegated to the form (Permissions Policy); set before `src`.
    frame.setAttribute("allow", opts.allow || "camera; fullscreen");
    frame.setAttribute("title", opts.title || "Identity verification");
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.display = "block";
    frame.style.height = minHeight + "px";
    var nonce = null;

    function call(name, payload, event) {
      var f = opts[name];
      if (typeof f === "function") {
        try { f(payload, event); } catch (e) { setTimeout(function () { throw e; }); }
      }
    }

    function send(type, payload) {
      if (!nonce || !frame.contentWindow) return false;
      frame.contentWindow.postMessage(
        { source: "liveform-host", version: VERSION, type: type, nonce: nonce, payload: payload || {} },
        formOrigin
      );
      return true;
    }

    function onMessage(event) {
      if (event.source !== frame.contentWindow || event.origin !== formOrigin) return;
      var m = event.data;
      if (!m || typeof m !== "object" || m.source !== "liveform" || m.version !== VERSION) return;
      if (TYPES.indexOf(m.type) < 0) return; // a newer form may add types: ignore them
      var p = m.payload && typeof m.payload === "object" ? m.payload : {};
      if (m.type === "ready" && typeof p.nonce === "string") {
        nonce = p.nonce; // a reload inside the frame sends a new one
        send("hello");
      }
      if (m.type === "resize" && opts.autoResize !== false && typeof p.height === "number") {
        frame.style.height = Math.max(Math.ceil(p.height), minHeight) + "px";
      }
      if (typeof opts.onEvent === "function") {
        try { opts.onEvent(m.type, p, event); } catch (e) { setTimeout(function () { throw e; }); }
      }
      call("on" + m.type.charAt(0).toUpperCase() + m.type.slice(1), p, event);
    }

    global.addEventListener("message", onMessage);
    frame.src = src.href;
    container.appendChild(frame);
    return {
      iframe: frame,
      origin: formOrigin,
      /** Switches the form's language ("en", "ko", "ja", "ar"); false before `ready`. */
      setLanguage: function (lang) { return send("set_language", { lang: String(lang) }); },
      /** Asks the form to stop (it releases the camera and sends `cancel`); false before `ready`. */
      close: function () { return send("close"); },
      /** Removes the frame and the listener. */
      destroy: function () {
        global.removeEventListener("message", onMessage);
        if (frame.parentNode) frame.parentNode.removeChild(frame);
      },
    };
  }

  global.Liveform = { mount: mount, version: VERSION };
})(window);
