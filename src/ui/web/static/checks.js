// The browser side of the checks (R6, R8–R10): sound, microphone, camera, connection,
// photos and environment recordings. Every result goes to the server, which decides.
// The checks run in one document (journey.js swaps each step in place, issue 12): the step's
// buttons are bound again after each swap ("vigie:step"), and one camera stream serves them.
(function () {
  "use strict";
  function csrf() {
    var m = document.cookie.match(/(?:^|; )vigie_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  var journey = window.vigieJourney;
  // The step as it is now, in place (or a full load without journey.js).
  function refresh() { if (journey) { journey.refresh(); } else { window.location.reload(); } }
  // A post whose answer does not change the step (a photo, the microphone, the connection
  // test's timing): a refusal is said in place and rejects.
  function post(url, body) {
    return fetch(url, { method: "POST", body: body, headers: { "x-csrftoken": csrf(), "x-vigie-fragment": "1" },
                        credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) {
        if (journey) { journey.refuse(t); } else { document.open(); document.write(t); document.close(); }
        throw new Error("refused"); }); }
      return r;
    });
  }
  var stream = null;
  function camera() {
    if (!navigator.mediaDevices) { return Promise.reject(new Error("no media devices")); }
    if (stream && stream.active) { return Promise.resolve(stream); }
    return navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true })
      .then(function (s) { stream = s; return s; });
  }
  // R8: « Test du matériel » in the page: camera preview and microphone level, in a dialog.
  var dialog = document.getElementById("equipment");
  var meterTimer = null;
  function openEquipment() {
    camera().then(function (s) {
      document.getElementById("equipment-preview").srcObject = s;
      var AudioCtx = window.AudioContext || window.webkitAudioContext;
      if (!AudioCtx || meterTimer) { return; }
      var ctx = new AudioCtx(), analyser = ctx.createAnalyser();
      ctx.createMediaStreamSource(s).connect(analyser);
      var samples = new Uint8Array(analyser.fftSize);
      var meter = document.getElementById("equipment-level");
      meterTimer = setInterval(function () {
        analyser.getByteTimeDomainData(samples);
        var peak = 0;
        for (var i = 0; i < samples.length; i++) { peak = Math.max(peak, Math.abs(samples[i] - 128)); }
        meter.value = Math.min(100, Math.round(peak * 100 / 128));
        meter.setAttribute("data-heard", meter.value > 0 ? "yes" : meter.getAttribute("data-heard") || "no");
      }, 100);
    }).catch(function () {});
    dialog.showModal();
  }
  if (dialog) {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-dialog='equipment']");
      if (!link) { return; }
      event.preventDefault();
      openEquipment();
    });
  }
  // R6: count the words of a resume reason as the server does.
  document.querySelectorAll("textarea[data-min-words]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("aria-describedby"));
    area.addEventListener("input", function () {
      var words = area.value.split(/\s+/).filter(function (w) { return /[\p{L}\p{N}_]/u.test(w); }).length;
      out.textContent = out.textContent.replace(/^\d+/, String(words));
    });
  });
  // A step can be announced more than once (a click's answer, then a poll): each element is
  // bound once, or one click would post twice (and start a second recorder).
  function fresh(element) {
    if (!element || element.dataset.bound === "yes") { return false; }
    element.dataset.bound = "yes";
    return true;
  }
  function init() {
  var step = document.getElementById("step");
  if (!step) { return; }
  var video = document.getElementById("preview");
  if (video) { camera().then(function (s) { video.srcObject = s; }).catch(function () {}); }
  var sound = document.getElementById("play-sound");
  if (fresh(sound)) {
    sound.addEventListener("click", function () {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator(); osc.frequency.value = 440; osc.connect(ctx.destination);
      osc.start(); setTimeout(function () { osc.stop(); }, 800);
    });
  }
  // R8: start then stop a real recording of the microphone, then play it back.
  var mic = document.getElementById("mic-test");
  if (fresh(mic)) {
    var micStart = document.getElementById("mic-start");
    var micStop = document.getElementById("mic-stop");
    var micChunks = [], micRecorder = null;
    if (mic.dataset.recording === "yes") { micStart.disabled = true; micStop.disabled = false; }
    micStart.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
        micRecorder = new MediaRecorder(s);
        micRecorder.ondataavailable = function (e) { micChunks.push(e.data); };
        micRecorder.start();
        return post(mic.dataset.start, new FormData());
      }).then(function () {
        micStart.disabled = true; micStop.disabled = false;
        document.getElementById("mic-status").textContent = "●";
      });
    });
    micStop.addEventListener("click", function () {
      function done() {
        post(mic.dataset.stop, new FormData()).then(function () {
          var audio = document.getElementById("mic-playback");
          if (micChunks.length) { audio.src = URL.createObjectURL(new Blob(micChunks)); }
          audio.hidden = false;
          document.getElementById("mic-next").hidden = false;
          micStop.disabled = true;
          document.getElementById("mic-status").textContent = "✓";
        });
      }
      if (micRecorder && micRecorder.state !== "inactive") { micRecorder.onstop = done; micRecorder.stop(); }
      else { done(); }
    });
  }
  var connection = document.getElementById("connection-form");
  if (fresh(connection)) {
    connection.addEventListener("submit", function (event) {
      if (connection.round_trip_ms.value) { return; }
      event.preventDefault();
      var url = "/exams/" + step.dataset.session + "/upload-test";
      var started = performance.now();
      post(url, new Blob(["."])).then(function () {
        var rtt = performance.now() - started;
        var payload = new Blob([new Uint8Array(256 * 1024)]);
        var upStart = performance.now();
        return post(url, payload).then(function () {
          var seconds = Math.max((performance.now() - upStart) / 1000, 0.001);
          connection.round_trip_ms.value = rtt.toFixed(1);
          connection.upload_kbps.value = ((256 * 8) / seconds).toFixed(0);
          document.getElementById("connection-result").textContent =
            rtt.toFixed(0) + " ms, " + connection.upload_kbps.value + " kbit/s";
          connection.requestSubmit();
        });
      });
    });
  }
  var photo = document.getElementById("take-photo");
  if (fresh(photo)) {
    photo.addEventListener("click", function () {
      var canvas = document.createElement("canvas");
      canvas.width = 320; canvas.height = 240;
      canvas.getContext("2d").drawImage(video, 0, 0, 320, 240);
      canvas.toBlob(function (blob) {
        var form = new FormData(); form.append("photo", blob, "photo.jpg");
        post(photo.dataset.action, form).then(function () {
          document.getElementById("photo-status").textContent = "✓";
        });
      }, "image/jpeg", 0.8);
    });
  }
  var stop = document.getElementById("stop-recording");
  if (fresh(stop)) {
    var chunks = [];
    var recorder = null;
    // A click on « Arrêter » before the camera answered waits for the recorder: stopping a
    // started recorder always yields a playable WebM (its header at least), never an empty file.
    var ready = camera().then(function (s) {
      recorder = new MediaRecorder(s);
      recorder.ondataavailable = function (e) { if (e.data.size) { chunks.push(e.data); } };
      recorder.start(250);
    }).catch(function () {});
    stop.addEventListener("click", function () {
      stop.disabled = true;
      function upload() {
        var blob = new Blob(chunks.length ? chunks : [new Uint8Array(1)], { type: "video/webm" });
        var form = new FormData(); form.append("recording", blob, "recording.webm");
        var sent = journey ? journey.post(stop.dataset.action, form)
          : post(stop.dataset.action, form).then(refresh, function () {});
        Promise.resolve(sent).then(function () { stop.disabled = false; });
      }
      // A recorder that has not encoded a frame yet (a quick click, a busy machine) would give
      // an empty file: record on until the first data arrives (at most 10 s), then stop.
      function finish(waited) {
        if (recorder && recorder.state !== "inactive") {
          if (!chunks.length && waited < 10000) {
            recorder.requestData();
            setTimeout(function () { finish(waited + 200); }, 200);
            return;
          }
          recorder.onstop = upload; recorder.stop();
        } else { upload(); }
      }
      ready.then(function () { finish(0); });
    });
  }
  }
  init();
  document.addEventListener("vigie:step", init);
})();
