// The code page: count down to the moment a new code may be requested.
(function () {
  var form = document.querySelector(".resend[data-wait]");
  if (!form) return;
  var left = parseInt(form.dataset.wait, 10) || 0;
  var button = form.querySelector("button");
  var time = form.querySelector("time");
  function tick() {
    if (left <= 0) { button.disabled = false; if (time) time.parentNode.hidden = true; return; }
    button.disabled = true;
    if (time) time.textContent = String(Math.floor(left / 60)).padStart(2, "0") + ":" + String(left % 60).padStart(2, "0");
    left -= 1;
    setTimeout(tick, 1000);
  }
  tick();
})();
