// A desk's drill inbox: choose my desk (remembered by this browser), see the messages delivered
// to it newest first, acknowledge each. The list comes with the banner's tick (drillbanner.js),
// which already fetches my desk's messages for its unread count.
(function () {
  "use strict";
  var root = document.querySelector(".drill-inbox");
  var drill = window.dvcDrill;
  if (!root || !drill) return;
  var T = JSON.parse(document.getElementById("drill-inbox-text").textContent);
  var tz = root.dataset.tz;
  var select = document.getElementById("desk");
  var list = document.getElementById("drill-messages");
  var errorBox = document.getElementById("inbox-error");
  var shown = null;

  function fail(message) { errorBox.textContent = message || ""; errorBox.hidden = !message; }

  function card(m) {
    var node = document.getElementById("message-template").content.firstElementChild.cloneNode(true);
    var f = function (name) { return node.querySelector('[data-f="' + name + '"]'); };
    node.dataset.inject = m.inject;
    f("time").textContent = drill.clock(m.at, tz);
    f("from").textContent = m.from || "—";
    f("method").textContent = T.methods[m.method] || m.method || "—";
    f("message").textContent = m.message;
    var mine = m.acknowledged.filter(function (a) { return a.desk === select.value; })[0];
    node.classList.toggle("unread", !mine);
    if (mine) {
      f("ack").hidden = true;
      f("acked").hidden = false;
      f("acked").textContent = "✔ " + drill.fmt(T.acked, { time: drill.clock(mine.at, tz) });
    } else {
      f("ack").addEventListener("click", function () { acknowledge(m.inject, f("ack")); });
    }
    return node;
  }

  function render(messages) {
    var key = JSON.stringify(messages);
    if (key === shown) return;  // unchanged: keep the buttons under the finger
    shown = key;
    list.replaceChildren.apply(list, messages.map(card));
    var unread = messages.filter(function (m) { return !m.acknowledged_by_desk; }).length;
    document.getElementById("inbox-empty").hidden = messages.length > 0;
    document.getElementById("inbox-count").textContent = messages.length
      ? drill.fmt(T.count, { unread: unread, total: messages.length }) : "";
  }

  function acknowledge(number, button) {
    button.disabled = true;
    fail("");
    drill.call("POST", "/operations/" + drill.op + "/drill/injects/" + number + "/acknowledge",
               { desk: select.value }).then(function (r) {
      if (r.status !== 200 && r.status !== 201) { fail(r.data.message); button.disabled = false; }
      drill.tick();
    });
  }

  document.getElementById("desk-form").addEventListener("submit", function (e) { e.preventDefault(); });
  select.value = drill.desk();
  select.addEventListener("change", function () {
    shown = null;
    list.replaceChildren();
    drill.setDesk(select.value);
  });
  document.addEventListener("dvc:drill", function (e) {
    if (e.detail.messages && e.detail.desk === select.value) render(e.detail.messages);
  });
  if (drill.last && drill.last.messages && drill.last.desk === select.value) render(drill.last.messages);
})();
