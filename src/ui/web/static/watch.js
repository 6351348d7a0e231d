// Live supervision (R2): a receive-only WebRTC connection to the server, which relays the
// candidate's tracks without touching the recording. The platform's ICE servers (STUN, TURN
// with short-lived credentials) are asked for first; the offer goes to the node holding the
// candidate's connection (`?node=`, which the proxy routes; another node answers 307 there).
//
// « Live » is said once frames decode, not when the connection opens. The candidate may close
// the tab or lose the connection: the server then hangs the view up (or its frames stop),
// the page says the camera is not connected and offers again every few seconds, so the
// picture comes back by itself when the candidate does. A closed session ends the view.
(function () {
  "use strict";
  var video = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!video || !window.RTCPeerConnection) return;
  var RETRY_MS = 5000;  // between offers while the candidate's camera is not connected
  var SOON_MS = 1000;   // the first offer after a live picture ended
  var POLL_MS = 1000;   // how often the decoded frames are counted (5 a second when live)
  var STALL_MS = 3000;  // no new frame for this long: the picture is not coming any more
  var base = "/api/sessions/" + video.getAttribute("data-session") + "/media/watch";
  var node = video.getAttribute("data-node");
  var pc = null;
  var poll = null;
  var retry = null;

  var hint = document.getElementById("live-hint");
  var logIn = document.getElementById("live-log-in");
  function show(state) {
    if (status.getAttribute("data-state") === state) return;  // not announced again
    status.setAttribute("data-state", state);
    video.setAttribute("data-state", state);
    status.textContent = status.getAttribute("data-label-" + state) || state;
    if (hint) hint.hidden = state !== "live";
    if (logIn) logIn.hidden = state !== "signed-out";
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|; )vigie_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function hangUp() {
    if (poll) { clearInterval(poll); poll = null; }
    if (pc) {
      var old = pc;
      pc = null;
      old.ontrack = null;
      old.onconnectionstatechange = null;
      old.close();
    }
    video.srcObject = null;  // no frozen last picture under a « live » label
  }
  function stop(state) { hangUp(); show(state); }
  function signedOut() {
    // Logged out (here, in another tab, on another node): asked again every few seconds,
    // so the picture comes back by itself once the agent logged in again in another tab.
    stop("signed-out");
    clearTimeout(retry);
    retry = setTimeout(connect, RETRY_MS);
  }
  function again(state) {
    // Just after a live picture ends, asked again at once: the server then says whether the
    // session closed, or the candidate's page is already back. Till it answers the page
    // says it is connecting: « not connected » came first for a second before « closed ».
    var soon = status.getAttribute("data-state") === "live";
    stop(state || (soon ? "connecting" : "waiting"));
    clearTimeout(retry);
    retry = setTimeout(connect, soon ? SOON_MS : RETRY_MS);
  }
  function answered(reply) {  // why there is nothing to show, from the server's own answer
    return reply.json().then(function (body) { return body && body.state; }, function () { return null; });
  }
  function countFrames(own) {
    var last = -1;
    var since = Date.now();
    poll = setInterval(function () {
      own.getStats().then(function (report) {
        if (own !== pc) return;
        var frames = 0;
        report.forEach(function (s) {
          if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0;
        });
        if (frames !== last) {
          last = frames;
          since = Date.now();
          // Frames decode: show the video (hidden while waiting, where Chromium would not
          // start playing it, so « playing » alone would never come).
          if (frames > 0 && status.getAttribute("data-state") !== "live") show("live");
          return;
        }
        if (Date.now() - since >= STALL_MS) again();
      });
    }, POLL_MS);
  }
  function connect() {
    retry = null;
    var own = null;
    var stream = new MediaStream();
    video.srcObject = stream;
    fetch(base + "/ice", { credentials: "same-origin" }).then(function (reply) {
      if (!reply.ok) {
        var refused = new Error("no ICE servers: " + reply.status);
        refused.status = reply.status;
        throw refused;
      }
      return reply.json();
    }).then(function (config) {
      own = pc = new RTCPeerConnection({ iceServers: config.iceServers });
      own.addTransceiver("video", { direction: "recvonly" });
      own.addTransceiver("audio", { direction: "recvonly" });
      own.ontrack = function (e) { stream.addTrack(e.track); };
      own.onconnectionstatechange = function () {
        var state = own.connectionState;
        if (own === pc && (state === "failed" || state === "closed")) again();
      };
      return own.createOffer();
    }).then(function (offer) {
      return own.setLocalDescription(offer);
    }).then(function () {
      return new Promise(function (resolve) {
        if (own.iceGatheringState === "complete") return resolve();
        own.addEventListener("icegatheringstatechange", function () {
          if (own.iceGatheringState === "complete") resolve();
        });
        setTimeout(resolve, 3000);
      });
    }).then(function () {
      return fetch(base + (node ? "?node=" + encodeURIComponent(node) : ""), {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrftoken": csrf() },
        body: JSON.stringify({ sdp: own.localDescription.sdp })
      });
    }).then(function (reply) {
      if (own !== pc) return null;
      if (reply.status === 409 || reply.status >= 500) {
        // Nothing live: the candidate's camera is not connected, or the node that held it
        // is down (wait); the session is closed (stop); no answer of ours: the platform
        // itself does not answer (wait).
        return answered(reply).then(function (state) {
          if (state === "ended") stop("ended"); else again(state ? "waiting" : "unreachable");
          return null;
        });
      }
      if (reply.status === 401 || reply.status === 403) { signedOut(); return null; }
      if (!reply.ok) { stop("offline"); return null; }
      return reply.json();
    }).then(function (answer) {
      if (!answer || own !== pc) return null;
      countFrames(own);
      return own.setRemoteDescription({ type: "answer", sdp: answer.sdp }).then(function () {
        // The server hanging up shows first on the DTLS transport (Chromium keeps the
        // connection « connected » for seconds after): the view ends at once. The
        // transport exists once the answer is set.
        var receiver = own.getReceivers()[0];
        var transport = receiver && receiver.transport;
        if (!transport) return;
        transport.addEventListener("statechange", function () {
          if (own === pc && (transport.state === "closed" || transport.state === "failed")) again();
        });
      });
    }).catch(function (error) {
      var code = error && error.status;
      if (code === 401 || code === 403) signedOut();
      else if (code && code < 500) stop("offline");
      else if (own === pc || own === null) again("unreachable");  // the network, a restart
    });
  }

  // Watching is the agent's activity: while she is shown live, the agent's session is kept
  // alive as a page load would keep it (a staff session ends after its idle time without a
  // request, and the node hangs up the views of an ended session): the offer's own first
  // request, twice within the idle time (the server says how often: media.keep_alive_ms).
  var KEEP_MS = Number(video.getAttribute("data-keep-alive-ms")) || 5 * 60 * 1000;
  setInterval(function () {
    if (status.getAttribute("data-state") !== "live") return;
    fetch(base + "/ice", { credentials: "same-origin" }).then(function (reply) {
      if (reply.status === 401 || reply.status === 403) signedOut();
    }, function () {});  // the network: the view's own connection says so
  }, KEEP_MS);

  video.addEventListener("playing", function () { show("live"); });
  connect();
})();
