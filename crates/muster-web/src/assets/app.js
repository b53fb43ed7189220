// Muster web UI: a little progressive enhancement. Everything works without it.
(function () {
  "use strict";
  // Filters submit as soon as a select changes.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () {
      if (el.form) {
        var page = el.form.querySelector("input[name=page]");
        if (page) page.value = "1";
        el.form.submit();
      }
    });
  });
  // "/" focuses the search box, as on most consoles.
  document.addEventListener("keydown", function (e) {
    var search = document.querySelector("input[type=search]");
    if (e.key === "/" && search && document.activeElement !== search &&
        !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      e.preventDefault();
      search.focus();
    }
  });
  // Disable a form's submit button once sent, so an approval is not posted twice.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("button[type=submit]");
      if (b) { setTimeout(function () { b.disabled = true; }, 0); }
    });
  });
})();
