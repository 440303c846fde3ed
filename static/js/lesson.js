/* The call screen of a video lesson. Signalling goes over Socket.IO to the web app (the same
   origin), which passes it to the media server; the media server forwards what people send
   without re-encoding it, so each browser sends little and chooses it at the source:
   320×180 at 15 fps and 150 kbit/s for the camera, mono Opus at 24 kbit/s with FEC.
   Students come in muted with their cameras off. Written ES5, for old phones. */
(function () {
  "use strict";
  var root = document.getElementById("call");
  if (!root || root.getAttribute("data-bound") || !window.io) return;
  root.setAttribute("data-bound", "1");

  var lessonId = Number(root.getAttribute("data-lesson"));
  var stateLine = document.getElementById("call-state");
  var stage = document.getElementById("call-stage");
  var tiles = stage.querySelectorAll(".call-tile");
  var audios = root.querySelectorAll("audio");
  var self = document.getElementById("call-self");
  var micButton = document.getElementById("call-mic");
  var cameraButton = document.getElementById("call-camera");
  var handButton = document.getElementById("call-hand");
  var screenButton = document.getElementById("call-screen");
  var modeSelect = document.getElementById("call-mode");
  var weak = document.getElementById("call-weak");
  var VIDEO = { maxBitrate: 150000, maxFramerate: 15 };
  var AUDIO = { maxBitrate: 24000 };
  var PTIME = 40;
  var SCREEN = { maxBitrate: 200000, maxFramerate: 5 };

  var state = { audio: false, video: false, hand: false, mode: "speaker", iceServers: [], joined: false };
  var local = null, screen = null, pub = null, sub = null, slots = {}, monitor = null, gone = false;
  var socket = window.io({ reconnectionDelayMax: 5000 });

  function t(name) { return root.getAttribute("data-t-" + name) || ""; }
  function say(text) { stateLine.textContent = text; }

  function ask(event, data) {
    data = data || {};
    data.lesson_id = lessonId;
    return new Promise(function (resolve, reject) {
      socket.emit(event, data, function (answer) {
        if (answer && answer.ok) resolve(answer); else reject(answer || {});
      });
    });
  }

  function refused(answer) {
    if (answer && answer.status === 410) return finish(t("ended"));
    say((answer && answer.error) || t("reconnecting"));
  }

  // Browsers do not trickle to the media server: the description goes with every candidate.
  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") return resolve();
      var timer = setTimeout(resolve, 4000);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  // The answer tells this browser's encoder what to send: mono Opus, FEC, 24 kbit/s and
  // 40 ms a packet (Chromium honours a=ptime): at 20 ms the headers cost half as much as the voice.
  function tuneOpus(sdp) {
    var found = /a=rtpmap:(\d+) opus\/48000\/2/i.exec(sdp);
    if (!found) return sdp;
    var pt = found[1], settings = "minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0;maxaveragebitrate=24000";
    var fmtp = new RegExp("a=fmtp:" + pt + " [^\\r\\n]*");
    sdp = sdp.replace(/a=ptime:\d+\r\n/g, "");
    if (fmtp.test(sdp)) sdp = sdp.replace(fmtp, "a=fmtp:" + pt + " " + settings);
    else sdp = sdp.replace(found[0], found[0] + "\r\na=fmtp:" + pt + " " + settings);
    return sdp.replace(found[0], found[0] + "\r\na=ptime:" + PTIME);
  }

  function getMedia() {
    if (!state.mayPublish || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.resolve(null);
    }
    var audio = { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    var video = { width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15, max: 15 } };
    return navigator.mediaDevices.getUserMedia({ audio: audio, video: video })
      .catch(function () { return navigator.mediaDevices.getUserMedia({ audio: audio }); })
      .catch(function () { say(t("no-devices")); return null; });
  }

  function applyEnabled() {
    if (!local) return;
    local.getAudioTracks().forEach(function (track) { track.enabled = state.audio; });
    local.getVideoTracks().forEach(function (track) { track.enabled = state.video; });
    self.hidden = !state.video;
    if (micButton) {
      micButton.setAttribute("aria-pressed", String(state.audio));
      micButton.disabled = !local.getAudioTracks().length;
    }
    if (cameraButton) {
      cameraButton.setAttribute("aria-pressed", String(state.video));
      cameraButton.disabled = !local.getVideoTracks().length;
    }
  }

  function publish() {
    if (!local && !screen) return Promise.resolve();
    if (pub) pub.close();
    var pc = pub = new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle" });
    var screenTransceiver = null;
    if (local) {
      local.getTracks().forEach(function (track) {
        pc.addTransceiver(track, {
          direction: "sendonly", streams: [local], sendEncodings: [track.kind === "video" ? VIDEO : AUDIO]
        });
      });
    }
    if (screen) {
      screenTransceiver = pc.addTransceiver(screen.getVideoTracks()[0], {
        direction: "sendonly", streams: [screen], sendEncodings: [SCREEN]
      });
    }
    return pc.createOffer()
      .then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { return gathered(pc); })
      .then(function () {
        return ask("lesson:publish", {
          sdp: pc.localDescription.sdp, screen_mids: screenTransceiver ? [screenTransceiver.mid] : []
        });
      })
      .then(function (answer) { return pc.setRemoteDescription({ type: "answer", sdp: tuneOpus(answer.sdp) }); })
      .then(applyEnabled);
  }

  function label(slot) {
    return slot ? (slot.name || "") + (slot.kind === "screen" ? " · " + screenButton.textContent : "") : "";
  }

  function showSlots(given) {
    slots = given || slots;
    var shown = 0;
    Array.prototype.forEach.call(tiles, function (tile) {
      var slot = slots[tile.getAttribute("data-mid")];
      var live = !!slot && state.mode !== "audio";
      tile.hidden = !live;
      tile.querySelector("figcaption").textContent = label(slot);
      if (live) shown += 1;
    });
    document.getElementById("call-empty").hidden = shown > 0;
    stage.setAttribute("data-mode", state.mode);
  }

  function attach(event) {
    var mid = event.transceiver.mid, stream = new MediaStream([event.track]);
    var list = event.track.kind === "audio" ? audios : tiles;
    for (var i = 0; i < list.length; i++) {
      var element = list[i], taken = element.getAttribute("data-mid");
      if (taken && taken !== mid) continue;
      element.setAttribute("data-mid", mid);
      var media = element.tagName === "FIGURE" ? element.querySelector("video") : element;
      media.srcObject = stream;
      var played = media.play();
      if (played && played.catch) played.catch(function () { /* autoplay waits for a tap */ });
      break;
    }
    showSlots();
  }

  function subscribe() {
    return ask("lesson:subscribe", { mode: state.mode }).then(function (offer) {
      if (sub) sub.close();
      Array.prototype.forEach.call(tiles, function (tile) { tile.removeAttribute("data-mid"); });
      Array.prototype.forEach.call(audios, function (audio) { audio.removeAttribute("data-mid"); });
      var pc = sub = new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle" });
      pc.ontrack = attach;
      pc.onconnectionstatechange = function () {
        if (pc !== sub) return;
        if (pc.connectionState === "connected") say(t("connected"));
        else if (pc.connectionState === "failed") { say(t("reconnecting")); rejoin(); }
      };
      slots = offer.slots || {};
      return pc.setRemoteDescription({ type: "offer", sdp: offer.sdp })
        .then(function () { return pc.createAnswer(); })
        .then(function (answer) { return pc.setLocalDescription(answer); })
        .then(function () { return gathered(pc); })
        .then(function () { return ask("lesson:answer", { sdp: pc.localDescription.sdp }); })
        .then(function () { showSlots(); watchLink(); });
    });
  }

  // A poor link: many lost packets or little room downstream. Offer sound only, once.
  function watchLink() {
    var before = null;
    clearInterval(monitor);
    monitor = setInterval(function () {
      if (!sub || state.mode === "audio") return;
      sub.getStats().then(function (report) {
        var lost = 0, received = 0, room = null;
        report.forEach(function (s) {
          if (s.type === "inbound-rtp" && s.kind === "video") { lost += s.packetsLost || 0; received += s.packetsReceived || 0; }
          if (s.type === "candidate-pair" && s.nominated && s.availableIncomingBitrate) room = s.availableIncomingBitrate;
        });
        if (before) {
          var got = received - before.received, missed = lost - before.lost;
          var lossy = got + missed > 20 && missed / (got + missed) > 0.1;
          if ((lossy || (room !== null && room < 120000)) && weak.hidden) {
            weak.querySelector("span").textContent = t("weak");
            weak.hidden = false;
          }
        }
        before = { lost: lost, received: received };
      });
    }, 5000);
  }

  function join() {
    say(t("connecting"));
    return ask("lesson:join").then(function (answer) {
      state.joined = true;
      if (window.htmx) window.htmx.trigger(document.body, "lesson-changed");  // now with me in it
      state.iceServers = answer.ice_servers || [];
      state.mayPublish = answer.may_publish;
      state.audio = answer.audio;
      state.video = answer.video;
      if (screenButton) screenButton.hidden = !(answer.may_publish && navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
      return (local ? Promise.resolve(local) : getMedia()).then(function (stream) {
        local = stream;
        if (local) self.srcObject = new MediaStream(local.getVideoTracks());
        applyEnabled();
        return publish();
      }).then(subscribe);
    }).catch(refused);
  }

  function rejoin() {
    if (gone) return;
    if (pub) { pub.close(); pub = null; }
    if (sub) { sub.close(); sub = null; }
    join();
  }

  function finish(message) {
    gone = true;
    say(message);
    clearInterval(monitor);
    if (pub) pub.close();
    if (sub) sub.close();
    [local, screen].forEach(function (stream) {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    });
    setTimeout(function () { window.location.assign(root.getAttribute("data-after")); }, 2500);
  }

  function setMedia(audio, video) {
    ask("lesson:media", { audio: audio, video: video }).then(function (answer) {
      state.audio = answer.audio;
      state.video = answer.video;
      applyEnabled();
    }).catch(refused);
  }

  if (micButton) micButton.addEventListener("click", function () { setMedia(!state.audio, state.video); });
  if (cameraButton) cameraButton.addEventListener("click", function () { setMedia(state.audio, !state.video); });
  if (handButton) {
    handButton.addEventListener("click", function () {
      ask("lesson:hand", { raised: !state.hand }).then(function (answer) {
        state.hand = answer.raised;
        handButton.setAttribute("aria-pressed", String(state.hand));
      }).catch(refused);
    });
  }
  if (screenButton) {
    screenButton.addEventListener("click", function () {
      if (screen) {
        screen.getTracks().forEach(function (track) { track.stop(); });
        screen = null;
        screenButton.setAttribute("aria-pressed", "false");
        publish().catch(refused);
        return;
      }
      navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { max: 5 } }, audio: false }).then(function (stream) {
        screen = stream;
        screenButton.setAttribute("aria-pressed", "true");
        stream.getVideoTracks()[0].addEventListener("ended", function () {
          if (screen === stream) screenButton.click();
        });
        return publish();
      }).catch(function () { say(t("screen-failed")); });
    });
  }

  function setMode(mode) {
    state.mode = mode;
    modeSelect.value = mode;
    weak.hidden = true;
    ask("lesson:mode", { mode: mode }).then(function (answer) { showSlots(answer.slots); }).catch(refused);
  }
  modeSelect.addEventListener("change", function () { setMode(modeSelect.value); });
  document.getElementById("call-audio-only").addEventListener("click", function () { setMode("audio"); });

  document.getElementById("call-full").addEventListener("click", function () {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (root.requestFullscreen) root.requestFullscreen();
  });

  // The lesson's chat: its own page in a frame, fetched the first time it is opened.
  var chatButton = document.getElementById("call-chat");
  var chatBox = document.getElementById("call-chat-box");
  if (chatButton && chatBox) {
    chatButton.addEventListener("click", function () {
      var open = chatBox.hidden;
      var frame = chatBox.querySelector("iframe");
      if (open && !frame.getAttribute("src")) frame.setAttribute("src", frame.getAttribute("data-src"));
      chatBox.hidden = !open;
      document.body.classList.toggle("call-chat-open", open);
      chatButton.setAttribute("aria-pressed", String(open));
    });
  }

  document.getElementById("call-leave").addEventListener("submit", function (event) {
    if (!state.joined) return;
    event.preventDefault();
    var form = event.target;
    ask("lesson:leave").then(function () { finish(""); }, function () { form.submit(); });
  });

  socket.on("lesson:changed", function (data) {
    if (data.lesson_id !== lessonId) return;
    if (window.htmx) window.htmx.trigger(document.body, "lesson-changed");
    if (sub) ask("lesson:slots").then(function (answer) { showSlots(answer.slots); }, function () {});
  });
  socket.on("lesson:muted", function (data) {
    if (data.lesson_id !== lessonId) return;
    state.audio = !!data.audio && state.audio;
    if (data.video === false) state.video = false;
    applyEnabled();
    say(t("muted"));
  });
  socket.on("lesson:removed", function (data) { if (data.lesson_id === lessonId) finish(t("removed")); });
  socket.on("lesson:ended", function (data) { if (data.lesson_id === lessonId) finish(t("ended")); });
  socket.on("connect", function () { if (!gone) rejoin(); });
  socket.on("disconnect", function () { if (!gone) say(t("reconnecting")); });
})();
