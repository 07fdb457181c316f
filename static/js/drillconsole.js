// Trainer console: clock controls, fire next / release / skip, and the timeline and metrics
// refreshed on every tick of the drill banner (drillbanner.js, every 3 s). Everything goes
// through the JSON API; a refusal is shown at the top, nothing fails silently.
(function () {
  "use strict";
  var root = document.querySelector(".drill-console");
  var drill = window.dvcDrill;
  if (!root || !drill) return;
  var T = JSON.parse(document.getElementById("drill-console-text").textContent);
  var op = root.dataset.op, tz = root.dataset.tz;
  var base = "/operations/" + op + "/drill";
  var errorBox = document.getElementById("console-error");
  var state = null, loading = false;

  function $(sel, node) { return (node || root).querySelector(sel); }
  function minutes(x) { return x === null || x === undefined ? "—" : drill.fmt(T.min, { n: x.toFixed(1) }); }
  function hmm(ms) {
    var m = Math.max(0, Math.floor(ms / 60000));
    return Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0");
  }
  function fail(message) { errorBox.textContent = message; errorBox.hidden = !message; }

  // --- the clock -------------------------------------------------------------------------
  function showClock(s) {
    state = s;
    $('[data-c="time"]').textContent = drill.clock(s.now, tz, true);
    var status = $('[data-c="status"]');
    status.textContent = T.status[s.status];
    status.className = "drill-status drill-status-" + s.status;
    $('[data-c="speed"]').textContent = "×" + s.speed;
    $('[data-c="elapsed"]').textContent = hmm(new Date(s.now) - new Date(s.start));
    $('[data-c="next"]').textContent = s.next_inject
      ? "#" + s.next_inject.number + " " + drill.clock(s.next_inject.at, tz) : "—";
    var show = { start: s.status === "ready", pause: s.status === "running",
                 resume: s.status === "paused", end: s.status !== "ended" };
    root.querySelectorAll("[data-action]").forEach(function (b) { b.hidden = !show[b.dataset.action]; });
    root.querySelectorAll("[data-speed]").forEach(function (b) {
      b.setAttribute("aria-pressed", Number(b.dataset.speed) === s.speed ? "true" : "false");
    });
  }

  function send(path, body) {
    fail("");
    return drill.call("POST", path, body || {}).then(function (r) {
      if (r.status >= 400 || r.status === 0) {
        var fields = Object.keys(r.data.fields || {}).length && r.data.error === "validation_error"
          ? " (" + Object.values(r.data.fields).join(" ") + ")" : "";
        fail((r.data.message || "") + fields);
      }
      return drill.tick();
    });
  }
  function clockAction(action, extra) {
    var body = { action: action };
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    return send(base + "/clock", body);
  }

  root.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b || !root.contains(b)) return;
    if (b.dataset.action) {
      if (b.dataset.action === "end" && !window.confirm(T.confirm_end)) return;
      clockAction(b.dataset.action);
    } else if (b.dataset.speed) {
      clockAction("speed", { speed: Number(b.dataset.speed) });
    } else if (b.hasAttribute("data-fire-next")) {
      if (!state || !state.next_inject) { fail(T.nothing_next); return; }
      send(base + "/injects/" + state.next_inject.number + "/release");
    } else if (b.dataset.release) {
      send(base + "/injects/" + b.dataset.release + "/release");
    } else if (b.dataset.skip) {
      if (!window.confirm(drill.fmt(T.confirm_skip, { n: b.dataset.skip }))) return;
      send(base + "/injects/" + b.dataset.skip + "/skip");
    }
  });

  $('[data-form="speed"]').addEventListener("submit", function (e) {
    e.preventDefault();
    clockAction("speed", { speed: Number(e.target.elements.speed.value) });
  });

  // HH:MM in the scenario's zone -> an instant: today in the scenario (the next day when the
  // time has passed and the drill runs past midnight).
  function zoned(date) {
    var p = {};
    new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(date).forEach(function (x) { p[x.type] = Number(x.value); });
    return p;
  }
  function jumpTarget(text) {
    var m = /^(\d{1,2}):(\d{2})$/.exec(text || "");
    if (!m || !state) return null;
    var now = new Date(state.now), p = zoned(now);
    var offset = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second) -
      Math.floor(now.getTime() / 1000) * 1000;
    var at = Date.UTC(p.year, p.month - 1, p.day, Number(m[1]), Number(m[2])) - offset;
    if (at < now.getTime() && at + 864e5 <= new Date(state.end).getTime()) at += 864e5;
    return new Date(at).toISOString();
  }
  $('[data-form="jump"]').addEventListener("submit", function (e) {
    e.preventDefault();
    var to = jumpTarget(e.target.elements.to.value);
    if (!to) { fail(T.bad_time); return; }
    clockAction("jump", { to: to });
  });

  // --- the timeline ----------------------------------------------------------------------
  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }
  function button(attr, number, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute(attr, number);
    b.textContent = text;
    return b;
  }
  function showRow(row) {
    var tr = root.querySelector('tr[data-n="' + row.number + '"]');
    if (!tr) return;
    tr.className = "inject-" + row.status;
    $('[data-t="delivered"]', tr).textContent = drill.clock(row.delivered, tz);
    var acks = $('[data-t="acks"]', tr);
    acks.replaceChildren.apply(acks, row.acknowledged.map(function (a) {
      return span("drill-ack", (T.desks[a.desk] || a.desk) + " " + drill.clock(a.at, tz));
    }));
    $('[data-t="response"]', tr).textContent = minutes(row.response_minutes);
    $('[data-t="status"] .inject-status', tr).textContent = T.inject_status[row.status];
    var fired = $('[data-t="fired"]', tr);
    fired.hidden = !row.fired_because;
    fired.textContent = row.fired_because ? drill.fmt(T.fired, { n: row.fired_because }) : "";
    var actions = $('[data-t="actions"]', tr);
    var open = row.status === "waiting" && row.type !== "contingency";
    if (open !== !!actions.querySelector("button")) {
      actions.replaceChildren();
      if (open) {
        actions.append(button("data-release", row.number, T.release), " ",
                       button("data-skip", row.number, T.skip));
      }
    }
  }

  // --- the metrics -----------------------------------------------------------------------
  function put(name, text) {
    var node = $('[data-m="' + name + '"]');
    if (node) node.textContent = text;
  }
  function showMetrics(live) {
    var m = live.metrics, v = m.values;
    put("as_of", drill.clock(live.as_of, tz));
    put("checkin_wait", minutes(m.checkin_wait.p50) + " / " + minutes(m.checkin_wait.p90));
    put("reception_to_dispatch", minutes(m.reception_to_dispatch.p50) + " / " +
        minutes(m.reception_to_dispatch.p90));
    put("backlog", v.backlog_end + " / " + v.backlog_max);
    put("mismatches", v.mismatches === null ? "—" : String(v.mismatches));
    put("stockouts", String(v.stockouts));
    put("inject_response", minutes(v.inject_response_p50) + " / " + minutes(v.inject_response_p90));
    put("unacknowledged_injects", String(v.unacknowledged_injects));
    put("contingencies_fired", String(v.contingencies_fired));
    put("volunteers", v.volunteers_checked_in + " / " + v.volunteers_dispatched);
    put("needs", v.needs_received + " / " + v.needs_completed);
    live.ratings.forEach(function (r) {
      var tr = root.querySelector('tr[data-o="' + r.objective + '"]');
      if (!tr) return;
      var cell = $('[data-r="rating"]', tr);
      cell.title = r.reason;
      cell.replaceChildren(span("rating rating-" + (r.rating || "none"), r.rating || "—"),
                           " " + (r.rating ? T.ratings[r.rating] : T.not_rated));
      $('[data-r="value"]', tr).textContent =
        (r.value === null ? "—" : r.value.toFixed(1)) + " / " + r.bound;
    });
  }

  function refresh() {
    if (loading) return;
    loading = true;
    Promise.all([drill.call("GET", base + "/timeline"), drill.call("GET", base + "/metrics")])
      .then(function (answers) {
        loading = false;
        if (answers[0].status === 200) answers[0].data.injects.forEach(showRow);
        if (answers[1].status === 200) showMetrics(answers[1].data);
      });
  }

  document.addEventListener("dvc:drill", function (e) {
    showClock(e.detail.state);
    refresh();
  });
  if (drill.last) { showClock(drill.last.state); refresh(); }
})();
