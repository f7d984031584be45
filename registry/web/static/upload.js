// Progress bar for the extract upload. Without this script the form posts as usual and the
// browser lands on the extract's page; with it, the same form goes over XHR so the bar can
// follow the bytes, and then the browser goes to the same page.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var box = form.querySelector(".progress");
  var bar = form.querySelector("progress");
  var percent = form.querySelector(".percent");
  var error = form.querySelector(".error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    box.hidden = false;
    error.hidden = true;
    form.querySelector("button[type=submit]").disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        percent.textContent = bar.value + " %";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 202) {
        bar.value = 100;
        percent.textContent = "100 %";
        window.location.assign(JSON.parse(xhr.responseText).location);
        return;
      }
      fail("The upload was refused (" + xhr.status + "). Reload the page and try again.");
    });
    xhr.addEventListener("error", function () { fail("The upload did not reach the registry."); });
    xhr.send(new FormData(form));
  });
  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    form.querySelector("button[type=submit]").disabled = false;
  }
}());
