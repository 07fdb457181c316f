// Reception kiosk: a scanner types the code and Enter; we look it up, staff confirm, we check in.
// Everything goes through the JSON API; every failure is shown, nothing is dropped silently.
(function () {
  "use strict";
  var root = document.querySelector(".kiosk-grid");
  if (!root) return;
  var T = JSON.parse(document.getElementById("kiosk-text").textContent);
  var api = root.dataset.api, op = root.dataset.op, site = root.dataset.site;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var scanForm = document.getElementById("scan-form");
  var scanInput = document.getElementById("scan-input");
  var result = document.getElementById("result");
  var busy = false;
  var RETRY_MS = [1000, 3000];  // after a network error, try again twice before saying so

  function call(method, path, body, isForm, key) {
    var opts = { method: method, headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
                 credentials: "same-origin" };
    if (key) opts.headers["Idempotency-Key"] = key;
    if (body && isForm) opts.body = body;
    else if (body) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(api + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    }, function () { return { status: 0, data: { message: T.network } }; });
  }

  // A random UUID (v4). crypto.randomUUID exists only over HTTPS; the field laptop may serve
  // plain HTTP on the centre's Wi-Fi, where getRandomValues still works.
  function newKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // One Idempotency-Key per check-in staff confirm. When the answer is lost (a dropped
  // connection) the same request goes again with the same key, by itself and on the next
  // press, and the server applies it once; an answered request or a changed one (another
  // volunteer, headcount or health answer) is a new action with a new key.
  var unanswered = null;  // { body: the JSON sent, key } while no answer has come back
  function checkIn(body) {
    var text = JSON.stringify(body);
    if (!unanswered || unanswered.body !== text) unanswered = { body: text, key: newKey() };
    var attempt = unanswered;
    function send(retries) {
      return call("POST", "/operations/" + op + "/checkins", body, false, attempt.key).then(function (r) {
        if (r.status !== 0) {
          if (unanswered === attempt) unanswered = null;
          return r;
        }
        if (!retries.length) return r;  // keep the key: the next press retries this action
        return new Promise(function (resolve) { setTimeout(resolve, retries[0]); }).then(function () {
          return send(retries.slice(1));
        });
      });
    }
    return send(RETRY_MS);
  }

  function show(node) { result.replaceChildren(node); }
  function message(text, kind) {
    var p = document.createElement("p");
    p.className = "flash flash-" + (kind || "error");
    p.setAttribute("role", kind === "info" ? "status" : "alert");
    p.textContent = text;
    return p;
  }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  // HH:mm in the centre's time zone (as the server's pages show it), whatever the tablet's.
  function hhmm(iso) {
    var opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (root.dataset.tz) opts.timeZone = root.dataset.tz;
    try { return new Date(iso).toLocaleTimeString("en-GB", opts); }
    catch (e) { delete opts.timeZone; return new Date(iso).toLocaleTimeString("en-GB", opts); }
  }
  function refocus() { if (!busy) scanInput.focus(); }

  function renderCard(card, source) {
    var v = card.volunteer;
    var node = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
    var f = function (name) { return node.querySelector('[data-f="' + name + '"]'); };
    f("name").textContent = v.name;
    f("kana").textContent = "(" + v.kana + ")";
    f("number").textContent = v.number;
    if (v.group) {
      f("group").textContent = T.group + ": " + v.group.name + " (" + v.group.size + ")" +
        (v.group.member_names ? " · " + v.group.member_names : "");
    }
    var skills = (v.skills || []).map(function (s) { return T.skill_labels[s] || s; });
    var extra = [];
    if (skills.length) extra.push(T.skills + ": " + skills.join("、"));
    if (v.vehicle !== "none") extra.push(T.vehicle + ": " + (T.vehicle_labels[v.vehicle] || v.vehicle));
    f("skills").textContent = extra.join(" · ");
    if (card.checkin) {
      f("form").hidden = true;
      var already = f("already");
      already.hidden = false;
      already.append(message(fmt(T.already, { site: card.checkin.site_name, time: hhmm(card.checkin.checked_in_dt) }), "info"));
      already.append(tagLink(card.checkin.id));
      show(node);
      refocus();
      return;
    }
    f("insurance").textContent = card.insured ? T.insured : T.uninsured;
    f("insurance").className = "insurance " + (card.insured ? "ok" : "warn");
    f("enrol-row").hidden = card.insured;
    if (v.group) {
      f("headcount-row").hidden = false;
      f("headcount").max = v.group.size;
      f("headcount").value = v.group.size;
    }
    f("confirm").addEventListener("click", function () {
      submit(v, source, true, f);
    });
    f("unwell").addEventListener("click", function () {
      submit(v, source, false, f);
    });
    show(node);
    f("confirm").focus();
  }

  function tagLink(checkinId) {
    var a = document.createElement("a");
    a.href = root.dataset.nametag + "&checkin=" + checkinId;
    a.target = "_blank";
    a.className = "button";
    a.textContent = T.print_tag;
    return a;
  }

  // Today's quota is reached: say so, offer the next day and where there is room instead.
  function siteFull(data) {
    var box = document.createElement("div");
    box.className = "flash flash-error site-full";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = data.message;
    box.append(text);
    var day = (data.next_day || "").split("-");
    if (day.length === 3) {
      var next = document.createElement("p");
      next.textContent = fmt(T.next_day, { day: Number(day[1]) + "/" + Number(day[2]) });
      box.append(next);
    }
    var a = document.createElement("a");
    a.href = root.dataset.recruitment;
    a.target = "_blank";
    a.textContent = T.recruitment;
    box.append(a);
    return box;
  }

  function submit(v, source, healthOk, f) {
    if (busy) return;
    busy = true;
    f("confirm").disabled = f("unwell").disabled = true;
    var body = { site_id: site ? Number(site) : null, health_ok: healthOk,
                 insurance_enrolled_now: f("enrol").checked, method: source.method };
    if (source.code) body.code = source.code; else body.volunteer_id = v.id;
    if (v.group) body.headcount = Number(f("headcount").value) || null;
    checkIn(body).then(function (r) {
      busy = false;
      if (r.status === 201 || r.status === 200) {
        var done = document.createElement("div");
        done.className = "done";
        var h = document.createElement("p");
        h.className = "big-check";
        h.textContent = "✔ " + T.checked_in + ": " + v.name;
        done.append(h);
        if (r.status === 200) done.append(message(fmt(T.already, { site: r.data.site_name, time: hhmm(r.data.checked_in_dt) }), "info"));
        done.append(tagLink(r.data.id), message(T.next, "info"));
        show(done);
      } else if (!healthOk && r.data.error === "health_not_ok") {
        show(message(T.unwell));
      } else {
        var previous = result.querySelector(":scope > .flash-error");
        if (previous) previous.remove();  // one refusal at a time, not a growing pile
        result.prepend(r.data.error === "site_full" ? siteFull(r.data) : message(r.data.message || T.network));
        f("confirm").disabled = f("unwell").disabled = false;
        return;
      }
      refocus();
    });
  }

  function lookup(text, method) {
    if (!text.trim()) return;
    call("POST", "/operations/" + op + "/lookup", { code: text }).then(function (r) {
      if (r.status === 200) renderCard(r.data, { code: text, method: method });
      else { show(message(r.data.message || T.network)); refocus(); }
    });
  }

  scanForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = scanInput.value;
    scanInput.value = "";
    lookup(text, "scan");
  });
  // Keep the scanner's input focused unless staff are using another control.
  document.addEventListener("click", function (e) {
    if (!e.target.closest("input, button, select, a, label, video")) refocus();
  });

  // Search for volunteers without their code.
  var searchInput = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var timer = null;
  function search() {
    var q = searchInput.value.trim();
    if (q.length < 2) { results.replaceChildren(); return; }
    call("GET", "/operations/" + op + "/volunteers?q=" + encodeURIComponent(q)).then(function (r) {
      results.replaceChildren();
      if (r.status !== 200) { results.append(message(r.data.message || T.network)); return; }
      if (!r.data.length) { var li = document.createElement("li"); li.textContent = T.no_results; results.append(li); }
      r.data.forEach(function (v) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = v.name + " (" + v.kana + ") · " + v.number;
        b.addEventListener("click", function () {
          call("GET", "/operations/" + op + "/volunteers/" + v.id + "/card").then(function (c) {
            if (c.status === 200) renderCard(c.data, { method: "search" });
            else show(message(c.data.message || T.network));
          });
        });
        li.append(b);
        results.append(li);
      });
    });
  }
  document.getElementById("search-form").addEventListener("submit", function (e) { e.preventDefault(); search(); });
  searchInput.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 300); });

  // Camera: the browser's BarcodeDetector where it exists, otherwise frames decoded by the server.
  var video = document.getElementById("camera-video");
  var box = document.getElementById("camera-box");
  var stream = null, scanning = false;
  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    box.hidden = true;
    refocus();
  }
  function found(text) { stopCamera(); lookup(text, "camera"); }
  function nativeLoop(detector) {
    if (!scanning) return;
    detector.detect(video).then(function (codes) {
      if (codes.length) found(codes[0].rawValue); else setTimeout(function () { nativeLoop(detector); }, 200);
    }, function () { setTimeout(function () { nativeLoop(detector); }, 500); });
  }
  function serverLoop() {
    if (!scanning || !video.videoWidth) { if (scanning) setTimeout(serverLoop, 300); return; }
    var canvas = document.createElement("canvas");
    var scale = Math.min(1, 960 / video.videoWidth);
    canvas.width = video.videoWidth * scale;
    canvas.height = video.videoHeight * scale;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      var form = new FormData();
      form.append("image", blob, "frame.jpg");
      call("POST", "/decode", form, true).then(function (r) {
        if (r.status === 200 && r.data.text) found(r.data.text);
        else setTimeout(serverLoop, 400);
      });
    }, "image/jpeg", 0.85);
  }
  document.getElementById("camera-button").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      show(message(T.no_camera)); return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s; video.srcObject = s; box.hidden = false; scanning = true;
      video.play();
      if ("BarcodeDetector" in window) nativeLoop(new window.BarcodeDetector({ formats: ["qr_code"] }));
      else serverLoop();
    }, function () { show(message(T.no_camera)); });
  });
  document.getElementById("camera-stop").addEventListener("click", stopCamera);
})();
