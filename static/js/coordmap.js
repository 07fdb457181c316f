// Coordinator's map (地図): needs from the JSON API as circles on one canvas, clustered on a grid
// below street level (colour: status; size and ring: priority; clusters count the needs and, in
// red, those waiting for a team), teams in the field at their need, and a side panel to form,
// dispatch and follow a need's team. folium built the map; map.js hands us its layers in
// window.dvcMap. We poll for changes without reloading (an unchanged answer costs a 304 and no
// drawing); the layers and the low stock are asked for once the needs are on the map.
// Every failure is shown; nothing ticked or typed is dropped.
(function () {
  "use strict";
  // Loaded from <head>: ask for the needs now, while Leaflet is still loading; the map is
  // filled once the page is parsed.
  function fetchNeeds(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-cache",
                        headers: { "Accept": "application/json" } });
  }
  var script = document.currentScript, needsUrl = script && script.dataset.needs;
  // The page preloads this URL (<link rel=preload as=fetch crossorigin>): a plain same-origin
  // GET, so that the preloaded answer is the one used here.
  var early = needsUrl ? fetch(needsUrl, { credentials: "same-origin" }) : null;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  function start() {
    var root = document.querySelector(".coordmap");
    if (!root) return;
    var T = JSON.parse(document.getElementById("coordmap-text").textContent);
    var S = JSON.parse(document.getElementById("coordmap-style").textContent);
    var statusLine = document.getElementById("map-status");
    var note = document.getElementById("map-note");
    if (!window.L || !window.dvcMap) {
      statusLine.textContent = T.no_map;
      statusLine.className = "flash flash-error";
      return;
    }
    var map = window.dvcMap.map, teamLayer = window.dvcMap.teams;
    var api = root.dataset.api, op = root.dataset.op;
    var csrf = document.querySelector('meta[name="csrf-token"]').content;
    var refreshMs = Math.max(1, Number(root.dataset.refresh) || 15) * 1000;
    var WAITING = {};
    S.waiting.forEach(function (s) { WAITING[s] = true; });
    var RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
    var IN_FIELD = { dispatched: true, on_site: true, finished: true };
    var FORMABLE = { ready: true, continuing: true, assigned: true };

    // --- small tools ---------------------------------------------------------------------------
    function call(method, path, body) {
      var opts = { method: method, credentials: "same-origin", cache: "no-store",
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
    function el(tag, cls, text) {
      var node = document.createElement(tag);
      if (cls) node.className = cls;
      if (text !== undefined && text !== null) node.textContent = text;
      return node;
    }
    function message(content, kind) {
      var p = el("div", "flash flash-" + (kind || "error"));
      p.setAttribute("role", kind === "info" ? "status" : "alert");
      if (typeof content === "string") p.textContent = content; else p.append(content);
      return p;
    }
    // The server's message, and the field messages that are sentences (not bare codes).
    function errorText(r) {
      var text = (r.data && r.data.message) || T.network;
      var fields = (r.data && r.data.fields) || {};
      Object.keys(fields).forEach(function (k) {
        var v = fields[k];
        if (typeof v === "string" && !/^[a-z_]+$/.test(v) && text.indexOf(v) < 0) text += " " + v;
      });
      return text;
    }
    // HH:mm:ss in the centre's time zone (as the server's pages show it), whatever the tablet's.
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
    function number(id) { return "N" + String(id).padStart(5, "0"); }
    function label(table, key) { return (table && table[key]) || key; }

    // One load of the needs at a time: a poll never overtakes the one before it.
    var queue = [], working = false;
    function enqueue(job) { queue.push(job); if (!working) next(); }
    function next() {
      var job = queue.shift();
      working = !!job;
      if (!job) return;
      var finished = false;
      try {
        job(function () { if (!finished) { finished = true; next(); } });
      } catch (err) {
        finished = true;
        next();
        throw err;
      }
    }

    // --- needs on the map ----------------------------------------------------------------------
    // No Leaflet object, and no JavaScript object, per need: an answer is kept as it came (one
    // array a need) beside columns of typed arrays (position, status, priority, shown), and
    // drawn on one canvas, in clusters on a grid of CELL pixels below street level and one by
    // one from it. Clustering 20,000 needs takes a few milliseconds, so it is redone for each
    // zoom, filter and answer, and only what is in view (plus a margin, for panning) is drawn.
    // A need becomes an object only when something asks for it (the panel, a list, suggest.js).
    var etag = null, firstLoad = true;
    var stats = window.dvcMapStats = { ready: false, readyAt: null, markers: 0, drawn: 0,
                                       total: 0, version: 0 };
    var STREET_ZOOM = window.dvcMap.streetZoom || 17, CELL = window.dvcMap.cell || 60;
    var RING = "#37474f", URGENT_RING = "#d32f2f", BADGE = "#d32f2f";
    var COUNT_FONT = "700 13px system-ui, sans-serif", BADGE_FONT = "700 11px system-ui, sans-serif";
    // Spherical Mercator (Leaflet's EPSG:3857, folium's default) in pixels at zoom 0.
    var MAX_LAT = 85.0511287798, DEG = Math.PI / 180;

    // The needs of one answer of the API (dvc/maps/compact.py: columns, codes, rows).
    function Needs(payload) {
      var rows = payload.rows, count = rows.length, codes = payload.codes, ix = {};
      payload.columns.forEach(function (name, i) { ix[name] = i; });
      this.rows = rows;
      this.codes = codes;
      this.ix = ix;
      this.count = count;
      this.byId = new Map();
      this.objects = [];
      this.lat = new Float64Array(count);
      this.lon = new Float64Array(count);
      this.x = new Float64Array(count);  // NaN: no point on the map
      this.y = new Float64Array(count);
      this.status = new Uint8Array(count);
      this.priority = new Uint8Array(count);
      this.shown = new Uint8Array(count);
      this.drawn = new Uint32Array(count);  // the layer's draw in which it was drawn on its own
      this.shownCount = 0;
      // What each code means on the map, looked up once an answer instead of once a need.
      this.colour = codes.status.map(function (s) { return S.colours[s] || "#000"; });
      this.waiting = codes.status.map(function (s) { return !!WAITING[s]; });
      this.style = codes.priority.map(function (p) { return S.priority[p] || S.priority.normal; });
      this.rank = codes.priority.map(function (p) { return p in RANK ? RANK[p] : RANK.normal; });
      this.urgent = codes.priority.indexOf("urgent");
      var iId = ix.id, iLat = ix.lat, iLon = ix.lon, iStatus = ix.status, iPriority = ix.priority;
      for (var i = 0; i < count; i++) {
        var r = rows[i], lat = r[iLat], lon = r[iLon];
        this.byId.set(r[iId], i);
        this.status[i] = r[iStatus];
        this.priority[i] = r[iPriority];
        if (lat === null || lon === null) {
          this.lat[i] = this.lon[i] = this.x[i] = this.y[i] = NaN;
          continue;
        }
        var sin = Math.sin(Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * DEG);
        this.lat[i] = lat;
        this.lon[i] = lon;
        this.x[i] = 256 * (0.5 + lon / 360);
        this.y[i] = 256 * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
      }
    }
    // The row of a need, or -1.
    Needs.prototype.index = function (id) {
      var i = this.byId.get(Number(id));
      return i === undefined ? -1 : i;
    };
    Needs.prototype.id = function (i) { return this.rows[i][this.ix.id]; };
    // The need in row i as an object (made once an answer).
    Needs.prototype.need = function (i) {
      var n = this.objects[i];
      if (n) return n;
      var r = this.rows[i], ix = this.ix, c = this.codes;
      n = this.objects[i] = {
        id: r[ix.id], lon: r[ix.lon], lat: r[ix.lat], status: c.status[r[ix.status]],
        category: c.category[r[ix.category]], priority: c.priority[r[ix.priority]],
        people_min: r[ix.people_min], people_max: r[ix.people_max],
        district: c.district[r[ix.district]], site_id: r[ix.site_id],
        vehicle_needed: !!r[ix.vehicle_needed], care: !!r[ix.care],
        days_waiting: r[ix.days_waiting] };
      return n;
    };
    var needs = new Needs({ columns: [], rows: [],
                            codes: { status: [], category: [], priority: [], district: [] } });
    function needOf(id) {
      var i = needs.index(id);
      return i < 0 ? null : needs.need(i);
    }

    var filterForm = document.getElementById("map-filters");
    var districtSelect = document.getElementById("filter-district");
    function readFilters() {
      var f = { status: {}, category: filterForm.elements.category.value,
                district: districtSelect.value };
      filterForm.querySelectorAll("input[name=status]").forEach(function (b) {
        if (b.checked) f.status[b.value] = true;
      });
      return f;
    }
    var filters = readFilters();
    // The code of a filter's value: -1 for any, -2 when no need has it (nothing matches).
    function codeOf(list, value) {
      if (!value) return -1;
      var k = list.indexOf(value);
      return k < 0 ? -2 : k;
    }
    // Mark the needs the filters show (never those without a point) and count them.
    function place(d) {
      var okStatus = d.codes.status.map(function (s) { return !!filters.status[s]; });
      var category = codeOf(d.codes.category, filters.category);
      var district = codeOf(d.codes.district, filters.district);
      var rows = d.rows, iCategory = d.ix.category, iDistrict = d.ix.district, shown = 0;
      for (var i = 0; i < d.count; i++) {
        var on = okStatus[d.status[i]] && !isNaN(d.x[i]) &&
          (category === -1 || rows[i][iCategory] === category) &&
          (district === -1 || rows[i][iDistrict] === district);
        d.shown[i] = on ? 1 : 0;
        if (on) shown += 1;
      }
      d.shownCount = shown;
      stats.markers = shown;
    }

    // The canvas: Leaflet's renderer base gives the canvas its place, its margin and the zoom
    // animation; drawing and hit-testing are ours.
    var NeedsLayer = L.Renderer.extend({
      // A quarter of the view on each side (Leaflet's default is a tenth): short pans show
      // needs at once, and each frame hands the screen 2.25 times the view's pixels, not the
      // 4 times that padding 0.5 made.
      options: { padding: 0.25 },
      _initContainer: function () {
        this._container = L.DomUtil.create("canvas", "dvc-needs");
        this._ctx = this._container.getContext("2d");
        this._groups = null;  // clusters for this._groupsZoom, until the needs change
        this._drawn = [];     // what is on the canvas, top last, in layer pixels
        this._seq = 0;
      },
      _destroyContainer: function () { L.DomUtil.remove(this._container); },
      _updatePaths: function () {},
      _update: function () {
        if (this._map._animatingZoom && this._bounds) return;
        L.Renderer.prototype._update.call(this);
        var b = this._bounds, size = b.getSize(), c = this._container;
        var ratio = window.devicePixelRatio || 1;
        var w = Math.round(ratio * size.x), h = Math.round(ratio * size.y);
        L.DomUtil.setPosition(c, b.min);
        // Giving a canvas its size, even the same one, clears it and makes a new bitmap.
        if (c.width !== w || c.height !== h) {
          c.width = w;
          c.height = h;
          c.style.width = size.x + "px";
          c.style.height = size.y + "px";
          this._picture = null;
        }
        this._ratio = ratio;
        this._draw();
      },
      // The needs changed: cluster them again, and draw them now.
      changed: function () { this.forget(); if (this._map) this._draw(); },
      forget: function () { this._groups = null; },
      // Clusters at a zoom: cells of CELL pixels on the world grid, so they stay put while the
      // map pans. Below street level a cell holding one need shows that need. `i`: the row of
      // the need drawn alone (for a cluster, its first need).
      _group: function (zoom) {
        if (this._groups && this._groupsZoom === zoom) return this._groups;
        var d = needs, scale = Math.pow(2, zoom), singlesOnly = zoom >= STREET_ZOOM;
        var cells = new Map(), out = [];
        // Cells are counted from the world's corner; keyed from the first shown need's cell
        // (one key a cell: `stride` exceeds twice the world's width in cells), keys stay small
        // integers, fast Map keys, wherever the needs are.
        var first = -1;
        while (++first < d.count && !d.shown[first]) { /* find it */ }
        var baseX = first < d.count ? Math.floor(d.x[first] * scale / CELL) : 0;
        var baseY = first < d.count ? Math.floor(d.y[first] * scale / CELL) : 0;
        var stride = 2 * Math.ceil(256 * scale / CELL) + 2;
        for (var i = 0; i < d.count; i++) {
          if (!d.shown[i]) continue;
          var px = d.x[i] * scale, py = d.y[i] * scale;
          if (singlesOnly) { out.push({ n: 1, x: px, y: py, i: i }); continue; }
          var key = (Math.floor(px / CELL) - baseX) * stride + Math.floor(py / CELL) - baseY;
          var g = cells.get(key);
          if (!g) {
            g = { n: 0, x: 0, y: 0, i: i, waiting: 0, urgent: false, south: 90, north: -90,
                  west: 180, east: -180 };
            cells.set(key, g);
            out.push(g);
          }
          g.n += 1; g.x += px; g.y += py;
          if (d.waiting[d.status[i]]) {
            g.waiting += 1;
            if (d.priority[i] === d.urgent) g.urgent = true;
          }
          var lat = d.lat[i], lon = d.lon[i];
          if (lat < g.south) g.south = lat;
          if (lat > g.north) g.north = lat;
          if (lon < g.west) g.west = lon;
          if (lon > g.east) g.east = lon;
        }
        if (!singlesOnly) out.forEach(function (g) { g.x /= g.n; g.y /= g.n; });
        // Singles under clusters, and the more urgent singles on top.
        var rank = d.rank, priority = d.priority;
        out.sort(function (a, b) {
          return (a.n > 1) - (b.n > 1) || rank[priority[b.i]] - rank[priority[a.i]];
        });
        this._groups = out;
        this._groupsZoom = zoom;
        return out;
      },
      _draw: function () {
        var map = this._map, b = this._bounds;
        if (!map || !b) return;
        var ctx = this._ctx, ratio = this._ratio, zoom = map.getZoom();
        var origin = map.getPixelOrigin(), ox = origin.x + b.min.x, oy = origin.y + b.min.y;
        var w = b.max.x - b.min.x, h = b.max.y - b.min.y;
        var d = needs, groups = this._group(zoom);
        // The same clusters at the same place: what the canvas shows is still right (setting
        // a view sends Leaflet's "viewreset" and then "moveend", each asking for a drawing).
        var picture = [zoom, ox, oy, w, h, ratio].join(" ");
        if (this._picture === picture && this._pictureOf === groups) return;
        this._picture = picture;
        this._pictureOf = groups;
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.clearRect(0, 0, w, h);
        var drawn = [], count = 0, seq = ++this._seq;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        this._font = null;  // setting a font parses it: only when it changes
        for (var i = 0; i < groups.length; i++) {
          var g = groups[i], x = g.x - ox, y = g.y - oy;
          if (x < -30 || y < -30 || x > w + 30 || y > h + 30) continue;
          var r;
          if (g.n > 1) {
            r = this._cluster(ctx, g, x, y);
          } else {
            r = this._single(ctx, d, g.i, x, y);
            d.drawn[g.i] = seq;
          }
          drawn.push({ g: g, x: x + b.min.x, y: y + b.min.y, r: r });
          count += g.n;
        }
        this._drawn = drawn;
        stats.drawn = count;
      },
      _single: function (ctx, d, i, x, y) {
        var p = d.style[d.priority[i]];
        ctx.beginPath();
        ctx.arc(x, y, p.radius, 0, 2 * Math.PI);
        ctx.fillStyle = d.colour[d.status[i]];
        ctx.fill();
        ctx.lineWidth = p.weight;
        ctx.strokeStyle = p.color;
        ctx.stroke();
        return p.radius + p.weight / 2;
      },
      // A bubble with how many needs, and in red how many of them wait for a team.
      _cluster: function (ctx, g, x, y) {
        var size = g.n < 10 ? 34 : g.n < 100 ? 40 : g.n < 1000 ? 46 : 54, r = size / 2 - 1.5;
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fillStyle = "rgba(255,255,255,0.92)";
        ctx.fill();
        ctx.lineWidth = 3;
        ctx.strokeStyle = g.urgent ? URGENT_RING : RING;
        ctx.stroke();
        ctx.fillStyle = "#1b1f24";
        this._setFont(ctx, COUNT_FONT);
        ctx.fillText(String(g.n), x, y + 0.5);
        if (g.waiting) {
          var text = String(g.waiting);
          this._setFont(ctx, BADGE_FONT);
          var bw = Math.max(16, this._width(ctx, text) + 9), bh = 15;
          var bx = x + r * 0.72, by = y - r * 0.72;
          ctx.beginPath();
          ctx.roundRect(bx - bw / 2, by - bh / 2, bw, bh, bh / 2);
          ctx.fillStyle = BADGE;
          ctx.fill();
          ctx.fillStyle = "#fff";
          ctx.fillText(text, bx, by + 0.5);
        }
        return r + 1.5;
      },
      _setFont: function (ctx, font) {
        if (this._font !== font) ctx.font = this._font = font;
      },
      // The width of a badge's text (digits only: a few dozen strings, measured once).
      _width: function (ctx, text) {
        var known = this._widths || (this._widths = {});
        if (!(text in known)) known[text] = ctx.measureText(text).width;
        return known[text];
      },
      // The topmost thing drawn at a layer point, or null.
      hit: function (point) {
        for (var i = this._drawn.length - 1; i >= 0; i--) {
          var d = this._drawn[i], dx = point.x - d.x, dy = point.y - d.y, r = d.r + 2;
          if (dx * dx + dy * dy <= r * r) return d.g;
        }
        return null;
      }
    });
    var layer = new NeedsLayer().addTo(map);
    window.dvcMap.needs = layer;
    map.on("click", function (ev) {
      var g = layer.hit(ev.layerPoint);
      if (!g) return;
      if (g.n === 1) { openNeed(needs.id(g.i), false); return; }
      // A cluster: zoom to its needs (to street level when they are all at one spot).
      if (g.north - g.south < 1e-6 && g.east - g.west < 1e-6) {
        map.setView([g.north, g.east], STREET_ZOOM, { animate: false });
      } else {
        map.fitBounds([[g.south, g.west], [g.north, g.east]], { padding: [40, 40] });
      }
    });
    var container = map.getContainer();
    map.on("mousemove", function (ev) {
      container.classList.toggle("dvc-hover", !!layer.hit(ev.layerPoint));
    });
    map.on("mouseout", function () { container.classList.remove("dvc-hover"); });

    // A new answer replaces the needs; the canvas is drawn again at once.
    function apply(payload) {
      needs = new Needs(payload);
      place(needs);
      layer.forget();
      // The first load shows every need (fitting the view draws them); later ones keep the view.
      var fitted = firstLoad && fitTo(needs);
      firstLoad = false;
      if (!fitted) layer.changed();
    }

    function refilter() {
      place(needs);
      layer.changed();
      summarise();
    }
    filterForm.addEventListener("change", function () { filters = readFilters(); refilter(); });
    filterForm.addEventListener("submit", function (e) { e.preventDefault(); });

    // Fit the view to the shown needs; false when there are none.
    function fitTo(d) {
      var south = 90, north = -90, west = 180, east = -180, any = false;
      for (var i = 0; i < d.count; i++) {
        if (!d.shown[i]) continue;
        var lat = d.lat[i], lon = d.lon[i];
        any = true;
        if (lat < south) south = lat;
        if (lat > north) north = lat;
        if (lon < west) west = lon;
        if (lon > east) east = lon;
      }
      if (any) map.fitBounds([[south, west], [north, east]], { padding: [30, 30], maxZoom: 16,
                                                               animate: false });
      return any;
    }

    // Counts, districts and the list of needs waiting for a team.
    var waitingList = document.getElementById("waiting-list");
    var lastUpdate = null, staleNote = null;
    function summarise() {
      var d = needs, codes = d.codes, ix = d.ix, rows = d.rows;
      var perStatus = new Uint32Array(codes.status.length);
      var perDistrict = new Uint32Array(codes.district.length);
      var noPoint = 0, waiting = [];
      for (var i = 0; i < d.count; i++) {
        perStatus[d.status[i]] += 1;
        perDistrict[rows[i][ix.district]] += 1;
        if (isNaN(d.x[i])) noPoint += 1;
        if (d.waiting[d.status[i]]) waiting.push(i);
      }
      var counts = {};
      codes.status.forEach(function (s, k) { if (perStatus[k]) counts[s] = perStatus[k]; });
      filterForm.querySelectorAll("[data-count]").forEach(function (node) {
        node.textContent = counts[node.dataset.count] ? "(" + counts[node.dataset.count] + ")" : "";
      });
      var names = codes.district.filter(function (name, k) { return name && perDistrict[k]; })
        .sort();
      var have = Array.prototype.slice.call(districtSelect.options, 1).map(function (o) { return o.value; });
      if (have.join("\n") !== names.join("\n")) {
        var chosen = districtSelect.value;
        while (districtSelect.options.length > 1) districtSelect.remove(1);
        names.forEach(function (name) { districtSelect.add(new Option(name, name)); });
        if (chosen && names.indexOf(chosen) < 0) districtSelect.add(new Option(chosen, chosen));
        districtSelect.value = chosen;
      }
      var continuing = codes.status.indexOf("continuing"), days = ix.days_waiting, id = ix.id;
      waiting.sort(function (a, b) {
        return (d.status[a] !== continuing) - (d.status[b] !== continuing) ||
          d.rank[d.priority[a]] - d.rank[d.priority[b]] || rows[b][days] - rows[a][days] ||
          rows[a][id] - rows[b][id];
      });
      waitingList.replaceChildren();
      if (!waiting.length) waitingList.append(el("li", "meta none", T.none_waiting));
      waiting.slice(0, 15).forEach(function (i) {
        var n = d.need(i);
        var b = el("button", "link", number(n.id) + " · " + label(T.categories, n.category) + " · " +
                   label(T.priorities, n.priority) + " · " + fmt(T.days, { n: n.days_waiting }));
        b.type = "button";
        b.addEventListener("click", function () { openNeed(n.id, true); });
        var li = el("li");
        li.append(b);
        waitingList.append(li);
      });
      stats.markers = d.shownCount;
      stats.total = d.count;
      var text = fmt(T.on_map, { shown: d.shownCount, total: d.count });
      if (noPoint) text += " · " + fmt(T.no_point, { n: noPoint });
      if (lastUpdate) text += " · " + fmt(T.updated, { time: clock(lastUpdate) });
      statusLine.textContent = text;
      statusLine.className = "map-status";
      if (staleNote) { statusLine.append(message(staleNote)); }
    }

    // `then` runs once the map is ready (the side bar is filled after the needs are painted).
    function markReady(then) {
      stats.version += 1;
      if (stats.ready) { then(); return; }
      // "On the map": every shown need is on the canvas (on its own, or counted in a drawn
      // cluster: stats.drawn) and the browser has painted a frame since.
      requestAnimationFrame(function () {
        setTimeout(function () {
          stats.ready = true;
          stats.readyAt = performance.now();
          document.dispatchEvent(new CustomEvent("dvc:map-ready", { detail: stats }));
          then();
        }, 0);
      });
    }
    // What waits for the first answer to be on the map (or to have failed): the layers and the
    // low stock, so that the server and the browser give the needs their full attention first.
    var afterFirst = [];
    function afterFirstLoad(job) { if (afterFirst) afterFirst.push(job); else job(); }
    function firstLoadSettled() {
      var jobs = afterFirst;
      afterFirst = null;
      if (jobs) jobs.forEach(function (job) { job(); });
    }

    function load() {
      enqueue(function (done) {
        // The browser revalidates with the ETag ("no-cache"): an unchanged answer is a 304 on the
        // wire, handed to us as the cached 200, which we recognise by its ETag and skip.
        var request = early || fetchNeeds(needsUrl || api + "/operations/" + op + "/map/needs");
        early = null;
        request
          .then(function (r) {
            if (r.status === 304 || (r.status === 200 && etag && r.headers.get("ETag") === etag)) {
              return null;
            }
            if (r.status !== 200) {
              return r.json().catch(function () { return {}; }).then(function (data) {
                throw { status: r.status, data: data };
              });
            }
            var tag = r.headers.get("ETag");
            return r.json().then(function (payload) { return { tag: tag, payload: payload }; });
          }, function () { throw { status: 0, data: { message: T.network } }; })
          .then(function (got) {
            lastUpdate = new Date();
            staleNote = null;
            if (!got) {
              summarise();
              markReady(function () { firstLoadSettled(); loadTeams(done); });
              return;
            }
            if (!stats.ready) stats.dataAt = performance.now();
            apply(got.payload);
            if (!stats.ready) stats.drawnAt = performance.now();
            etag = got.tag;
            markReady(function () {
              firstLoadSettled();
              summarise();
              renderPanel();
              loadTeams(done);
            });
          })
          .catch(function (err) {
            done();
            firstLoadSettled();
            if (err instanceof Error) throw err;  // a bug: let it reach the console
            staleNote = fmt(T.stale, { time: clock(new Date()) }) + " " + errorText(err);
            summarise();
          });
      });
    }

    // --- teams in the field --------------------------------------------------------------------
    var teams = [], teamMarkers = {};
    function loadTeams(done) {
      call("GET", "/operations/" + op + "/teams").then(function (r) {
        try {
          if (r.status === 200) {
            teams = r.data; drawTeams(); renderPanel();
            document.dispatchEvent(new CustomEvent("dvc:teams"));
          }
          else { staleNote = errorText(r); summarise(); }
        } finally { done(); }
      });
    }
    function drawTeams() {
      var keep = {};
      teams.forEach(function (t) {
        var n = needOf(t.need_id);
        if (!IN_FIELD[t.status] || !n || n.lat === null) return;
        keep[t.id] = true;
        var sig = [t.status, t.headcount, n.lat, n.lon].join("|");
        var cur = teamMarkers[t.id];
        if (cur && cur.sig === sig) return;
        if (cur) teamLayer.removeLayer(cur.marker);
        var pin = el("span", null, t.number + " · " + t.headcount);
        var marker = L.marker([n.lat, n.lon], {
          icon: L.divIcon({ className: "team-pin team-" + t.status, html: pin, iconSize: null,
                            iconAnchor: [-10, 30] }),
          title: t.number + " · " + label(T.team_statuses, t.status), zIndexOffset: 1000 });
        marker.on("click", function () { openNeed(t.need_id, false); });
        teamLayer.addLayer(marker);
        teamMarkers[t.id] = { marker: marker, sig: sig };
      });
      Object.keys(teamMarkers).forEach(function (id) {
        if (!keep[id]) { teamLayer.removeLayer(teamMarkers[id].marker); delete teamMarkers[id]; }
      });
    }
    function replaceTeam(t) {
      var i = teams.findIndex(function (x) { return x.id === t.id; });
      if (i >= 0) teams[i] = Object.assign({}, teams[i], t); else teams.push(t);
      drawTeams();
      renderPanel();
    }

    // --- the need panel ------------------------------------------------------------------------
    var panel = document.getElementById("need-panel");
    var msgs = document.getElementById("panel-messages");
    var facts = document.getElementById("need-facts");
    var teamsSection = document.getElementById("need-teams");
    var teamList = teamsSection.querySelector("ul");
    var formSection = document.getElementById("team-form");
    var rowsBody = document.getElementById("volunteer-rows");
    var headcountLine = document.getElementById("team-headcount");
    var noVolunteers = document.getElementById("no-volunteers");
    var formButton = document.getElementById("form-team");
    var current = null, teamCards = {};
    var selections = {};    // need id -> { members: {volunteer id: true}, leader: id | null }
    var available = [], availableSig = null, known = {}, problems = {};

    function say(content, kind) {
      msgs.prepend(message(content, kind));
      while (msgs.children.length > 4) msgs.lastChild.remove();
    }
    function sel() {
      if (!selections[current]) selections[current] = { members: {}, leader: null };
      return selections[current];
    }

    var ring = null;  // marks the need in the panel
    // `focus`: opened from a list, so bring the need into view at street level.
    function openNeed(id, focus) {
      if (current !== id) {
        current = id;
        msgs.replaceChildren();
        facts.replaceChildren(el("dd", "meta", T.loading));
        teamList.replaceChildren();
        teamCards = {};
        problems = {};
        availableSig = null;
        rowsBody.replaceChildren();
        call("GET", "/needs/" + id).then(function (r) {  // the server logs this view
          if (current !== id) return;
          if (r.status === 200) renderFacts(r.data);
          else { facts.replaceChildren(); say(errorText(r)); }
        });
      }
      panel.hidden = false;
      if (!root.classList.contains("panel-open")) {
        root.classList.add("panel-open");
        map.invalidateSize({ pan: false });  // the panel takes the map's right side
      }
      var n = needOf(id);
      if (n && n.lat !== null) {
        var here = [n.lat, n.lon];
        if (focus) map.setView(here, Math.max(map.getZoom(), STREET_ZOOM), { animate: false });
        else map.panInside(here, { padding: [60, 60], animate: false });
        if (!ring) {
          ring = L.circleMarker(here, { radius: 16, color: "#0b5cad", weight: 3, fill: false,
                                        interactive: false }).addTo(map);
        } else {
          ring.setLatLng(here);
        }
      } else if (ring) {
        ring.remove();
        ring = null;
      }
      showAlsoHere(id);
      renderPanel();
      loadAvailable(false);
      document.getElementById("need-title").focus({ preventScroll: true });
    }
    document.getElementById("panel-close").addEventListener("click", function () {
      current = null;
      panel.hidden = true;
      root.classList.remove("panel-open");
      map.invalidateSize({ pan: false });
      if (ring) { ring.remove(); ring = null; }
    });

    // Needs at the same spot (a block of flats, within 10 m): offered here, as their markers
    // cover each other even at the closest zoom.
    var alsoHere = document.getElementById("also-here");
    function showAlsoHere(id) {
      var d = needs, mine = d.index(id), found = [];
      alsoHere.querySelectorAll("button").forEach(function (b) { b.remove(); });
      if (mine >= 0 && !isNaN(d.x[mine])) {
        var lat = d.lat[mine], lon = d.lon[mine], here = L.latLng(lat, lon);
        for (var i = 0; i < d.count; i++) {
          if (!d.shown[i] || i === mine || Math.abs(d.lat[i] - lat) > 0.0002 ||
              Math.abs(d.lon[i] - lon) > 0.0002) continue;
          if (map.distance(here, [d.lat[i], d.lon[i]]) <= 10) found.push(d.need(i));
        }
      }
      found.slice(0, 20).forEach(function (o) {
        var b = el("button", "link", number(o.id) + " " + label(T.statuses, o.status));
        b.type = "button";
        b.addEventListener("click", function () { openNeed(o.id, false); });
        alsoHere.append(" ", b);
      });
      alsoHere.hidden = found.length === 0;
    }

    function fact(term, value) {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", null, term), el("dd", null, value));
    }
    function renderFacts(need) {
      var F = T.fields;
      facts.replaceChildren();
      fact(F.requester, need.requester_name + (need.requester_kana ? " (" + need.requester_kana + ")" : ""));
      fact(F.address, need.address + (need.district ? " · " + need.district : ""));
      fact(F.category, label(T.categories, need.category));
      fact(F.priority, label(T.priorities, need.priority));
      fact(F.people, need.people_min + "–" + need.people_max + " " + T.people +
           (need.vehicle_needed ? " · " + T.vehicle_needed : ""));
      fact(F.hours, need.est_hours);
      fact(F.damage, label(T.damage, need.damage));
      fact(F.skills, (need.skills || []).map(function (s) { return label(T.skills, s); }).join("、"));
      fact(F.equipment, need.equipment_wanted);
      fact(F.care, ["elderly", "disabled", "living_alone"].filter(function (k) { return need[k]; })
           .map(function (k) { return label(T.care, k); }).join("、"));
      fact(F.description, need.description);
      fact(F.remaining, need.remaining_work);
      fact(F.received, need.received_dt ? new Date(need.received_dt).toLocaleDateString() : "");
    }

    function renderPanel() {
      if (current === null) return;
      var n = needOf(current);
      var badge = panel.querySelector("[data-p=status]");
      panel.querySelector("[data-p=number]").textContent = number(current);
      badge.textContent = n ? label(T.statuses, n.status) : "";
      badge.style.background = n ? (S.colours[n.status] || "#000") : "transparent";
      var mine = teams.filter(function (t) { return t.need_id === current && t.status !== "disbanded"; });
      renderTeams(mine);
      var formable = !!(n && FORMABLE[n.status]);
      formSection.hidden = !formable;
      var hint = document.getElementById("team-not-ready");
      hint.hidden = formable || !n || n.status === "completed";
      if (formable) showHeadcount();
    }

    // Team cards are kept and updated in place, so a half-written report survives every poll.
    function renderTeams(list) {
      var keep = {};
      list.forEach(function (t) {
        keep[t.id] = true;
        var li = teamCards[t.id];
        if (!li) { li = teamCards[t.id] = buildTeamCard(t.id); teamList.append(li); }
        updateTeamCard(li, t);
      });
      Object.keys(teamCards).forEach(function (id) {
        if (!keep[id]) { teamCards[id].remove(); delete teamCards[id]; }
      });
      teamsSection.hidden = list.length === 0;
    }
    function buildTeamCard(teamId) {
      var li = document.getElementById("team-card").content.firstElementChild.cloneNode(true);
      li.dataset.team = teamId;
      li.querySelectorAll("[data-r]").forEach(function (radio) {
        radio.name = "outcome-" + teamId;
        radio.addEventListener("change", function () {
          li.querySelector("[data-t=continuing]").hidden = !li.querySelector("[data-r=continuing]").checked;
        });
      });
      li.querySelectorAll("[data-act]").forEach(function (button) {
        button.addEventListener("click", function () { act(teamId, button.dataset.act, button); });
      });
      li.querySelector("[data-t=report]").addEventListener("submit", function (ev) {
        ev.preventDefault();
        sendReport(teamId, ev.target);
      });
      return li;
    }
    function updateTeamCard(li, t) {
      var f = function (name) { return li.querySelector("[data-t=" + name + "]"); };
      li.dvcTeam = t;
      li.className = "team-card team-" + t.status;
      f("number").textContent = t.number;
      f("status").textContent = label(T.team_statuses, t.status);
      f("people").textContent = t.headcount + " " + T.people;
      f("members").textContent = (t.members || []).map(function (m) {
        return (m.volunteer_id === t.leader_id ? "★ " : "") + m.name +
          (m.headcount > 1 ? " (" + m.headcount + ")" : "");
      }).join("、");
      f("formed").hidden = t.status !== "formed";
      f("field").hidden = !IN_FIELD[t.status];
      li.querySelector("[data-act=arrive]").hidden = t.status !== "dispatched";
      li.querySelector("[data-act=finish]").hidden = !(t.status === "dispatched" || t.status === "on_site");
      var canReport = (IN_FIELD[t.status] || t.status === "returned") && !t.reported;
      f("report").hidden = !canReport;
      f("reported").hidden = !t.reported;
    }

    function act(teamId, action, button) {
      var li = teamCards[teamId];
      var body = action === "dispatch" ? { transport: li.querySelector("[data-t=transport]").value } : {};
      button.disabled = true;
      call("POST", "/teams/" + teamId + "/" + action, body).then(function (r) {
        button.disabled = false;
        if (r.status !== 200) { say(errorText(r)); return; }
        var text = action === "dispatch" ? fmt(T.dispatched, { team: r.data.number })
          : action === "disband" ? fmt(T.disbanded, { team: r.data.number })
          : fmt(T.step_done, { team: r.data.number, status: label(T.team_statuses, r.data.status) });
        say(text, "info");
        replaceTeam(r.data);
        if (action === "disband" || action === "return") loadAvailable(true);
        load();
      });
    }

    function sendReport(teamId, form) {
      var continuing = form.querySelector("[data-r=continuing]").checked;
      var body = { outcome: continuing ? "continuing" : "completed" };
      if (continuing) {
        body.remaining_work = form.elements.remaining_work.value.trim();
        if (form.elements.people_next.value) body.people_next = Number(form.elements.people_next.value);
      }
      ["requester_situation", "notes"].forEach(function (k) {
        var v = form.elements[k].value.trim();
        if (v) body[k] = v;
      });
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      call("POST", "/teams/" + teamId + "/report", body).then(function (r) {
        button.disabled = false;
        if (r.status !== 201) { say(errorText(r)); return; }
        say(fmt(T.reported, { outcome: label(T.outcomes, body.outcome) }), "info");
        var t = teams.find(function (x) { return x.id === teamId; });
        if (t) replaceTeam(Object.assign({}, t, { reported: true }));
        load();
      });
    }

    // --- forming a team ------------------------------------------------------------------------
    function loadAvailable(force) {
      var id = current;
      call("GET", "/operations/" + op + "/volunteers/available").then(function (r) {
        if (current !== id) return;
        if (r.status !== 200) { say(errorText(r)); return; }
        var sig = r.data.map(function (v) { return v.volunteer_id + ":" + v.headcount; }).join(",");
        if (!force && sig === availableSig) return;
        availableSig = sig;
        available = r.data;
        available.forEach(function (v) { known[v.volunteer_id] = v; });
        renderVolunteers();
      });
    }
    document.getElementById("reload-volunteers").addEventListener("click", function () {
      problems = {};
      loadAvailable(true);
    });

    function renderVolunteers() {
      var s = sel(), ids = {}, list = available.slice();
      list.forEach(function (v) { ids[v.volunteer_id] = true; });
      // Someone ticked here but taken meanwhile stays in the list, marked, until unticked.
      Object.keys(s.members).forEach(function (id) {
        id = Number(id);
        if (s.members[id] && !ids[id] && known[id]) {
          list.unshift(known[id]);
          if (!problems[id]) problems[id] = T.busy;
        }
      });
      rowsBody.replaceChildren();
      list.forEach(function (v) { rowsBody.append(volunteerRow(v, s)); });
      noVolunteers.hidden = list.length > 0;
      showHeadcount();
    }
    function volunteerRow(v, s) {
      var tr = document.getElementById("volunteer-row").content.firstElementChild.cloneNode(true);
      var f = function (name) { return tr.querySelector("[data-v=" + name + "]"); };
      var id = v.volunteer_id, box = f("member"), leader = f("leader");
      box.id = "vol-" + id;
      box.value = leader.value = id;
      box.checked = !!s.members[id];
      leader.checked = s.leader === id;
      leader.setAttribute("aria-label", fmt(T.leader_of, { name: v.name }));
      f("label").htmlFor = box.id;
      f("name").textContent = v.name;
      f("kana").textContent = v.kana ? "(" + v.kana + ")" : "";
      f("number").textContent = "No. " + v.number;
      f("experience").textContent = v.days_active ? fmt(T.days_active, { n: v.days_active }) : T.first_day;
      f("people").textContent = (v.group ? T.group + " " + v.group + " · " : "") +
        v.headcount + " " + T.people;
      var extra = [];
      if (v.vehicle && v.vehicle !== "none") extra.push(label(T.vehicles, v.vehicle));
      (v.skills || []).forEach(function (k) { extra.push(label(T.skills, k)); });
      f("extra").textContent = extra.join("、");
      if (problems[id]) {
        tr.classList.add("has-problem");
        f("problem").hidden = false;
        f("problem").textContent = problems[id];
      }
      box.addEventListener("change", function () {
        s.members[id] = box.checked;
        if (box.checked && !s.leader) { s.leader = id; leader.checked = true; }
        if (!box.checked && s.leader === id) { s.leader = null; leader.checked = false; }
        showHeadcount();
      });
      leader.addEventListener("change", function () {
        if (!leader.checked) return;
        s.leader = id;
        if (!box.checked) { box.checked = true; s.members[id] = true; }
        showHeadcount();
      });
      return tr;
    }
    function showHeadcount() {
      var n = needOf(current);
      if (!n) { headcountLine.textContent = ""; return; }
      var s = sel(), people = 0;
      Object.keys(s.members).forEach(function (id) {
        if (s.members[id] && known[id]) people += known[id].headcount;
      });
      headcountLine.textContent = fmt(T.headcount, { people: people, min: n.people_min,
                                                     max: n.people_max });
      headcountLine.className = people && (people < n.people_min || people > n.people_max)
        ? "warn" : "meta";
    }

    formButton.addEventListener("click", function () {
      var needId = current, s = sel();
      var ids = Object.keys(s.members).filter(function (k) { return s.members[k]; }).map(Number);
      if (!ids.length) { say(T.choose_members); return; }
      if (!s.leader || !s.members[s.leader]) { say(T.choose_leader); return; }
      formButton.disabled = true;
      call("POST", "/operations/" + op + "/teams",
           { need_id: needId, member_ids: ids, leader_id: s.leader }).then(function (r) {
        formButton.disabled = false;
        if (r.status === 201) {
          delete selections[needId];
          problems = {};
          var warnings = r.data.warnings || [];
          if (warnings.length) {
            var box = el("div");
            box.append(el("p", null, fmt(T.formed_with_warnings, { team: r.data.number })));
            var ul = el("ul");
            warnings.forEach(function (w) { ul.append(el("li", null, label(T.warnings, w))); });
            box.append(ul);
            say(box, "warn");
          } else {
            say(fmt(T.formed, { team: r.data.number }), "info");
          }
          if (current === needId) { replaceTeam(r.data); loadAvailable(true); }
          load();
          return;
        }
        // Refused (409 busy / not checked in, 422 too many): keep every tick, mark who is at fault.
        (r.data.volunteer_ids || []).forEach(function (id) {
          problems[id] = r.data.error === "not_checked_in" ? T.not_checked_in : T.busy;
        });
        if (current === needId) renderVolunteers();
        say(errorText(r));
      });
    });

    // --- low stock (equipment domain; hidden unless its API answers) ---------------------------
    var lowBox = document.getElementById("low-stock"), lowList = document.getElementById("low-stock-list");
    var lowUrl = root.dataset.lowStock;
    function loadLowStock() {
      if (!lowUrl) return;
      fetch(lowUrl, { credentials: "same-origin", cache: "no-store",
                      headers: { "Accept": "application/json" } }).then(function (r) {
        if (r.status !== 200) {
          lowBox.hidden = true;
          if (r.status >= 400 && r.status < 500) lowUrl = "";  // not here, or not for this role
          return null;
        }
        return r.json();
      }).then(function (data) {
        if (!data) return;
        var items = Array.isArray(data) ? data : (data.items || []);
        lowList.replaceChildren();
        items.forEach(function (item) {
          lowList.append(el("li", null, fmt(T.low_item, {
            name: item.name || item.item || "?", unit: item.unit || "", site: item.site_name || "",
            on_hand: item.on_hand !== undefined ? item.on_hand : "?",
            threshold: item.low_stock !== undefined ? item.low_stock : "?" })));
        });
        lowBox.hidden = items.length === 0;
      }, function () { lowBox.hidden = true; });
    }

    // --- basemap, refresh ----------------------------------------------------------------------
    if (root.dataset.basemap === "no") {
      note.textContent = T.no_basemap;
      note.hidden = false;
    } else if (window.dvcMap.tiles) {
      window.dvcMap.tiles.once("tileerror", function () {
        note.textContent = T.tiles_failed;
        note.hidden = false;
      });
    }
    // layers.js (districts, sites, shelters) refreshes with the needs: on this event.
    function refresh() {
      load();
      afterFirstLoad(function () {
        loadLowStock();
        document.dispatchEvent(new CustomEvent("dvc:refresh"));
      });
    }
    document.getElementById("map-refresh").addEventListener("click", refresh);
    setInterval(function () { if (!document.hidden && !working) refresh(); }, refreshMs);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
    // For tests and the curious: the state behind a marker, and where the need is drawn on its
    // own (container pixels; null when it is out of view or counted in a cluster).
    window.dvcMap.need = function (id) {
      var i = needs.index(id);
      return i < 0 ? null : { n: needs.need(i), shown: !!needs.shown[i] };
    };
    window.dvcMap.pointOf = function (id) {
      var d = needs, i = d.index(id);
      if (i < 0 || !d.shown[i] || d.drawn[i] !== layer._seq) return null;
      var p = map.latLngToContainerPoint([d.lat[i], d.lon[i]]), size = map.getSize();
      if (p.x < 0 || p.y < 0 || p.x > size.x || p.y > size.y) return null;
      return p;
    };
    // What suggest.js (suggested teams) builds on: the same calls, panel and refresh.
    window.dvcMap.desk = {
      T: T, call: call, fmt: fmt, el: el, message: message, errorText: errorText, clock: clock,
      number: number, label: label, need: needOf,
      teams: function () { return teams; }, refresh: refresh,
      // Open the need with these people ticked in its team form, for the coordinator to edit.
      edit: function (needId, memberIds, leaderId, people) {
        people.forEach(function (v) { known[v.volunteer_id] = v; });
        var members = {};
        memberIds.forEach(function (id) { members[id] = true; });
        selections[needId] = { members: members, leader: leaderId };
        current = null;
        openNeed(needId, true);
      }
    };
    document.dispatchEvent(new CustomEvent("dvc:desk-ready"));
    refresh();
  }
})();
