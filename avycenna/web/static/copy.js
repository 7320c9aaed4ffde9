// Copy buttons: <button data-copy="element-id">. No inline script anywhere (CSP).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      var text = source.value !== undefined ? source.value : source.textContent;
      var done = function () {
        button.textContent = "Copied";
        var status = document.getElementById(button.dataset.copy + "-status");
        if (status) { status.textContent = "Copied to the clipboard."; }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(source, done); });
      } else {
        fallback(source, done);
      }
    });
  });
  function fallback(source, done) {
    source.focus();
    if (source.select) { source.select(); }
    try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the text stays selected */ }
  }
});
