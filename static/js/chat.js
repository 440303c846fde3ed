/* Live chat: Socket.IO delivery, gap filling after a reconnect, and an outbox that keeps
   messages written offline until the server has them (once: each carries a client id).
   Without this file the chat page still works as plain forms. Written for old phones (ES5). */
(function () {
  "use strict";
  if (window.partaChat) window.partaChat.stop();
  var root = document.getElementById("chat");
  if (!root) return;

  var chatId = Number(root.getAttribute("data-chat"));
  var me = root.getAttribute("data-me");
  var csrf = root.getAttribute("data-csrf");
  var list = document.getElementById("messages");
  var outboxList = document.getElementById("outbox");
  var form = document.getElementById("message-form");
  var netState = document.getElementById("net-state");
  var KEY = "parta-outbox:" + me;
  var socket = null;
  var stopped = false;
  var readTimer = null;
  var sending = {};

  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }
  function text(id) { var el = document.getElementById(id); return el ? el.textContent : ""; }

  function newClientId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] + 256).toString(16).slice(1);
    return out;
  }

  function lastId() {
    var max = 0;
    each(list.querySelectorAll(".msg[data-id]"), function (el) {
      var id = Number(el.getAttribute("data-id"));
      if (id > max) max = id;
    });
    return max;
  }

  // Pushed HTML is the same for everyone: put in this person's CSRF token and mark their own.
  function adopt(el) {
    each(el.querySelectorAll('input[name="csrf_token"]'), function (input) {
      if (!input.value) input.value = csrf;
    });
    if (el.classList.contains("msg") && el.getAttribute("data-author") === me) el.classList.add("mine");
    if (window.htmx) window.htmx.process(el);
  }

  function place(el) {
    var existing = el.id && document.getElementById(el.id);
    if (existing) { existing.parentNode.replaceChild(el, existing); return; }
    if (!el.classList.contains("msg")) return;
    var empty = document.getElementById("no-messages");
    if (empty) empty.parentNode.removeChild(empty);
    var id = Number(el.getAttribute("data-id"));
    var after = null;
    each(list.querySelectorAll(".msg[data-id]"), function (other) {
      if (!after && Number(other.getAttribute("data-id")) > id) after = other;
    });
    list.insertBefore(el, after);
    removePending(el.getAttribute("data-client-id"));
  }

  function insertHtml(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    each(Array.prototype.slice.call(holder.children), function (el) {
      adopt(el);
      place(el);
    });
  }

  function markRead() {
    if (!socket || !socket.connected || document.visibilityState === "hidden") return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      socket.emit("chat:read", { chat_id: chatId, up_to: lastId() });
    }, 300);
  }

  // The outbox --------------------------------------------------------------------------
  function loadOutbox() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox(items) {
    try { localStorage.setItem(KEY, JSON.stringify(items)); } catch (e) { /* private mode: memory only */ }
  }
  function dropFromOutbox(clientId) {
    saveOutbox(loadOutbox().filter(function (item) { return item.client_id !== clientId; }));
    removePending(clientId);
  }
  function removePending(clientId) {
    if (!clientId) return;
    each(outboxList.querySelectorAll("li"), function (li) {
      if (li.getAttribute("data-client-id") === clientId) li.parentNode.removeChild(li);
    });
  }
  function showPending(item) {
    if (item.chat_id !== chatId || document.getElementById("m-pending-" + item.client_id)) return;
    var li = document.getElementById("pending-template").content.firstElementChild.cloneNode(true);
    li.id = "m-pending-" + item.client_id;
    li.setAttribute("data-client-id", item.client_id);
    li.querySelector(".msg-body").textContent = item.body;
    outboxList.appendChild(li);
  }

  function flush() {
    if (!socket || !socket.connected) return;
    loadOutbox().forEach(function (item) {
      if (sending[item.client_id]) return;
      sending[item.client_id] = true;
      socket.timeout(10000).emit("chat:send", item, function (err, answer) {
        delete sending[item.client_id];
        if (err) return; // no answer: it stays in the outbox; the next flush sends it again
        if (answer && answer.ok) {
          dropFromOutbox(item.client_id);
        } else if (answer && (answer.status === 400 || answer.status === 404)) {
          dropFromOutbox(item.client_id);
          showError(answer.error || "");
        }
      });
    });
  }

  function showError(message) {
    var el = document.getElementById("send-error");
    if (!el) return;
    el.textContent = message;
    el.hidden = !message;
  }

  var wasOffline = false;
  function setNetState(online) {
    if (!netState || (online && !wasOffline)) return;
    wasOffline = !online;
    netState.hidden = false;
    netState.className = "net-state " + (online ? "online" : "offline");
    netState.textContent = text(online ? "t-online" : "t-offline");
    if (online) setTimeout(function () { if (socket && socket.connected) netState.hidden = true; }, 3000);
  }

  // The form ----------------------------------------------------------------------------
  // Files (and announcements) go as the form's own multipart POST, by XMLHttpRequest so that
  // a progress bar moves and the upload can be cancelled; the message itself then arrives by
  // the socket like any other.
  var upload = null;
  function sendForm() {
    var progress = document.getElementById("upload-progress");
    var cancel = document.getElementById("upload-cancel");
    var button = document.getElementById("send-button");
    var xhr = new XMLHttpRequest();
    upload = xhr;
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("HX-Request", "true");
    xhr.setRequestHeader("HX-Target", "message-form");
    function done(message) {
      upload = null;
      progress.hidden = true;
      cancel.hidden = true;
      button.disabled = false;
      showError(message);
    }
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) progress.value = event.loaded / event.total;
    };
    xhr.onload = function () {
      if (xhr.status === 200) {
        form.reset();
        form.elements.client_id.value = newClientId();
        cancelReply();
        done("");
      } else if (xhr.status === 422) {
        var holder = document.createElement("div");
        holder.innerHTML = xhr.responseText;
        done(holder.textContent.replace(/^\s+|\s+$/g, ""));
      } else {
        done(text(xhr.status === 413 ? "t-too-large" : "t-upload-failed"));
      }
    };
    xhr.onerror = function () { done(text("t-upload-failed")); };
    xhr.onabort = function () { done(text("t-upload-cancelled")); };
    progress.value = 0;
    progress.hidden = false;
    cancel.hidden = false;
    button.disabled = true;
    showError("");
    xhr.send(new FormData(form));
  }
  function onCancel(event) {
    event.preventDefault();
    if (upload) upload.abort();
  }

  function onSubmit(event) {
    var files = form.querySelector('input[type="file"]');
    var announcement = form.querySelector('input[name="announcement"]');
    if ((files && files.files.length) || (announcement && announcement.checked)) {
      event.preventDefault();
      if (!upload) sendForm();
      return;
    }
    event.preventDefault();
    var body = form.elements.body.value.replace(/^\s+|\s+$/g, "");
    if (!body) return;
    var item = {
      chat_id: chatId,
      client_id: form.elements.client_id.value,
      body: body,
      reply_to: form.elements.reply_to.value || null
    };
    form.elements.client_id.value = newClientId();
    form.elements.body.value = "";
    cancelReply();
    showError("");
    var items = loadOutbox();
    items.push(item);
    saveOutbox(items);
    showPending(item);
    flush();
  }

  function onKey(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  }

  function startReply(id) {
    var target = document.getElementById("m" + id);
    if (!target || !form) return;
    form.elements.reply_to.value = id;
    var quote = document.getElementById("replying-to");
    var body = target.querySelector(".msg-body");
    quote.textContent = body ? body.textContent.slice(0, 60) : "";
    quote.setAttribute("href", "#m" + id);
    document.getElementById("replying").hidden = false;
    form.elements.body.focus();
  }
  function cancelReply() {
    if (!form) return;
    form.elements.reply_to.value = "";
    document.getElementById("replying").hidden = true;
  }
  function onClick(event) {
    var reply = event.target.closest && event.target.closest("[data-reply]");
    if (reply && form) { event.preventDefault(); startReply(reply.getAttribute("data-reply")); return; }
    if (event.target.id === "reply-cancel") { event.preventDefault(); cancelReply(); }
  }

  // The socket ----------------------------------------------------------------------------
  function connect() {
    socket = window.io({ reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      flush();
      socket.emit("chat:join", { chat_id: chatId, after: lastId() }, function (answer) {
        if (!answer || !answer.ok) return;
        if (answer.reload) { window.location.reload(); return; }
        if (answer.html) insertHtml(answer.html);
        markRead();
        flush();
      });
      setNetState(true);
    });
    socket.on("disconnect", function () { setNetState(false); });
    socket.on("chat:message", function (data) {
      if (data.chat_id !== chatId) return;
      dropFromOutbox(data.client_id);
      insertHtml(data.html);
      markRead();
    });
    // Someone calls this person to a video lesson: a bar with «Присоединиться».
    socket.on("lesson:invite", function (data) {
      var bar = document.getElementById("lesson-invite");
      if (!bar || !data.url) return;
      bar.querySelector("span").textContent = bar.getAttribute("data-text").replace("{name}", data.from || "");
      bar.querySelector("a").setAttribute("href", data.url);
      bar.hidden = false;
    });
    ["chat:update", "chat:poll", "chat:reads"].forEach(function (name) {
      socket.on(name, function (data) { if (data.chat_id === chatId) insertHtml(data.html); });
    });
  }

  // The browser knows before the socket does: stop sending into a dead link, and start
  // again (joining with the last id seen, so the gap is filled) when it comes back.
  function onOnline() { if (socket && !socket.connected) socket.connect(); }
  function onOffline() {
    if (socket && socket.connected) socket.disconnect();
    setNetState(false);
  }
  function onVisible() { if (document.visibilityState === "visible") markRead(); }

  // A link that comes back half-alive may swallow a send: whatever is still in the outbox
  // goes again every few seconds (the server keeps one copy of each client id).
  var retryTimer = setInterval(function () { if (loadOutbox().length) flush(); }, 4000);

  function start() {
    if (stopped) return;
    if (navigator.onLine === false) setNetState(false);
    if (!window.io) { setTimeout(start, 50); return; }
    loadOutbox().forEach(showPending);
    connect();
  }

  if (form) {
    // A page may come from the offline cache more than once: its id must not be reused.
    form.elements.client_id.value = newClientId();
    form.addEventListener("submit", onSubmit);
    form.elements.body.addEventListener("keydown", onKey);
    document.getElementById("upload-cancel").addEventListener("click", onCancel);
  }
  document.addEventListener("click", onClick);
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", onOffline);
  document.addEventListener("visibilitychange", onVisible);

  window.partaChat = {
    stop: function () {
      stopped = true;
      clearInterval(retryTimer);
      if (socket) socket.disconnect();
      document.removeEventListener("click", onClick);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      document.removeEventListener("visibilitychange", onVisible);
      window.partaChat = null;
    }
  };
  // Leaving the page through a boosted link: stop, so the next page starts clean.
  document.addEventListener("htmx:beforeSwap", function once(event) {
    if (event.detail.boosted || (event.detail.target && event.detail.target.tagName === "BODY")) {
      document.removeEventListener("htmx:beforeSwap", once);
      if (window.partaChat) window.partaChat.stop();
    }
  });
  start();
})();
