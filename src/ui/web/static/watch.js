// Live supervision (R2): a receive-only WebRTC connection to the server, which relays the
// candidate's tracks without touching the recording.
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
  var pc = new RTCPeerConnection({ iceServers: [] });
  var stream = new MediaStream();
  video.srcObject = stream;
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.ontrack = function (e) { stream.addTrack(e.track); show("live"); };
  pc.createOffer().then(function (offer) {
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
    return fetch("/api/sessions/" + video.getAttribute("data-session") + "/media/watch", {
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
