// Small behaviours shared by every page; no inline scripts so a strict CSP can hold.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-print]");
    if (b) { e.preventDefault(); window.print(); }
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });
})();
