// Live parts of the dashboard: every element with data-live="<url>" is refreshed from that JSON
// endpoint ({html, done}) until the answer says done. The HTML comes from the server's own
// autoescaped templates. <details> the reader opened stay open across refreshes. An element may
// set data-period="<ms>" to refresh less often (the traffic pictures do).
(function () {
  "use strict";
  var PERIOD_MS = 1000;

  function refresh(element) {
    var url = element.getAttribute("data-live");
    if (!url) { return; }
    var period = parseInt(element.getAttribute("data-period"), 10) || PERIOD_MS;
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && typeof data.html === "string") {
          var open = [];
          element.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
          element.innerHTML = data.html;
          open.forEach(function (id) {
            var d = document.getElementById(id);
            if (d) { d.open = true; }
          });
          if (data.done) { element.removeAttribute("data-live"); return; }
        }
        setTimeout(function () { refresh(element); }, period);
      })
      .catch(function () { setTimeout(function () { refresh(element); }, period * 3); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(function (element) {
      setTimeout(function () { refresh(element); }, PERIOD_MS / 2);
    });
  });
})();
