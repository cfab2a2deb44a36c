// The example host page's logic (kept out of example.html so a strict CSP needs no inline script).
(function () {
  "use strict";
  var events = (window.liveformEvents = []);
  var list = document.getElementById("events");
  var input = document.getElementById("link");
  var form = null;

  function log(type, payload, event) {
    events.push({ type: type, payload: payload, origin: event.origin });
    var li = document.createElement("li");
    li.dataset.type = type;
    li.textContent = type + " " + JSON.stringify(payload) + " from " + event.origin;
    list.appendChild(li);
  }

  function open(url) {
    if (form) form.destroy();
    form = Liveform.mount(document.getElementById("kyc"), {
      url: url,
      onEvent: log,
      onComplete: function (p) {
        // A real host confirms the result on its server (webhook / results API) before trusting it.
        var done = document.createElement("p");
        done.textContent = "Verification submitted: " + p.status + " (" + p.submissionId + ")";
        list.parentNode.appendChild(done);
      },
    });
  }

  var initial = new URLSearchParams(location.search).get("form");
  if (initial) {
    input.value = initial;
    open(initial);
  }
  document.getElementById("controls").addEventListener("submit", function (e) {
    e.preventDefault();
    if (input.value) open(input.value);
  });
  document.getElementById("close").addEventListener("click", function () {
    if (form) form.close();
  });
  document.getElementById("lang").addEventListener("change", function (e) {
    if (form) form.setLanguage(e.target.value);
  });
})();
