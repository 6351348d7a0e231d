// Live supervision (R2): a receive-only WebRTC connection to the server, which relays the
// candidate's tracks without touching the recording. The platform's ICE servers (STUN, TURN
// with short-lived credentials) are asked for first; the offer goes to the node holding the
// candidate's connection (`?node=`, which the proxy routes; another node answers 307 there).
(function () {
  "use strict";
  var video = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!video || !window.RTCPeerConnection) return;
  function show(state) {
    status.setAttribute("data-state", state);
    status.textContent = status.getAttribute("data-label-" + state) || state;
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|; )vigie_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  var base = "/api/sessions/" + video.getAttribute("data-session") + "/media/watch";
  var node = video.getAttribute("data-node");
  var pc = null;
  var stream = new MediaStream();
  video.srcObject = stream;
  fetch(base + "/ice", { credentials: "same-origin" }).then(function (reply) {
    if (!reply.ok) throw new Error("no ICE servers: " + reply.status);
    return reply.json();
  }).then(function (config) {
    pc = new RTCPeerConnection({ iceServers: config.iceServers });
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = function (e) { stream.addTrack(e.track); show("live"); };
    return pc.createOffer();
  }).then(function (offer) {
    return pc.setLocalDescription(offer);
  }).then(function () {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 3000);
    });
  }).then(function () {
    return fetch(base + (node ? "?node=" + encodeURIComponent(node) : ""), {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrf() },
      body: JSON.stringify({ sdp: pc.localDescription.sdp })
    });
  }).then(function (reply) {
    if (!reply.ok) { show("offline"); return null; }
    return reply.json();
  }).then(function (answer) {
    if (answer) return pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    return null;
  }).catch(function () { show("offline"); });
})();
