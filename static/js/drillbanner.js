// The 訓練 / DRILL banner on every page of a drill: the scenario clock, the drill's status, my
// desk's unread messages, the reception queue and sites without power. Its tick every few
// seconds is also what delivers the injects that fall due while people play. The console, the
// inbox and the queue listen for its "dvc:drill" event rather than polling on their own, and
// use window.dvcDrill (the API call with the CSRF header, times in the scenario's zone, my desk).
(function () {
  "use strict";
  var root = document.getElementById("drill-banner");
  if (!root || !root.dataset.op) return;
  var T = JSON.parse(document.getElementById("drill-banner-text").textContent);
  var api = root.dataset.api, op = root.dataset.op;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var deskKey = "dvc.drill." + op + ".desk";
  var PERIOD_MS = 3000;
  var inflight = null, again = false, timer = null;

  function call(method, path, body) {
    var opts = { method: method, credentials: "same-origin",
                 headers: { "X-CSRFToken": csrf, "Accept": "application/json" } };
    if (body) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(api + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    }, function () { return { status: 0, data: { message: T.network } }; });
  }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  // HH:MM (or HH:MM:SS) in the scenario's time zone, whatever the tablet's.
  function clock(iso, tz, seconds) {
    if (!iso) return "";
    var opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (seconds) opts.second = "2-digit";
    if (tz) opts.timeZone = tz;
    try { return new Date(iso).toLocaleTimeString("en-GB", opts); }
    catch (e) { delete opts.timeZone; return new Date(iso).toLocaleTimeString("en-GB", opts); }
  }
  function desk() {
    var chosen = null;
    try { chosen = window.localStorage.getItem(deskKey); } catch (e) { /* private mode */ }
    return chosen || root.dataset.desk || "";
  }
  function setDesk(id) {
    try { window.localStorage.setItem(deskKey, id); } catch (e) { /* private mode */ }
    return tick();
  }
  function deskName(state, id) {
    var d = (state.desks || []).filter(function (x) { return x.id === id; })[0];
    return d ? d.name : id;
  }
  function b(name) { return root.querySelector('[data-b="' + name + '"]'); }

  function show(state, messages, mine) {
    b("clock").textContent = clock(state.now, state.timezone);
    b("status").textContent = T.status[state.status] +
      (state.status === "running" ? " ×" + state.speed : "");
    root.dataset.status = state.status;
    var unread = b("unread");
    if (root.dataset.messages) {
      unread.hidden = !mine && !!root.dataset.trainer;  // a trainer plays no desk unless chosen
      if (!mine) { unread.textContent = T.choose_desk; unread.classList.remove("has-unread"); }
      else if (messages) {
        var n = messages.filter(function (m) { return !m.acknowledged_by_desk; }).length;
        unread.textContent = fmt(n ? T.unread : T.no_unread, { desk: deskName(state, mine), n: n });
        unread.classList.toggle("has-unread", n > 0);
      }
    }
    var queue = b("queue");
    if (root.dataset.queue && typeof state.queue === "number") {
      queue.hidden = false;
      queue.textContent = fmt(T.queue, { n: state.queue });
    }
    var dark = (state.power_out || []).map(function (id) {
      var i = T.site_ids.indexOf(id);
      return fmt(T.power, { site: i >= 0 ? T.sites[i] : "#" + id });
    });
    b("power").hidden = !dark.length;
    b("power").textContent = dark.join(" / ");
  }

  function run() {
    return call("POST", "/operations/" + op + "/drill/tick").then(function (r) {
      if (r.status !== 200) {
        b("error").hidden = false;
        b("error").textContent = r.data.message || T.network;
        return null;
      }
      b("error").hidden = true;
      var mine = desk();
      var wanted = root.dataset.messages && mine
        ? call("GET", "/operations/" + op + "/drill/messages?desk=" + encodeURIComponent(mine))
        : Promise.resolve(null);
      return wanted.then(function (m) {
        var messages = m && m.status === 200 ? m.data.messages : null;
        drill.last = { state: r.data, messages: messages, desk: mine };
        show(r.data, messages, mine);
        document.dispatchEvent(new CustomEvent("dvc:drill", { detail: drill.last }));
      });
    });
  }
  // One tick at a time; a tick asked for meanwhile (after a button) runs right after it.
  function tick() {
    if (inflight) { again = true; return inflight; }
    inflight = run().then(function () {
      inflight = null;
      if (again) { again = false; return tick(); }
    });
    return inflight;
  }
  function loop() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      (document.hidden ? Promise.resolve() : tick()).then(loop);
    }, PERIOD_MS);
  }

  var drill = window.dvcDrill = { api: api, op: op, call: call, fmt: fmt, clock: clock,
                                  desk: desk, setDesk: setDesk, tick: tick, last: null };
  document.addEventListener("DOMContentLoaded", function () { tick().then(loop); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
})();
