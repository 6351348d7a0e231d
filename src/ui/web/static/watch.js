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
  var POLL_MS = 2000;   // how often the decoded frames are counted
  var STALL_MS = 6000;  // no new frame for this long: the picture is not coming any more
  var base = "/api/sessions/" + video.getAttribute("data-session") + "/media/watch";
  var node = video.getAttribute("data-node");
  var pc = null;
  var poll = null;
  var retry = null;

  function show(state) {
    status.setAttribute("data-state", state);
    video.setAttribute("data-state", state);
    status.textContent = status.getAttribute("data-label-" + state) || state;
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
  function again() {
    stop("waiting");
    clearTimeout(retry);
    retry = setTimeout(connect, RETRY_MS);
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
        refused.final = reply.status < 500;  // not allowed to watch: no use trying again
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
      if (reply.status === 409) {
        // Nothing live: the candidate's camera is not connected (wait), or the session
        // is closed (stop).
        return reply.json().then(function (body) {
          if (body && body.state === "ended") stop("ended"); else again();
          return null;
        });
      }
      if (reply.status === 503) { again(); return null; }  // the holding node is down
      if (!reply.ok) { stop("offline"); return null; }
      return reply.json();
    }).then(function (answer) {
      if (!answer || own !== pc) return null;
      countFrames(own);
      return own.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    }).catch(function (error) {
      if (error && error.final) stop("offline");
      else if (own === pc || own === null) again();  // the network, or this node restarting
    });
  }

  video.addEventListener("playing", function () { show("live"); });
  connect();
})();
