// The article editor (templates/articles/editor.html): Quill writes into the form's
// <textarea name="body">, which stays the form field, so the server sees one body either way.
// Illustrations are uploaded at once and go into the text as Parta URLs; the server keeps
// no other pictures (blueprints/articles/sanitize.py).
(function () {
  "use strict";
  var GUIDE_KEY = "parta.articles.guideDismissed";

  function setUpGuide() {
    var guide = document.getElementById("article-guide");
    if (!guide) return;
    try {
      if (localStorage.getItem(GUIDE_KEY)) guide.hidden = true;
    } catch (e) { /* storage may be off: the guide simply stays */ }
    guide.querySelector("[data-dismiss-guide]").addEventListener("click", function () {
      guide.hidden = true;
      try { localStorage.setItem(GUIDE_KEY, "1"); } catch (e) { /* nothing to remember with */ }
    });
  }

  // Quill draws a <select> as spans and leaves the select's name on the outer one, which is no
  // control: the name goes to the span that acts as the button, and each item is named by its text.
  function nameThePickers(toolbar) {
    Array.prototype.forEach.call(toolbar.querySelectorAll(".ql-picker[aria-label]"), function (picker) {
      picker.querySelector(".ql-picker-label").setAttribute("aria-label", picker.getAttribute("aria-label"));
      picker.removeAttribute("aria-label");
      Array.prototype.forEach.call(picker.querySelectorAll(".ql-picker-item[data-label]"), function (item) {
        item.setAttribute("aria-label", item.getAttribute("data-label"));
      });
    });
  }

  function setUpEditor() {
    var form = document.querySelector(".article-form");
    if (!form || typeof Quill === "undefined") return;
    var textarea = form.querySelector("#article-body");
    var holder = form.querySelector("#article-editor");
    var toolbar = form.querySelector("#article-toolbar");
    var problem = form.querySelector("#article-editor-error");
    toolbar.hidden = false;
    holder.hidden = false;
    var quill = new Quill(holder, {
      theme: "snow",
      modules: { toolbar: { container: toolbar, handlers: { image: pickPicture } } },
    });
    nameThePickers(toolbar);
    quill.setContents(quill.clipboard.convert({ html: textarea.value }), "silent");
    textarea.hidden = true;
    quill.root.setAttribute("aria-labelledby", "article-body-label");
    quill.root.setAttribute("aria-multiline", "true");
    quill.root.setAttribute("role", "textbox");

    form.addEventListener("submit", function () {
      textarea.value = quill.getLength() > 1 ? quill.getSemanticHTML() : "";
    });

    function say(text) {
      problem.textContent = text;
      problem.hidden = !text;
    }

    function pickPicture() {
      var input = document.createElement("input");
      input.type = "file";
      input.accept = "image/jpeg,image/png,image/gif,image/webp";
      input.addEventListener("change", function () {
        if (input.files.length) upload(input.files[0]);
      });
      input.click();
    }

    function upload(file) {
      var range = quill.getSelection(true);
      var data = new FormData();
      data.append("picture", file);
      say("");
      fetch(form.dataset.uploadUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.querySelector("[name=csrf_token]").value },
      })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (!response.ok) throw new Error(answer.error || form.dataset.uploadFailed);
            quill.insertEmbed(range.index, "image", answer.url, "user");
            quill.setSelection(range.index + 1, 0, "silent");
          });
        })
        .catch(function (error) {
          say(error instanceof TypeError || error instanceof SyntaxError ? form.dataset.uploadFailed : error.message);
        });
    }
  }

  setUpGuide();
  setUpEditor();
})();
