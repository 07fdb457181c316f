// Layers on the coordinator's map (地図のレイヤー): districts shaded by their open needs,
// sites with their service areas, shelters coloured by occupancy; a layer control to switch
// them and a legend. Each layer comes from its domain's GeoJSON API and is asked for again at
// every refresh of the needs (the "dvc:refresh" event); an unchanged answer is recognised by
// its text and costs no drawing. A layer that cannot be read (the role, the server) is said in
// the page's status area and the rest of the map goes on working.
//
// Districts and service areas are drawn in panes under the needs' canvas and take no pointer
// events, so every click meant for a need still reaches it; sites and shelters are markers
// above it, with a popup.
(function () {
  "use strict";
  document.addEventListener("dvc:desk-ready", start);

  function start() {
    var node = document.getElementById("layers-config");
    if (!node || !window.L || !window.dvcMap) return;
    var C = JSON.parse(node.textContent), T = C.text, S = C.style;
    var D = window.dvcMap.desk, map = window.dvcMap.map;
    var statusBox = document.getElementById("layers-status");
    var el = D.el, fmt = D.fmt;

    // --- panes: district fills, service areas and labels under the needs (overlayPane, 400) --
    function pane(name, z, clickable) {
      var p = map.getPane(name) || map.createPane(name);
      p.style.zIndex = String(z);
      if (!clickable) p.style.pointerEvents = "none";
      return p;
    }
    pane("dvcDistricts", 350);
    pane("dvcAreas", 360);
    pane("dvcDistrictLabels", 370);
    pane("dvcPlaces", 450, true);  // above the needs, under the teams' pins and popups
    var fillRenderer = L.svg({ pane: "dvcDistricts", padding: 0.5 });
    var areaRenderer = L.svg({ pane: "dvcAreas", padding: 0.5 });

    var districtsGroup = L.layerGroup(), sitesGroup = L.layerGroup();
    var sheltersGroup = L.layerGroup();
    var areasGroup = L.layerGroup().addTo(sitesGroup);
    var groups = { districts: districtsGroup, sites: sitesGroup, shelters: sheltersGroup };
    var NAMES = T.layers;
    var stats = { version: 0, loaded: {} };
    window.dvcMap.layers = { districts: districtsGroup, sites: sitesGroup,
                             shelters: sheltersGroup, stats: stats };

    // --- small tools ---------------------------------------------------------------------------
    function escapeHtml(text) {
      return String(text).replace(/[&<>"']/g, function (c) {
        return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
      });
    }
    function label(table, key) { return (table && table[key]) || key; }
    function needBreaks(highest) {
      var classes = S.need_scale.length, out = [];
      if (highest <= 0) return out;
      var step = Math.ceil(highest / classes);
      for (var i = 0; i < classes && 1 + i * step <= highest; i++) out.push(1 + i * step);
      return out;
    }
    function needClass(count, breaks) {
      var found = -1;
      breaks.forEach(function (low, i) { if (count >= low) found = i; });
      return found;
    }
    function needRanges(breaks, highest) {
      return breaks.map(function (low, i) {
        var end = i + 1 < breaks.length ? breaks[i + 1] - 1 : highest;
        return low === end ? String(low) : low + "–" + end;
      });
    }
    function shelterClass(p) {
      if (p.status === "closed" || p.status === "not_open") return p.status;
      if (p.status === "full" || p.occupied >= p.capacity) return "full";
      return p.occupied >= S.nearly_full * p.capacity ? "nearly_full" : "free";
    }
    function siteStyle(index) {
      return { colour: S.site_colours[index % S.site_colours.length],
               dash: S.site_dashes[index % S.site_dashes.length] || null };
    }
    function facts(title, rows) {
      var box = el("div", "place-popup");
      box.append(el("h3", null, title));
      var dl = el("dl");
      rows.forEach(function (r) {
        if (r[1] === null || r[1] === undefined || r[1] === "") return;
        var dd = el("dd", null, r[1]);
        if (r[2]) dd.dataset.fact = r[2];
        dl.append(el("dt", null, r[0]), dd);
      });
      box.append(dl);
      return box;
    }

    // --- loading: one request per layer at a time; unchanged answers are skipped --------------
    var sources = {};
    Object.keys(C.sources).forEach(function (name) {
      var s = C.sources[name];
      sources[name] = { name: name, url: s.url, state: s.state, busy: false, text: null,
                        data: null, problem: null };
    });
    function wanted(name) {
      if (name === "districts") return map.hasLayer(districtsGroup) || map.hasLayer(sitesGroup);
      return map.hasLayer(groups[name]);
    }
    function problemFor(src, status, body) {
      var layerName = T.layer_names[src.name];
      if (status === 401) return { kind: "error", text: fmt(T.signed_out, { layer: layerName }) };
      if (status === 403) return { kind: "warn", text: fmt(T.denied, { layer: layerName }) };
      if (src.data) {
        return { kind: "warn", text: fmt(T.failed, { layer: layerName, time: D.clock(new Date()) }) };
      }
      var reason = (body && body.message) ||
        (status ? fmt(T.status_error, { status: status }) : D.T.network);
      return { kind: "error", text: fmt(T.never, { layer: layerName, reason: reason }) };
    }
    function load(name) {
      var src = sources[name];
      if (src.busy || !src.url || !wanted(name)) return;
      src.busy = true;
      // "no-cache": the browser revalidates; a 304 comes back as the same text, not redrawn.
      fetch(src.url, { credentials: "same-origin", cache: "no-cache",
                       headers: { "Accept": "application/json" } })
        .then(function (r) {
          return r.text().then(function (text) { return { status: r.status, text: text }; });
        })
        .then(function (r) {
          src.busy = false;
          if (r.status === 200 && r.text === src.text) {  // unchanged: nothing to parse or draw
            src.problem = null;
            stats.loaded[name] += 1;
            report();
            return;
          }
          var body = null;
          try { body = JSON.parse(r.text); } catch (e) { body = null; }
          if (r.status === 200 && body && Array.isArray(body.features)) {
            src.problem = null;
            stats.loaded[name] = (stats.loaded[name] || 0) + 1;
            src.text = r.text;
            src.data = body;
            drawn(name);
          } else {
            src.problem = problemFor(src, r.status, body);
            if (r.status === 403) src.url = "";  // not for this role: stop asking
          }
          report();
        }, function () {
          src.busy = false;
          src.problem = problemFor(src, 0, null);
          report();
        });
    }
    function refresh() { Object.keys(sources).forEach(load); }
    function drawn(name) {
      if (name === "districts") { drawDistricts(); drawAreas(); }
      if (name === "sites") { drawSites(); drawAreas(); }
      if (name === "shelters") drawShelters();
      fitLabels();
      stats.version += 1;
      legend.update();
    }

    // What cannot be shown, in the page's status area (under the needs' status line), for the
    // layers that are switched on. Rebuilt only when it changes, so that a screen reader does
    // not read the same words again at every refresh.
    var reported = null;
    function report() {
      var lines = [];
      Object.keys(sources).forEach(function (name) {
        var src = sources[name], problem = src.problem, layerName = T.layer_names[name];
        if (!wanted(name)) return;
        if (!problem && src.state === "denied") {
          problem = { kind: "warn", text: fmt(T.denied, { layer: layerName }) };
        }
        if (!problem && src.state === "missing") {
          problem = { kind: "warn", text: fmt(T.missing, { layer: layerName }) };
        }
        if (problem) lines.push({ layer: name, cls: "flash flash-" + problem.kind, text: problem.text });
      });
      var districts = sources.districts.data;
      if (districts && districts.outside && map.hasLayer(districtsGroup)) {
        lines.push({ layer: "outside", cls: "meta", text: fmt(T.outside, { n: districts.outside }) });
      }
      var sig = JSON.stringify(lines);
      if (sig === reported) return;
      reported = sig;
      statusBox.replaceChildren.apply(statusBox, lines.map(function (line) {
        var p = el("p", line.cls, line.text);
        p.dataset.layer = line.layer;
        return p;
      }));
      statusBox.hidden = lines.length === 0;
    }

    // --- districts -----------------------------------------------------------------------------
    var districts = {};  // id -> { shape, label, bounds, name, geometry }
    var districtGeometry = {};  // name -> GeoJSON geometry (for service areas)
    var breaks = [], highest = 0;
    function polygonsOf(geometry) {
      if (!geometry) return [];
      if (geometry.type === "Polygon") return [geometry.coordinates];
      if (geometry.type === "MultiPolygon") return geometry.coordinates;
      return [];
    }
    function ringArea(ring) {
      var a = 0;
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
      }
      return Math.abs(a / 2);
    }
    function inside(x, y, polygon) {
      var hit = false;
      polygon.forEach(function (ring) {
        for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
          if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) hit = !hit;
        }
      });
      return hit;
    }
    // Where a district's label goes: the centroid of its largest part when that lies inside,
    // else the middle of the widest stretch of the part across the centroid's latitude.
    function labelPoint(geometry) {
      var best = null, bestArea = -1;
      polygonsOf(geometry).forEach(function (p) {
        var a = ringArea(p[0]);
        if (a > bestArea) { bestArea = a; best = p; }
      });
      if (!best) return null;
      var ring = best[0], cx = 0, cy = 0, a2 = 0;
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
        cx += (ring[j][0] + ring[i][0]) * f;
        cy += (ring[j][1] + ring[i][1]) * f;
        a2 += f;
      }
      if (a2 === 0) return [ring[0][1], ring[0][0]];
      cx /= 3 * a2; cy /= 3 * a2;
      if (inside(cx, cy, best)) return [cy, cx];
      var xs = [];
      best.forEach(function (r) {
        for (var i = 0, j = r.length - 1; i < r.length; j = i++) {
          var yi = r[i][1], yj = r[j][1];
          if ((yi > cy) !== (yj > cy)) xs.push((r[j][0] - r[i][0]) * (cy - yi) / (yj - yi) + r[i][0]);
        }
      });
      xs.sort(function (a, b) { return a - b; });
      var mid = cx, width = -1;
      for (var k = 0; k + 1 < xs.length; k += 2) {
        if (xs[k + 1] - xs[k] > width) { width = xs[k + 1] - xs[k]; mid = (xs[k] + xs[k + 1]) / 2; }
      }
      return [cy, mid];
    }

    function drawDistricts() {
      var fc = sources.districts.data, keep = {};
      var features = fc.features.filter(function (f) { return f.geometry; });
      highest = features.reduce(function (m, f) { return Math.max(m, f.properties.open_needs || 0); }, 0);
      breaks = needBreaks(highest);
      districtGeometry = {};
      features.forEach(function (f) {
        var p = f.properties, id = f.id !== undefined ? f.id : p.name;
        keep[id] = true;
        districtGeometry[p.name] = f.geometry;
        var cls = needClass(p.open_needs || 0, breaks);
        var look = { color: "#5b6470", weight: 1.2, opacity: 0.9,
                     fillColor: cls < 0 ? S.no_needs : S.need_scale[cls],
                     fillOpacity: cls < 0 ? 0.15 : 0.5 };
        var d = districts[id];
        if (!d) {
          var shape = L.geoJSON(f.geometry, { renderer: fillRenderer, interactive: false,
                                              style: function () { return look; } });
          var where = labelPoint(f.geometry);
          var tag = el("span", "district-label-text");
          var lbl = where ? L.marker(where, {
            icon: L.divIcon({ className: "district-label", html: tag, iconSize: [0, 0] }),
            interactive: false, keyboard: false, pane: "dvcDistrictLabels" }) : null;
          d = districts[id] = { shape: shape, label: lbl, tag: tag, bounds: shape.getBounds() };
          districtsGroup.addLayer(shape);
          if (lbl) districtsGroup.addLayer(lbl);
        } else {
          d.shape.setStyle(look);
        }
        d.tag.dataset.district = p.name;
        d.tag.dataset.open = p.open_needs || 0;
        d.tag.dataset.waiting = p.waiting_needs || 0;
        d.tag.replaceChildren(el("b", null, p.name), el("span", "district-counts",
          fmt(T.district_counts, { open: p.open_needs || 0, waiting: p.waiting_needs || 0 })));
        d.tag.title = fmt(T.district_title, { name: p.name, open: p.open_needs || 0,
                                              waiting: p.waiting_needs || 0 });
      });
      Object.keys(districts).forEach(function (id) {
        if (keep[id]) return;
        districtsGroup.removeLayer(districts[id].shape);
        if (districts[id].label) districtsGroup.removeLayer(districts[id].label);
        delete districts[id];
      });
      fitLabels();
    }
    // A label shows in full where its district has room for it, only the name where it is
    // small on screen, and not at all where it is tiny; it steps down out of the way of a pin
    // standing on its spot (a main centre is often in the middle of its district).
    function fitLabels() {
      var pins = [];
      [[sitesGroup, siteMarkers], [sheltersGroup, shelterMarkers]].forEach(function (pair) {
        if (!map.hasLayer(pair[0])) return;
        Object.keys(pair[1]).forEach(function (id) {
          pins.push(map.latLngToLayerPoint(pair[1][id].marker.getLatLng()));
        });
      });
      Object.keys(districts).forEach(function (id) {
        var d = districts[id];
        if (!d.label || !d.bounds.isValid()) return;
        var a = map.latLngToLayerPoint(d.bounds.getNorthWest());
        var b = map.latLngToLayerPoint(d.bounds.getSouthEast());
        var w = Math.abs(b.x - a.x), h = Math.abs(b.y - a.y);
        d.tag.className = "district-label-text" + (w < 24 || h < 18 ? " tiny" :
                                                  w < 110 || h < 50 ? " small" : "");
        var at = map.latLngToLayerPoint(d.label.getLatLng()), down = 0;
        pins.forEach(function (q) {
          if (Math.abs(at.x - q.x) < 70 && at.y > q.y - 45 && at.y < q.y + 24) {
            down = Math.max(down, q.y + 26 - at.y);
          }
        });
        d.tag.style.marginTop = down ? Math.round(down) + "px" : "";
      });
    }
    map.on("zoomend", fitLabels);

    // --- sites and their service areas -----------------------------------------------------------
    var siteMarkers = {};
    function sitePin(p, index) {
      var st = siteStyle(index);
      var pin = el("span", "site-pin site-" + p.kind + " site-" + p.status);
      pin.style.setProperty("--site", st.colour);
      pin.append(el("b", null, label(T.site_tags, p.kind)));
      if (p.status !== "open") pin.append(el("span", "pin-word", label(T.site_statuses, p.status)));
      return pin;
    }
    function sitePopup(f) {
      var p = f.properties, F = T.fields;
      var today = fmt(T.people, { n: p.today_people }) +
        (p.daily_quota !== null && p.daily_quota !== undefined ? " / " + p.daily_quota : "");
      return facts(p.name, [
        [F.kind, label(T.site_kinds, p.kind)],
        [F.status, label(T.site_statuses, p.status), "status"],
        [F.today, today, "today"],
        [F.quota, p.daily_quota !== null && p.daily_quota !== undefined ? String(p.daily_quota) : T.no_quota],
        [F.tomorrow, fmt(T.people, { n: p.tomorrow }), "tomorrow"],
        [F.area, (p.service_districts || []).join("、") || T.none]]);
    }
    function drawSites() {
      var keep = {};
      sources.sites.data.features.forEach(function (f, index) {
        if (!f.geometry) return;
        var p = f.properties, c = f.geometry.coordinates, id = f.id;
        keep[id] = true;
        var title = p.name + " · " + label(T.site_statuses, p.status);
        var sig = [title, p.kind, index, c[0], c[1]].join("|");
        var m = siteMarkers[id];
        if (!m) {
          m = siteMarkers[id] = { marker: L.marker([c[1], c[0]], { pane: "dvcPlaces",
                                                                  riseOnHover: true }) };
          m.marker.bindPopup("", { maxWidth: 320 });
          sitesGroup.addLayer(m.marker);
        }
        if (m.sig !== sig) {
          var pin = sitePin(p, index);
          pin.dataset.site = id;
          m.marker.options.title = title;  // the icon's title and, from it, its name to a reader
          m.marker.setLatLng([c[1], c[0]]);
          m.marker.setIcon(L.divIcon({ className: "place-icon", html: pin, iconSize: [0, 0] }));
          m.sig = sig;
        }
        m.marker.setPopupContent(sitePopup(f));
      });
      Object.keys(siteMarkers).forEach(function (id) {
        if (!keep[id]) { sitesGroup.removeLayer(siteMarkers[id].marker); delete siteMarkers[id]; }
      });
    }
    // The outline of several districts together: edges two of them share cancel out (they
    // share their vertices exactly when tiled, as a council's file and the demo city are).
    function outline(names) {
      var edges = new Map();
      function key(pt) { return pt[0].toFixed(6) + "," + pt[1].toFixed(6); }
      names.forEach(function (name) {
        polygonsOf(districtGeometry[name]).forEach(function (polygon) {
          polygon.forEach(function (ring) {
            for (var i = 0; i + 1 < ring.length; i++) {
              var a = key(ring[i]), b = key(ring[i + 1]);
              if (a === b) continue;
              var k = a < b ? a + "|" + b : b + "|" + a, e = edges.get(k);
              if (e) e.n += 1; else edges.set(k, { a: a, b: b, pa: ring[i], pb: ring[i + 1], n: 1 });
            }
          });
        });
      });
      var at = new Map(), lines = [];
      edges.forEach(function (e) {
        if (e.n !== 1) return;
        [e.a, e.b].forEach(function (k) { if (!at.has(k)) at.set(k, []); at.get(k).push(e); });
      });
      edges.forEach(function (e) {
        if (e.n !== 1 || e.used) return;
        e.used = true;
        var line = [e.pa, e.pb], end = e.b;
        for (;;) {
          var next = (at.get(end) || []).find(function (x) { return !x.used; });
          if (!next) break;
          next.used = true;
          var forward = next.a === end;
          line.push(forward ? next.pb : next.pa);
          end = forward ? next.b : next.a;
        }
        lines.push(line.map(function (pt) { return [pt[1], pt[0]]; }));
      });
      return lines;
    }
    // All the white casings first, then the lines in site order: where two areas share a
    // border, the second site's dashes leave the first one's colour showing between them.
    function drawAreas() {
      areasGroup.clearLayers();
      var sites = sources.sites.data;
      if (!sites || !sources.districts.data) return;
      var drawn = [];
      sites.features.forEach(function (f, index) {
        var names = (f.properties.service_districts || []).filter(function (n) { return districtGeometry[n]; });
        var lines = names.length ? outline(names) : [];
        if (lines.length) drawn.push({ lines: lines, style: siteStyle(index) });
      });
      drawn.forEach(function (d) {
        areasGroup.addLayer(L.polyline(d.lines, { renderer: areaRenderer, interactive: false,
                                                  color: "#ffffff", weight: 7, opacity: 0.9 }));
      });
      drawn.forEach(function (d) {
        areasGroup.addLayer(L.polyline(d.lines, { renderer: areaRenderer, interactive: false,
                                                  color: d.style.colour, weight: 4, opacity: 1,
                                                  dashArray: d.style.dash, className: "service-area" }));
      });
    }

    // --- shelters --------------------------------------------------------------------------------
    var shelterMarkers = {};
    var HOUSE = "M8 1 15 7V15H1V7Z";
    function shelterPin(p) {
      var cls = shelterClass(p);
      var pin = el("span", "shelter-pin occ-" + cls);
      var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 16 16");
      svg.setAttribute("aria-hidden", "true");
      var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", HOUSE);
      svg.append(path);
      pin.append(svg, el("span", null, p.occupied + "/" + p.capacity));
      if (cls === "full" || cls === "closed" || cls === "not_open") {
        pin.append(el("span", "pin-word", label(T.occupancy, cls)));
      }
      return pin;
    }
    function shelterPopup(p) {
      var F = T.fields, cls = shelterClass(p);
      return facts(p.name, [
        [F.kind, label(T.shelter_kinds, p.kind)],
        [F.status, label(T.occupancy, cls), "status"],
        [F.capacity, fmt(T.people, { n: p.capacity })],
        [F.occupied, fmt(T.people, { n: p.occupied }), "occupied"],
        [F.free, fmt(T.people, { n: p.free })],
        [F.care, (p.care_types || []).map(function (k) { return label(T.care, k); }).join("、")]]);
    }
    function drawShelters() {
      var keep = {};
      sources.shelters.data.features.forEach(function (f) {
        if (!f.geometry) return;
        var p = f.properties, c = f.geometry.coordinates, id = f.id;
        keep[id] = true;
        var title = p.name + " · " + p.occupied + "/" + p.capacity + " · " +
          label(T.occupancy, shelterClass(p));
        var sig = [title, c[0], c[1]].join("|");
        var m = shelterMarkers[id];
        if (!m) {
          m = shelterMarkers[id] = { marker: L.marker([c[1], c[0]], { pane: "dvcPlaces",
                                                                     riseOnHover: true }) };
          m.marker.bindPopup("", { maxWidth: 320 });
          sheltersGroup.addLayer(m.marker);
        }
        if (m.sig !== sig) {
          var pin = shelterPin(p);
          pin.dataset.shelter = id;
          m.marker.options.title = title;
          m.marker.setLatLng([c[1], c[0]]);
          m.marker.setIcon(L.divIcon({ className: "place-icon", html: pin, iconSize: [0, 0] }));
          m.sig = sig;
        }
        m.marker.setPopupContent(shelterPopup(p));
      });
      Object.keys(shelterMarkers).forEach(function (id) {
        if (!keep[id]) { sheltersGroup.removeLayer(shelterMarkers[id].marker); delete shelterMarkers[id]; }
      });
    }

    // --- the legend ----------------------------------------------------------------------------
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "layers-legend leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        this._box = box;
        this.update();
        return box;
      },
      update: function () {
        var box = this._box;
        if (!box) return;
        box.replaceChildren();
        if (map.hasLayer(districtsGroup) && sources.districts.data) {
          var sec = el("section", "legend-districts");
          sec.append(el("h4", null, T.legend_needs));
          var ul = el("ul");
          var rows = [[S.no_needs, "0"]].concat(needRanges(breaks, highest).map(function (r, i) {
            return [S.need_scale[i], r];
          }));
          rows.forEach(function (r) {
            var li = el("li"), sw = el("span", "swatch-box");
            sw.style.background = r[0];
            li.append(sw, el("span", null, r[1]));
            ul.append(li);
          });
          sec.append(ul);
          box.append(sec);
        }
        if (map.hasLayer(sitesGroup) && sources.sites.data && sources.districts.data) {
          var ss = el("section", "legend-sites");
          ss.append(el("h4", null, T.legend_sites));
          var list = el("ul");
          sources.sites.data.features.forEach(function (f, index) {
            var st = siteStyle(index), li = el("li");
            var line = el("span", "line-sample" + (st.dash ? " dashed-" + (index % S.site_dashes.length) : ""));
            line.style.setProperty("--site", st.colour);
            li.append(line, el("span", null, f.properties.name));
            list.append(li);
          });
          ss.append(list);
          box.append(ss);
        }
        if (map.hasLayer(sheltersGroup) && sources.shelters.data) {
          var sh = el("section", "legend-shelters");
          sh.append(el("h4", null, T.legend_shelters));
          var sl = el("ul");
          ["free", "nearly_full", "full", "closed", "not_open"].forEach(function (cls) {
            var li = el("li"), sw = el("span", "swatch-box occ-" + cls);
            li.append(sw, el("span", null, label(T.occupancy, cls)));
            sl.append(li);
          });
          sh.append(sl);
          box.append(sh);
        }
        box.hidden = box.children.length === 0;
      }
    });
    var legend = new Legend().addTo(map);

    // --- the layer control ---------------------------------------------------------------------
    var overlays = {};
    overlays[escapeHtml(NAMES.districts)] = districtsGroup;
    overlays[escapeHtml(NAMES.sites)] = sitesGroup;
    overlays[escapeHtml(NAMES.shelters)] = sheltersGroup;
    districtsGroup.addTo(map);
    sitesGroup.addTo(map);
    sheltersGroup.addTo(map);
    L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);
    map.on("overlayadd overlayremove", function () {
      legend.update();
      fitLabels();
      report();
      refresh();  // a layer switched on gets fresh data at once
    });

    // Escape closes a site's or shelter's popup wherever the focus is (Leaflet's own handler
    // needs the focus on the map itself, not on the marker that opened it).
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") map.closePopup();
    });
    // coordmap.js sends the first "dvc:refresh" once the needs are on the map: they come first.
    document.addEventListener("dvc:refresh", refresh);
    report();
  }
})();
