/* The admin dashboard, live: server-sent events from /admin/live carry the live part of the page
   (admin/live.html) whenever it changes; each [data-live] section is swapped in, except one the
   admin is typing in (that one waits for the next event). Without JS the page is complete, and a
   reload shows the same. No inline script: the CSP forbids it. */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.EventSource) { return; }
  var state = document.querySelector("[data-role=live-state]");
  var parser = new DOMParser();

  function busy(section) {
    var active = document.activeElement;
    if (active && section.contains(active) && active.tagName !== "BUTTON") { return true; }
    var inputs = section.querySelectorAll("input:not([type=hidden]), textarea, select");
    for (var i = 0; i < inputs.length; i += 1) {
      if (inputs[i].value) { return true; }
    }
    return false;
  }

  function apply(html) {
    var fresh = parser.parseFromString("<div>" + html + "</div>", "text/html");
    fresh.querySelectorAll("[data-live]").forEach(function (incoming) {
      var name = incoming.getAttribute("data-live");
      var current = root.querySelector('[data-live="' + name + '"]');
      if (!current) { root.appendChild(document.importNode(incoming, true)); return; }
      if (current.isEqualNode(incoming) || busy(current)) { return; }
      current.replaceWith(document.importNode(incoming, true));
    });
    root.setAttribute("data-live-events", String(Number(root.getAttribute("data-live-events") || 0) + 1));
  }

  var source = new EventSource(root.getAttribute("data-source"));
  source.addEventListener("dashboard", function (event) {
    if (state) { state.textContent = ""; }
    apply(event.data);
  });
  source.addEventListener("ended", function () {
    source.close();
    if (state) { state.textContent = root.getAttribute("data-ended"); }
  });
  source.onerror = function () {
    if (state && source.readyState !== EventSource.CLOSED) {
      state.textContent = root.getAttribute("data-offline");
    }
  };
}());
