// Needs intake: while staff type the phone, name or kana (or set the point), ask the API for
// open needs that may be the same household, and let staff add this call to one of them
// instead of recording a duplicate. Plain JS, the JSON API, nothing from the internet.
(function () {
  "use strict";
  var form = document.getElementById("need-form");
  if (!form) return;
  var T = JSON.parse(document.getElementById("needs-text").textContent);
  var api = form.dataset.api, op = form.dataset.op, detail = form.dataset.detail;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var list = document.getElementById("dup-list");
  var result = document.getElementById("dup-result");
  var inputs = {};
  form.querySelectorAll("[data-dup]").forEach(function (el) { inputs[el.dataset.dup] = el; });
  var timer = null, asked = 0;

  function value(name) { return inputs[name] ? inputs[name].value.trim() : ""; }
  function digits(text) { return text.replace(/\D/g, ""); }
  function number(text) { var n = parseFloat(text); return isFinite(n) ? n : null; }

  function message(text, kind) {
    var p = document.createElement("p");
    p.className = "flash flash-" + (kind || "error");
    p.setAttribute("role", kind === "info" ? "status" : "alert");
    p.textContent = text;
    return p;
  }

  function query() {
    var params = new URLSearchParams();
    ["phone", "phone2"].forEach(function (k) {
      if (digits(value(k)).length >= 10) params.set(k, value(k));
    });
    if (value("name").length >= 2) params.set("name", value("name"));
    if (value("kana").length >= 2) params.set("kana", value("kana"));
    var lat = number(value("lat")), lon = number(value("lon"));
    if (lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      params.set("lat", lat); params.set("lon", lon);
    }
    return params;
  }

  function call(method, path, body) {
    var opts = { method: method, credentials: "same-origin",
                 headers: { "Accept": "application/json", "X-CSRFToken": csrf } };
    if (body) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(api + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    }, function () { return { status: 0, data: { message: T.network } }; });
  }

  function check() {
    var params = query();
    if (!params.toString()) { list.replaceChildren(); return; }
    var mine = ++asked;
    call("GET", "/operations/" + op + "/needs/duplicates?" + params.toString()).then(function (r) {
      if (mine !== asked) return;  // a newer question is on its way
      list.replaceChildren();
      if (r.status !== 200) { list.append(message(r.data.message || T.network)); return; }
      if (!r.data.length) {
        var none = document.createElement("li");
        none.className = "hint";
        none.textContent = T.none;
        list.append(none);
        return;
      }
      r.data.forEach(function (d) { list.append(item(d)); });
    });
  }

  function item(d) {
    var li = document.createElement("li");
    li.className = "dup";
    var head = document.createElement("p");
    var b = document.createElement("b");
    b.textContent = d.number;
    head.append(b, " " + d.requester_name + " · " + (T.categories[d.category] || d.category) +
                " · " + (T.statuses[d.status] || d.status));
    var where = document.createElement("p");
    where.className = "meta";
    where.textContent = d.address;
    var why = document.createElement("p");
    why.className = "reasons";
    why.textContent = d.reasons.map(function (k) { return T.reasons[k] || k; }).join(" · ");
    var row = document.createElement("div");
    row.className = "row";
    var open = document.createElement("a");
    open.href = detail + d.id;
    open.target = "_blank";
    open.rel = "noopener";
    open.className = "button";
    open.textContent = T.open;
    var add = document.createElement("button");
    add.type = "button";
    add.textContent = T.add_call;
    add.addEventListener("click", function () { addCall(d, add); });
    row.append(open, add);
    li.append(head, where, why, row);
    return li;
  }

  function addCall(d, button) {
    button.disabled = true;
    var note = (form.elements.description && form.elements.description.value) || "";
    call("POST", "/needs/" + d.id + "/calls", { note: note }).then(function (r) {
      result.replaceChildren();
      if (r.status === 200) {
        result.append(message(T.added.replace("%(number)s", d.number), "info"));
        var again = document.createElement("a");
        again.href = window.location.pathname;
        again.className = "button";
        again.textContent = T.clear;
        result.append(again);
      } else {
        button.disabled = false;
        result.append(message(r.data.message || T.network));
      }
    });
  }

  Object.keys(inputs).forEach(function (k) {
    inputs[k].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 350);
    });
  });
  // Leaving the page: a question still waiting to be asked is not needed any more.
  form.addEventListener("submit", function () { clearTimeout(timer); asked++; });

  // Click-to-place on a small Leaflet map, when the app serves Leaflet itself (dvc/maps).
  var mapBox = document.getElementById("need-map");
  if (mapBox && window.L) {
    var cfg = JSON.parse(document.getElementById("need-map-config").textContent);
    var lat0 = number(value("lat")), lon0 = number(value("lon"));
    var placed = lat0 !== null && lon0 !== null;
    var map = window.L.map(mapBox).setView(placed ? [lat0, lon0] : cfg.centre, placed ? 16 : 13);
    if (cfg.tiles) {
      window.L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 19,
                                      maxNativeZoom: cfg.max_native_zoom }).addTo(map);
    }
    window.L.control.scale({ imperial: false }).addTo(map);
    cfg.sites.forEach(function (s) {
      window.L.circleMarker([s.lat, s.lon], { radius: 6, color: "#0b5cad", fillOpacity: 1 })
        .bindTooltip(s.name).addTo(map);
    });
    var marker = null;
    var place = function (latlng) {
      if (marker) marker.setLatLng(latlng);
      else marker = window.L.circleMarker(latlng, { radius: 9, color: "#b3261e", fillOpacity: .8 }).addTo(map);
    };
    if (placed) place([lat0, lon0]);
    map.on("click", function (e) {
      inputs.lat.value = e.latlng.lat.toFixed(6);
      inputs.lon.value = e.latlng.lng.toFixed(6);
      place(e.latlng);
      check();
    });
    ["lat", "lon"].forEach(function (k) {
      inputs[k].addEventListener("change", function () {
        var la = number(value("lat")), lo = number(value("lon"));
        if (la !== null && lo !== null) { place([la, lo]); map.panTo([la, lo]); }
      });
    });
  }

  // A form that came back with messages: put the cursor on the first one, and check at once.
  var firstError = form.querySelector(".has-error input, .has-error select, .has-error textarea");
  if (firstError) firstError.focus();
  if (query().toString()) check();
})();
