// The live dashboard (ダッシュボード): every few seconds ask the server for the page's panels and
// swap in only those whose digest changed (the charts are drawn by the server as SVG, so there
// is nothing to draw here). Say when the figures were last updated, and say plainly when the
// server stops answering: the old figures stay, marked as possibly out of date.
(function () {
  "use strict";
  var root = document.querySelector(".dashboard");
  if (!root) return;
  var T = JSON.parse(document.getElementById("dashboard-text").textContent);
  var url = root.dataset.live;
  var seconds = Math.max(1, Number(root.dataset.refresh) || 15);
  var updated = root.querySelector("[data-updated]");
  var staleBox = root.querySelector("[data-stale]");
  var asOf = root.querySelector("[data-as-of]");
  var TIMEOUT_MS = 10000;
  // For tests and the curious: how many polls, and how often each panel was redrawn.
  var stats = window.dvcDashboard = { polls: 0, ok: 0, failed: 0, redraws: {}, lastOk: null };

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  // HH:mm:ss in the centre's time zone, whatever the screen's.
  var clockFormat = null;
  function clock(date) {
    if (!clockFormat) {
      var opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
      if (root.dataset.tz) opts.timeZone = root.dataset.tz;
      try { clockFormat = new Intl.DateTimeFormat("en-GB", opts); }
      catch (e) { delete opts.timeZone; clockFormat = new Intl.DateTimeFormat("en-GB", opts); }
    }
    return clockFormat.format(date);
  }

  var lastOk = new Date();
  function showUpdated() {
    updated.textContent = fmt(T.updated, { time: clock(lastOk) });
  }
  function showStale(text) {
    staleBox.textContent = text;
    staleBox.hidden = false;
    root.classList.add("is-stale");
  }
  function clearStale() {
    staleBox.hidden = true;
    staleBox.textContent = "";
    root.classList.remove("is-stale");
  }

  function apply(body) {
    var panels = body.panels || {};
    Object.keys(panels).forEach(function (name) {
      var node = root.querySelector('[data-panel="' + name + '"]');
      var panel = panels[name];
      if (!node || node.dataset.digest === panel.digest) return;
      // Keep a table someone opened open after the redraw.
      var open = {};
      node.querySelectorAll("details[open] table[id]").forEach(function (t) { open[t.id] = true; });
      node.innerHTML = panel.html;
      node.dataset.digest = panel.digest;
      Object.keys(open).forEach(function (id) {
        var table = document.getElementById(id);
        var details = table && table.closest("details");
        if (details) details.open = true;
      });
      stats.redraws[name] = (stats.redraws[name] || 0) + 1;
      node.classList.remove("just-changed");
      void node.offsetWidth;  // restart the highlight
      node.classList.add("just-changed");
    });
    if (body.as_of_local) asOf.textContent = fmt(T.as_of, { time: body.as_of_local });
  }

  var busy = false;
  function poll() {
    if (busy) return;
    busy = true;
    stats.polls += 1;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    fetch(url, { credentials: "same-origin", cache: "no-store",
                 headers: { "Accept": "application/json" },
                 signal: controller ? controller.signal : undefined })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        // Signed out: the request was sent to the sign-in page.
        if (r.redirected || (r.ok && type.indexOf("application/json") < 0)) {
          throw { signedOut: true };
        }
        if (!r.ok) throw { status: r.status };
        return r.json();
      })
      .then(function (body) {
        done();
        apply(body);  // a bug here is not a network failure: it reaches the console
        lastOk = new Date();
        stats.ok += 1;
        stats.lastOk = lastOk.getTime();
        clearStale();
        showUpdated();
      }, function (err) {
        // No answer, a timeout, an error status, or not JSON: keep the figures, say so.
        done();
        stats.failed += 1;
        showStale(err && err.signedOut ? T.signed_out
                  : fmt(T.stale, { time: clock(lastOk), seconds: seconds }));
      });
    function done() {
      busy = false;
      if (timer) clearTimeout(timer);
    }
  }

  showUpdated();
  setInterval(function () { if (!document.hidden) poll(); }, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  // For tests, and a refresh without waiting.
  window.dvcDashboard.poll = poll;
})();
