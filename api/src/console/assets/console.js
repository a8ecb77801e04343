// The console's one script (served as a file: the Content-Security-Policy allows no inline script).
// Everything works without it; it adds what only a script can:
// - the sign-in link's token, read from the URL fragment (never sent to a server by the browser), posted
//   once through the sign-in form, and removed from the address bar;
// - the SHA-256 of a document the user picks (input[type=file][data-sha256-into]), computed in the
//   browser with crypto.subtle into the named field: the ledger keeps hashes, never files.
"use strict";

(function () {
  function signInFromFragment() {
    var form = document.getElementById("signin-form");
    if (!form || !window.location.hash) return;
    var params = new URLSearchParams(window.location.hash.slice(1));
    var token = params.get("token");
    history.replaceState(null, "", window.location.pathname);
    if (!token) return;
    form.querySelector("textarea[name=token]").value = token;
    form.submit();
  }

  function hex(buffer) {
    return Array.prototype.map
      .call(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, "0"); })
      .join("");
  }

  function hashPickedFiles() {
    var inputs = document.querySelectorAll("input[type=file][data-sha256-into]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () {
        var form = input.form;
        var target = form && form.elements[input.getAttribute("data-sha256-into")];
        var nameField = form && form.elements[input.getAttribute("data-name-into") || ""];
        var sizeField = form && form.elements[input.getAttribute("data-size-into") || ""];
        var file = input.files && input.files[0];
        if (!target || !file || !window.crypto || !crypto.subtle) return;
        file.arrayBuffer().then(function (bytes) {
          return crypto.subtle.digest("SHA-256", bytes);
        }).then(function (digest) {
          target.value = hex(digest);
          if (nameField && !nameField.value) nameField.value = file.name;
          if (sizeField) sizeField.value = String(file.size);
          target.dispatchEvent(new Event("change"));
        });
      });
    });
  }

  function init() {
    signInFromFragment();
    hashPickedFiles();
    // A sign-in link opened while the sign-in page is already shown changes only the fragment: the page
    // does not load again, so the token is taken from the fragment when it changes as well.
    window.addEventListener("hashchange", signInFromFragment);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
