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
})();
