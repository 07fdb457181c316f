// The drill's reception queue: check a row in through the check-in API (the kiosk's own call),
// and refresh the rows when the banner's tick (drillbanner.js) brings new arrivals.
(function () {
  "use strict";
  var root = document.querySelector(".drill-queue-page");
  var drill = window.dvcDrill;
  if (!root || !drill) return;
  var T = JSON.parse(document.getElementById("drill-queue-text").textContent);
  var table = document.getElementById("drill-queue");
  var errorBox = document.getElementById("queue-error");
  var busy = 0, lastTotal = null;

  function fail(message) { errorBox.textContent = message || ""; errorBox.hidden = !message; }

  function reload() {
    if (busy) return;
    fetch(root.dataset.rows, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : Promise.reject(r);
    }).then(function (html) {
      if (busy) return;  // a check-in started meanwhile: the next tick refreshes
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      var rows = tpl.content.querySelector("tbody");
      if (rows) table.querySelector("tbody").replaceWith(rows);
    }, function () { fail(T.network); });
  }

  table.addEventListener("submit", function (e) {
    var form = e.target.closest("form.drill-checkin");
    if (!form) return;
    e.preventDefault();
    var button = form.querySelector("button");
    var note = form.querySelector(".drill-row-message");
    var body = { code: form.dataset.code, health_ok: true, method: "scan",
                 site_id: form.dataset.site ? Number(form.dataset.site) : null,
                 insurance_enrolled_now: !!(form.elements.enrol && form.elements.enrol.checked) };
    if (form.elements.headcount) body.headcount = Number(form.elements.headcount.value) || null;
    button.disabled = true;
    busy += 1;
    fail("");
    drill.call("POST", "/operations/" + drill.op + "/checkins", body).then(function (r) {
      busy -= 1;
      if (r.status === 201 || r.status === 200) {
        note.textContent = "✔ " + T.checked_in;
        form.closest("tr").classList.add("done");
        drill.tick();
      } else {
        note.textContent = r.data.message || T.network;
        button.disabled = false;
      }
    });
  });

  document.addEventListener("dvc:drill", function (e) {
    var total = e.detail.state.queue;
    if (e.detail.state.delivered > 0 || (lastTotal !== null && total !== lastTotal)) reload();
    lastTotal = total;
  });
})();
