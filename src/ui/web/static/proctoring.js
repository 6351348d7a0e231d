// The proctoring tab (issue 7, R17): camera and microphone sent to the server over WebRTC and
// recorded there; a data channel carries a heartbeat and the page's signals. A lost connection
// comes back on its own (back-off); the server records the gap.
(function () {
  "use strict";
  var host = document.querySelector("[data-proctoring-session]");
  if (!host || !window.RTCPeerConnection || !navigator.mediaDevices) return;
  var sessionId = host.getAttribute("data-proctoring-session");
  var statusBox = document.getElementById("proctoring-status");
  var HEARTBEAT_MS = 2000;
  var MAX_BACKOFF_MS = 8000;
  var backoff = 500;
  var stream = null;
  var pc = null;
  var channel = null;
  var retrying = null;
  var stopped = false;

  function csrf() {
    var m = document.cookie.match(/(?:^|; )vigie_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // A lost connection's words wait a moment: the server hangs up as the exam is sent, and
  // the page reconnects only to learn that the session is over. « Connexion perdue,
  // reconnexion… » flashed for a second before « Surveillance terminée » (a reviewer's
  // finding), which alarms a candidate who just sent her exam. The state itself is set at once.
  var SAY_RECONNECTING_AFTER_MS = 3000;
  var saying = null;
  function show(state) {
    host.setAttribute("data-state", state);
    clearTimeout(saying);
    var words = host.getAttribute("data-label-" + state) || state;
    if (!statusBox) return;
    if (state === "reconnecting") {
      saying = setTimeout(function () {
        if (host.getAttribute("data-state") === "reconnecting") statusBox.textContent = words;
      }, SAY_RECONNECTING_AFTER_MS);
      return;
    }
    statusBox.textContent = words;
  }

  function send(message) {
    if (channel && channel.readyState === "open") channel.send(JSON.stringify(message));
  }

  function signal(kind) { send({ type: "signal", kind: kind }); }

  function gathered(peer) {
    if (peer.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var done = function () {
        if (peer.iceGatheringState === "complete") {
          peer.removeEventListener("icegatheringstatechange", done);
          resolve();
        }
      };
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000); // whatever was gathered by then
    });
  }

  function retry() {
    if (stopped || retrying) return;
    show("reconnecting");
    if (pc) { try { pc.close(); } catch (e) { /* already closed */ } }
    pc = null;
    channel = null;
    retrying = setTimeout(function () {
      retrying = null;
      connect();
    }, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  function connect() {
    var peer;
    return (stream ? Promise.resolve(stream) : navigator.mediaDevices.getUserMedia({
      video: { width: 320, height: 240, frameRate: 5 },
      audio: { channelCount: 1 }
    })).then(function (s) {
      stream = s;
      // The platform's ICE servers, with fresh TURN credentials for this connection.
      return fetch("/api/sessions/" + sessionId + "/media/ice", { credentials: "same-origin" });
    }).then(function (reply) {
      if (!reply.ok) throw new Error("no ICE servers: " + reply.status);
      return reply.json();
    }).then(function (config) {
      var s = stream;
      peer = new RTCPeerConnection({ iceServers: config.iceServers });
      pc = peer;
      s.getTracks().forEach(function (track) { peer.addTrack(track, s); });
      channel = peer.createDataChannel("vigie");
      channel.onopen = function () { backoff = 500; send({ type: "heartbeat" }); show("live"); };
      peer.onconnectionstatechange = function () {
        if (peer !== pc) return;
        var state = peer.connectionState;
        if (state === "failed" || state === "disconnected" || state === "closed") retry();
      };
      return peer.createOffer();
    }).then(function (offer) {
      return peer.setLocalDescription(offer);
    }).then(function () {
      return gathered(peer);
    }).then(function () {
      return fetch("/api/sessions/" + sessionId + "/media/offer", {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrftoken": csrf() },
        body: JSON.stringify({ sdp: peer.localDescription.sdp })
      });
    }).then(function (reply) {
      if (reply.status === 409 || reply.status === 404) { // closed session, or no recorder
        stopped = true;
        show("off");
        // Nothing more is recorded: the camera and microphone are let go (its light goes
        // off), and so is a shared screen.
        if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
        document.dispatchEvent(new Event("vigie:proctoring-ended"));
        return null;
      }
      if (!reply.ok) throw new Error("offer refused: " + reply.status);
      return reply.json();
    }).then(function (answer) {
      if (!answer || peer !== pc) return null;
      return peer.setRemoteDescription({ type: "answer", sdp: answer.sdp }).then(function () {
        // The server hangs up (the session closed, the node stopping): seen at once on the
        // DTLS transport, where the connection stays « connected » for seconds.
        var sender = peer.getSenders()[0];
        var transport = sender && sender.transport;
        if (!transport) return;
        transport.addEventListener("statechange", function () {
          if (peer === pc && (transport.state === "closed" || transport.state === "failed")) retry();
        });
      });
    }).catch(function () {
      if (!stream) { show("no-camera"); return; }
      retry();
    });
  }

  setInterval(function () { send({ type: "heartbeat" }); }, HEARTBEAT_MS);
  // Only real focus loss raises a flag (issue 12). The candidate moves between this tab and
  // the exam tab (R17: two tabs), which tells this one about its focus by postMessage; a flag
  // is sent only when neither Vigie tab has had the focus for more than FOCUS_GRACE_MS.
  // Leaving the page (a navigation, closing it) never signals: the heartbeat's silence is
  // what records a closed tab (R17).
  var FOCUS_GRACE_MS = 2000;
  var attention = { proctoring: document.hasFocus(), exam: false, other: false };
  var away = null;
  var leaving = false;
  function attend(tab, focused) {
    attention[tab] = focused;
    if (attention.proctoring || attention.exam || attention.other) {
      if (away) { clearTimeout(away); away = null; }
      return;
    }
    if (away || leaving) return;
    away = setTimeout(function () {
      away = null;
      if (!leaving && !attention.proctoring && !attention.exam && !attention.other) signal("focus_lost");
    }, FOCUS_GRACE_MS);
  }
  window.addEventListener("focus", function () { attend("proctoring", true); tell({ focused: true }); });
  window.addEventListener("blur", function () { attend("proctoring", false); tell({ focused: false }); });
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (data && data.vigie === "attention") attend("exam", data.focused === true);
    // « finished » (the exam ended in the exam tab) is the portal's own (journey.js): it was
    // heard here only, so not on a server that does not record in the page.
  });
  // « Commencer » opened the exam tab: the candidate is looking at it while it loads.
  document.addEventListener("vigie:exam-tab-opened", function () { attend("exam", true); });
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("beforeunload", function () { leaving = true; });
  // Leaving full screen is part of deferring (R14); it is a hint only during the exam.
  document.addEventListener("fullscreenchange", function () {
    var exam = document.querySelector("#portal[data-status='in_progress']");
    if (!document.fullscreenElement && exam) signal("fullscreen_left");
  });
  ["copy", "paste", "cut"].forEach(function (name) {
    document.addEventListener(name, function () { signal("copy_paste"); });
  });
  function screens() {
    if (window.screen && window.screen.isExtended) signal("second_screen");
  }
  if (window.screen && window.screen.addEventListener) window.screen.addEventListener("change", screens);
  // The same session open in two tabs (the checks opened twice, a link opened in a new
  // tab): each tab's offer replaced the other's connection on the server, which hung up, and
  // each reconnected at once: a new recording segment every 0.6 s for as long as both stayed
  // open (a candidate's tour). The newest tab films; an older one lets the camera go, hides
  // its step (a click there was refused as out of order) and says so, with a button to film
  // here instead. The older tab's focus counts as a Vigie tab's: going to it to close it is
  // no focus lost.
  var TAB = String(Math.random()).slice(2) + String(Date.now());
  var tabs = window.BroadcastChannel ? new BroadcastChannel("vigie-proctoring") : null;
  var elsewhere = false;
  function tell(message) {
    if (!tabs) return;
    message.session = sessionId; message.tab = TAB; message.here = !elsewhere;
    tabs.postMessage(message);
  }
  function goneElsewhere() {
    elsewhere = true;
    stopped = true;
    if (retrying) { clearTimeout(retrying); retrying = null; }
    if (pc) { try { pc.close(); } catch (e) { /* already closed */ } }
    pc = null;
    channel = null;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    document.dispatchEvent(new Event("vigie:proctoring-ended"));  // the checks' camera too
    // Closing this tab now interrupts nothing: the browser does not ask (journey.js).
    window.vigieLeaving = true;
    show("elsewhere");
    var journey = document.getElementById("journey");
    if (journey) journey.hidden = true;
    var notice = document.getElementById("proctoring-elsewhere");
    if (notice) notice.hidden = false;
  }
  if (tabs) {
    tabs.onmessage = function (event) {
      var data = event.data || {};
      if (data.session !== sessionId || data.tab === TAB) return;
      if (data.here && data.focused === undefined) { if (!elsewhere) goneElsewhere(); return; }
      if (!data.here && typeof data.focused === "boolean") attend("other", data.focused);
    };
  }
  var here = document.getElementById("proctoring-here");
  if (here) here.addEventListener("click", function () { window.location.reload(); });
  tell({});
  show("connecting");
  connect().then(function () { setTimeout(screens, 1000); });

  // Issue 16: a certification that records the screen too. Sharing needs the candidate's
  // click (getDisplayMedia); the screen goes over a connection of its own, recorded beside
  // the camera's in segments of its own. The shared track ending (the browser's « Stop
  // sharing », the shared window closed) raises the flag ScreenMustStayShared.
  var share = document.getElementById("screen-share");
  if (!share || !navigator.mediaDevices.getDisplayMedia) return;
  var shareStatus = document.getElementById("screen-share-status");
  var shareButton = document.getElementById("screen-share-start");
  var preview = document.getElementById("screen-preview");
  var screenStream = null;
  var screenPc = null;
  var pendingSignals = [];

  function showShare(state) {
    share.setAttribute("data-state", state);
    if (shareStatus) shareStatus.textContent = share.getAttribute("data-label-" + state) || state;
    if (shareButton) shareButton.hidden = state === "live";
  }

  function flagged(kind) { // said as soon as the camera's channel can carry it
    if (channel && channel.readyState === "open") signal(kind); else pendingSignals.push(kind);
  }
  setInterval(function () {
    while (pendingSignals.length && channel && channel.readyState === "open") signal(pendingSignals.shift());
  }, 1000);

  function offerScreen(s) {
    var peer;
    return fetch("/api/sessions/" + sessionId + "/media/ice", { credentials: "same-origin" }).then(function (reply) {
      if (!reply.ok) throw new Error("no ICE servers: " + reply.status);
      return reply.json();
    }).then(function (config) {
      if (s !== screenStream) return null; // stopped meanwhile
      peer = new RTCPeerConnection({ iceServers: config.iceServers });
      screenPc = peer;
      s.getVideoTracks().forEach(function (track) { peer.addTrack(track, s); });
      peer.onconnectionstatechange = function () {
        var state = peer.connectionState;
        if (peer !== screenPc || (state !== "failed" && state !== "disconnected")) return;
        try { peer.close(); } catch (e) { /* already closed */ }
        screenPc = null;
        setTimeout(function () { if (s === screenStream) offerScreen(s); }, 2000);
      };
      return peer.createOffer().then(function (offer) {
        return peer.setLocalDescription(offer);
      }).then(function () {
        return gathered(peer);
      }).then(function () {
        return fetch("/api/sessions/" + sessionId + "/media/offer", {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "application/json", "x-csrftoken": csrf() },
          body: JSON.stringify({ sdp: peer.localDescription.sdp, source: "screen" })
        });
      }).then(function (reply) {
        if (!reply.ok) throw new Error("screen offer refused: " + reply.status);
        return reply.json();
      }).then(function (answer) {
        if (peer === screenPc) return peer.setRemoteDescription({ type: "answer", sdp: answer.sdp });
        return null;
      });
    }).catch(function () {
      setTimeout(function () { if (s === screenStream && !screenPc) offerScreen(s); }, 4000);
    });
  }

  function shareEnded(s) {
    if (s !== screenStream) return;
    screenStream = null;
    if (screenPc) { try { screenPc.close(); } catch (e) { /* already closed */ } }
    screenPc = null;
    if (preview) preview.srcObject = null;
    flagged("screen_share_stopped");
    showShare("off");
  }

  function startShare() {
    navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: 5, width: { max: 1280 }, height: { max: 720 } },
      audio: false
    }).then(function (s) {
      screenStream = s;
      s.getVideoTracks().forEach(function (track) {
        track.addEventListener("ended", function () { shareEnded(s); });
      });
      if (preview) preview.srcObject = s;
      showShare("live");
      return offerScreen(s);
    }).catch(function () { showShare("refused"); });
  }

  if (shareButton) shareButton.addEventListener("click", startShare);
  // The session closed: the screen is let go too, without a flag (not a stopped share).
  document.addEventListener("vigie:proctoring-ended", function () {
    var s = screenStream;
    screenStream = null;
    if (screenPc) { try { screenPc.close(); } catch (e) { /* already closed */ } }
    screenPc = null;
    if (s) s.getTracks().forEach(function (track) { track.stop(); });
    if (preview) preview.srcObject = null;
    share.hidden = true;
  });
})();
