// Suggested teams (チーム編成の提案) on the coordinator's map: ask the matching engine for the
// day's teams, show them as drafts on the map and in a list, and let the coordinator accept all,
// accept some, or open one in the team form to change its members. Nothing is formed until
// accepted, and accepting goes through the same team API as forming by hand.
(function () {
  "use strict";
  document.addEventListener("dvc:desk-ready", start);

  function start() {
    var D = window.dvcMap.desk, T = D.T, map = window.dvcMap.map;
    var box = document.getElementById("suggest");
    if (!box) return;
    var op = document.querySelector(".coordmap").dataset.op;
    var runButton = document.getElementById("suggest-run");
    var result = document.getElementById("suggest-result");
    var list = document.getElementById("suggest-list");
    var summary = document.getElementById("suggest-summary");
    var msgs = document.getElementById("suggest-messages");
    var drafts = L.layerGroup().addTo(map);
    var proposals = [], people = {}, cards = {};
    var ACTIVE = { formed: true, dispatched: true, on_site: true, finished: true };

    function say(content, kind) {
      msgs.prepend(D.message(content, kind));
      while (msgs.children.length > 3) msgs.lastChild.remove();
    }
    function name(id) { return people[id] ? people[id].name : "#" + id; }

    runButton.addEventListener("click", function () {
      runButton.disabled = true;
      msgs.replaceChildren();
      Promise.all([D.call("GET", "/operations/" + op + "/matching/suggestions"),
                   D.call("GET", "/operations/" + op + "/volunteers/available")])
        .then(function (answers) {
          runButton.disabled = false;
          var got = answers[0], free = answers[1];
          if (got.status !== 200) { say(D.errorText(got)); return; }
          if (free.status !== 200) { say(D.errorText(free)); return; }
          people = {};
          free.data.forEach(function (v) { people[v.volunteer_id] = v; });
          show(got.data);
        });
    });

    function show(data) {
      proposals = data.teams;
      summary.textContent = D.fmt(T.suggest_summary, {
        teams: proposals.length, people: proposals.reduce(function (s, p) { return s + p.headcount; }, 0),
        unserved: data.unserved_need_ids.length, idle: data.unassigned_volunteer_ids.length });
      list.replaceChildren();
      cards = {};
      proposals.forEach(function (p) { list.append(card(p)); });
      drawDrafts();
      result.hidden = false;
      if (!proposals.length) say(T.suggest_none, "info");
    }

    function card(p) {
      var li = D.el("li", "proposal");
      li.dataset.need = p.need_id;
      var n = D.need(p.need_id);
      var head = D.el("p", "proposal-head");
      var tick = D.el("input");
      tick.type = "checkbox";
      tick.checked = true;
      tick.id = "proposal-" + p.need_id;
      var lab = D.el("label", null, D.number(p.need_id) + (n ? " " + D.label(T.categories, n.category) +
                     " · " + D.label(T.priorities, n.priority) : ""));
      lab.htmlFor = tick.id;
      head.append(tick, " ", lab);
      var members = D.el("p", "proposal-members", p.member_ids.map(function (id) {
        return (id === p.leader_id ? "★ " : "") + name(id);
      }).join("、"));
      var why = D.el("p", "meta", p.reason);
      var row = D.el("div", "row");
      var edit = D.el("button", null, T.suggest_edit);
      edit.type = "button";
      edit.addEventListener("click", function () {
        D.edit(p.need_id, p.member_ids, p.leader_id, Object.keys(people).map(function (k) { return people[k]; }));
      });
      row.append(edit);
      li.append(head, members, why, row, D.el("div", "proposal-problem"));
      li.tick = tick;
      cards[p.need_id] = li;
      return li;
    }

    function drawDrafts() {
      drafts.clearLayers();
      proposals.forEach(function (p) {
        var n = D.need(p.need_id);
        if (!n || n.lat === null) return;
        var mark = L.circleMarker([n.lat, n.lon], { radius: 14, color: "#6a1b9a", weight: 3,
                                                     dashArray: "4 4", fill: false });
        mark.bindTooltip(D.fmt(T.suggest_draft, { need: D.number(p.need_id), people: p.headcount }));
        mark.on("click", function () { cards[p.need_id].scrollIntoView({ block: "nearest" }); });
        drafts.addLayer(mark);
      });
    }

    function accept(chosen) {
      if (!chosen.length) { say(T.suggest_choose); return; }
      var buttons = box.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      D.call("POST", "/operations/" + op + "/matching/accept", { teams: chosen.map(function (p) {
        return { need_id: p.need_id, member_ids: p.member_ids, leader_id: p.leader_id };
      }) }).then(function (r) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (r.status !== 200) { say(D.errorText(r)); return; }
        r.data.formed.forEach(function (t) { drop(t.need_id); });
        r.data.refused.forEach(function (x) {
          var li = cards[x.need_id];
          if (!li) return;
          li.classList.add("has-problem");
          li.querySelector(".proposal-problem").textContent = x.message;
        });
        say(D.fmt(T.suggest_accepted, { formed: r.data.formed.length, refused: r.data.refused.length }),
            r.data.refused.length ? "warn" : "info");
        D.refresh();
      });
    }
    function drop(needId) {
      proposals = proposals.filter(function (p) { return p.need_id !== needId; });
      if (cards[needId]) { cards[needId].remove(); delete cards[needId]; }
      drawDrafts();
    }
    document.getElementById("suggest-accept-selected").addEventListener("click", function () {
      accept(proposals.filter(function (p) { return cards[p.need_id].tick.checked; }));
    });
    document.getElementById("suggest-accept-all").addEventListener("click", function () {
      accept(proposals.slice());
    });
    document.getElementById("suggest-clear").addEventListener("click", function () {
      proposals = [];
      list.replaceChildren();
      drafts.clearLayers();
      result.hidden = true;
    });
    // A proposal formed by hand (after editing it in the team form) leaves the list.
    document.addEventListener("dvc:teams", function () {
      D.teams().forEach(function (t) {
        if (ACTIVE[t.status] && cards[t.need_id]) drop(t.need_id);
      });
    });
  }
})();
