/* Uploads with a progress bar and a «Cancel» button (documents, the e-diary roster). The form works without this
   file (a plain multipart POST); with it, the files go by XMLHttpRequest, whose upload
   progress events move the bar. Limits are checked here first only to spare a long upload
   that the server would refuse; the server checks everything again. Written ES5, for old phones. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || form.getAttribute("data-bound")) return;
  form.setAttribute("data-bound", "1");

  var input = form.querySelector("input[type=file]");
  var error = document.getElementById("upload-error");
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var status = document.getElementById("upload-status");
  var send = document.getElementById("upload-send");
  var cancel = document.getElementById("upload-cancel");
  var xhr = null;

  function data(name) { return form.getAttribute("data-" + name); }

  function say(message) {
    error.textContent = message;
    form.querySelector(".field").classList.toggle("invalid", !!message);
  }

  function refusal(files) {
    var maxFile = Number(data("max-file")), total = 0;
    if (files.length > Number(data("max-files"))) return data("too-many");
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > maxFile) return data("too-large").replace("{name}", files[i].name);
      total += files[i].size;
    }
    if (total > Number(data("max-upload"))) return data("too-much");
    if (data("free") !== null && total > Number(data("free"))) return data("no-room");
    return "";
  }

  function busy(on) {
    send.disabled = on;
    input.disabled = on;
    cancel.hidden = !on;
    box.hidden = false;
  }

  function serverError(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var found = page.getElementById("upload-error");
    if (!found || !found.textContent.trim()) found = page.querySelector("main [role=alert]");
    return found && found.textContent.trim() ? found.textContent.trim() : data("failed");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (xhr) return;
    var problem = refusal(input.files);
    say(problem);
    if (problem) return;
    var body = new FormData(form);
    xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Upload", "progress");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.floor((100 * e.loaded) / e.total);
      bar.value = percent;
      status.textContent = data("progress").replace("{percent}", percent);
    });
    // Every byte is sent: the server keeps the files now, so «Cancel» would promise too much.
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      cancel.hidden = true;
      status.textContent = data("saving");
    });
    xhr.addEventListener("load", function () {
      var done = xhr;
      xhr = null;
      if (done.status === 200) {
        try {
          window.location.assign(JSON.parse(done.responseText).next);
          return;
        } catch (ignored) { /* not our answer: treated as a failure below */ }
      }
      busy(false);
      box.hidden = true;
      say(done.status === 200 ? data("failed") : serverError(done.responseText));
    });
    xhr.addEventListener("error", function () {
      xhr = null;
      busy(false);
      status.textContent = "";
      say(data("failed"));
    });
    xhr.addEventListener("abort", function () {
      xhr = null;
      busy(false);
      bar.value = 0;
      status.textContent = data("cancelled");
    });
    bar.value = 0;
    busy(true);
    // Disabled inputs are left out of FormData, so the form was read before disabling it.
    xhr.send(body);
  });

  cancel.addEventListener("click", function () {
    if (xhr) xhr.abort();
  });
})();
