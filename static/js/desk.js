// Report desk: the scanner's box stays focused (a scan is typed text and Enter, which submits
// the form); the recall button asks once more before it calls every team back.
(function () {
  "use strict";
  var scan = document.getElementById("scan-input");
  if (scan) {
    var refocus = function () { scan.focus(); };
    document.addEventListener("click", function (e) {
      if (!e.target.closest("input, button, select, textarea, a, label")) refocus();
    });
    window.addEventListener("focus", refocus);
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  // One press, one request: a second tap while the page is still sending (a slow Wi-Fi) would
  // send the form again. These are page forms, not API calls, so they carry no
  // Idempotency-Key; a repeat that does get through is refused by the rules ("already back").
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    setTimeout(function () {  // after the browser has read the form
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // Back to this page from the history: its buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
})();
