// The browser side of the checks (R6, R8–R10): sound, microphone, camera, connection,
// photos and environment recordings. Every result goes to the server, which decides; the page
// only helps (it plays, previews, counts down) and says each outcome in words. The words come
// from the page's data-label-* attributes, in the page's language.
// The checks run in one document (journey.js swaps each step in place, issue 12): the step's
// buttons are bound again after each swap ("vigie:step"), and one camera stream serves them.
(function () {
  "use strict";
  function csrf() {
    var m = document.cookie.match(/(?:^|; )vigie_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function byId(id) { return document.getElementById(id); }
  function label(element, name) { return element.getAttribute("data-label-" + name) || ""; }
  var journey = window.vigieJourney;
  // The step as it is now, in place (or a full load without journey.js).
  function refresh() { if (journey) { journey.refresh(); } else { window.location.reload(); } }
  // A post whose answer does not change the step (a photo, the microphone, the connection
  // test's timing): a refusal is said in place and rejects.
  // Not sent at all (offline, the server out of reach): said in place as the step's own
  // buttons say it, unless `quiet` (a caller that says it in its own words). « Prendre une
  // photo » offline did nothing and said nothing, and the microphone's start blamed the
  // microphone (a candidate's tour with the network cut). The sentence goes at the next post
  // that arrives.
  var offlineSaid = false;
  function post(url, body, quiet) {
    return fetch(url, { method: "POST", body: body, headers: { "x-csrftoken": csrf(), "x-vigie-fragment": "1" },
                        credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) {
        if (journey) { journey.refuse(t); } else { document.open(); document.write(t); document.close(); }
        throw new Error("refused"); }); }
      if (offlineSaid && journey) { offlineSaid = false; journey.settled(); }
      return r;
    }, function (error) {
      var refusal = byId("refusal");
      var words = refusal ? refusal.getAttribute("data-label-offline") : "";
      if (!quiet && journey && words) {
        var said = document.createElement("p"); said.textContent = words;
        journey.refuse(said.outerHTML);
        offlineSaid = true;
      }
      throw error;
    });
  }
  var stream = null;
  function camera() {
    if (!navigator.mediaDevices) { return Promise.reject(new Error("no media devices")); }
    if (stream && stream.active) { return Promise.resolve(stream); }
    return navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true })
      .then(function (s) { stream = s; return s; });
  }
  // The session closed (proctoring.js): the checks' camera and microphone are let go too, or
  // the camera's light stayed on after « Oui, envoyer » (a reviewer's check).
  document.addEventListener("vigie:proctoring-ended", function () {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
  });
  // A short recording of the microphone alone, handed back as a playable URL. Given `seconds`,
  // it stops by itself once it holds that long: « Enregistrer 3 secondes » counted 3 s from
  // the moment the recorder was asked to start, before it recorded anything, and the clip
  // played 2.8 to 2.94 s (the player read « 0:02 », a user's tour). The recorder hands its
  // data every SLICE_MS, each piece stamped with the recording's own time (BlobEvent's
  // timecode); it stops on the first piece that starts `seconds` in. `onRecording` is called
  // once it really records (its start event).
  var SLICE_MS = 100;
  function recordVoice(onRecording, seconds) {
    return navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
      var chunks = [], recorder = new MediaRecorder(s), first = null;
      var done = new Promise(function (resolve) {
        recorder.onstop = function () {
          s.getTracks().forEach(function (t) { t.stop(); });
          resolve(chunks.length ? URL.createObjectURL(new Blob(chunks)) : "");
        };
      });
      function stop() { if (recorder.state !== "inactive") { recorder.stop(); } return done; }
      recorder.ondataavailable = function (e) {
        if (!e.data.size) { return; }
        chunks.push(e.data);
        if (!seconds) { return; }
        // A browser without the stamp: this page's clock from the first piece.
        var at = typeof e.timecode === "number" && e.timecode >= 0 ? e.timecode : performance.now();
        if (first === null) { first = at; }
        if (at - first >= seconds * 1000) { stop(); }
      };
      if (onRecording) { recorder.onstart = onRecording; }
      if (seconds) { recorder.start(SLICE_MS); } else { recorder.start(); }
      return { stop: stop, done: done };
    });
  }

  // A recording handed in pieces has no length in its header: the player read « 0:00 » and no
  // total. Sent once to its end, the browser learns the length; then back to the start.
  function knowDuration(audio) {
    audio.addEventListener("loadedmetadata", function () {
      if (audio.duration !== Infinity) { return; }
      audio.addEventListener("durationchange", function known() {
        if (audio.duration === Infinity) { return; }
        audio.removeEventListener("durationchange", known);
        audio.currentTime = 0;
      });
      audio.currentTime = 1e9;
    }, { once: true });
  }

  // R8: « Test du matériel » in the page: camera preview and microphone level, in a dialog.
  var dialog = byId("equipment");
  var meterTimer = null;
  function openEquipment() {
    camera().then(function (s) {
      byId("equipment-preview").srcObject = s;
      var AudioCtx = window.AudioContext || window.webkitAudioContext;
      if (!AudioCtx || meterTimer) { return; }
      var ctx = new AudioCtx(), analyser = ctx.createAnalyser();
      ctx.createMediaStreamSource(s).connect(analyser);
      var samples = new Uint8Array(analyser.fftSize);
      var meter = byId("equipment-level");
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

  // The guide's full screen (secure mode, then the exam): leaving it shows a banner with
  // « Retour en plein écran »; the browser only allows going back on a click.
  var banner = byId("fullscreen-banner");
  if (banner && document.documentElement.requestFullscreen) {
    // Full screen as soon as it is granted, or already on arrival (the browser may keep it
    // through the step's post and reload): its change event may come after she left it again,
    // and a page that loads in full screen sees none (a CI run: no banner after leaving).
    var wasFull = Boolean(document.fullscreenElement);
    var goFull = function () {
      document.documentElement.requestFullscreen().then(function () { wasFull = true; }, function () {});
    };
    document.addEventListener("fullscreenchange", function () {
      if (document.fullscreenElement) { wasFull = true; if (banner.open) { banner.close(); } }
      else if (wasFull && !banner.open) { banner.showModal(); }
    });
    byId("fullscreen-back").addEventListener("click", function () {
      goFull();
      banner.close();
    });
    document.addEventListener("submit", function (event) {
      if (event.target.hasAttribute && event.target.hasAttribute("data-fullscreen") && !document.fullscreenElement) {
        goFull();
      }
    }, true);
  }

  // R6: count the words of a resume reason as the server does.
  // The counter is the first id the field names (a refusal adds its sentence's), and it
  // counts at once a reason sent back after a refusal: it read « 0 mots » under 3 words.
  document.querySelectorAll("textarea[data-min-words]").forEach(function (area) {
    var out = byId((area.getAttribute("aria-describedby") || "").split(" ")[0]);
    if (!out) { return; }
    function count() {
      var words = area.value.split(/\s+/).filter(function (w) { return /[\p{L}\p{N}_]/u.test(w); }).length;
      out.textContent = out.textContent.replace(/^\d+/, String(words));
    }
    area.addEventListener("input", count);
    count();
  });

  // « Test du matériel » as its own page: « Tester mon micro » records 3 s and plays it back.
  var equipmentMic = byId("equipment-mic");
  if (equipmentMic) {
    equipmentMic.addEventListener("click", function () {
      var status = byId("equipment-mic-status");
      equipmentMic.disabled = true;
      var seconds = Number(equipmentMic.getAttribute("data-seconds")) || 3;
      recordVoice(function () { status.textContent = label(equipmentMic, "recording"); }, seconds).then(function (voice) {
        // A microphone that gives nothing never fills the clip: stopped all the same.
        setTimeout(voice.stop, (seconds + 5) * 1000);
        return voice.done;
      }).then(function (url) {
        if (url) { knowDuration(byId("playback")); byId("playback").src = url; }
        status.textContent = label(equipmentMic, "recorded");
        equipmentMic.disabled = false;
      }).catch(function () { status.textContent = label(equipmentMic, "failed"); equipmentMic.disabled = false; });
    });
  }
  var equipmentCamera = byId("equipment-camera");
  if (equipmentCamera) {
    var showCamera = function () {
      var status = byId("equipment-camera-status");
      camera().then(function (s) { byId("preview").srcObject = s; status.textContent = label(status, "ok"); })
        .catch(function () { status.textContent = label(status, "failed"); });
    };
    equipmentCamera.addEventListener("click", showCamera);
  }

  // A step can be announced more than once (a click's answer, then a poll): each element is
  // bound once, or one click would post twice (and start a second recorder).
  function fresh(element) {
    if (!element || element.dataset.bound === "yes") { return false; }
    element.dataset.bound = "yes";
    return true;
  }

  // R8: « J'ai entendu le son » only once the sound was played.
  function bindSound() {
    var sound = byId("play-sound");
    if (!fresh(sound)) { return; }
    sound.addEventListener("click", function () {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator(); osc.frequency.value = 440; osc.connect(ctx.destination);
      sound.disabled = true;
      osc.onended = function () {
        sound.disabled = false;
        sound.textContent = label(sound, "again");
        byId("sound-heard").disabled = false;
        var status = byId("sound-status");
        status.textContent = label(status, "played");
      };
      osc.start(); osc.stop(ctx.currentTime + 0.8);
    });
  }

  // R8: start then stop a real recording of the microphone, play it back; « Réessayer »
  // records again in the page (the server needs the start and stop once).
  // `cut`: the page was loaded (a reload, the tab reopened) with the server's recording
  // under way, whose sound went with the old page.
  function bindMicrophone(cut) {
    var mic = byId("mic-test");
    if (!fresh(mic)) { return; }
    var micStart = byId("mic-start"), micStop = byId("mic-stop"), retry = byId("mic-retry");
    var status = byId("mic-status"), audio = byId("mic-playback");
    // Done already (the address says so after « Arrêter »): « Réessayer » only records again
    // to listen, and « Suivant » is shown (the server's page).
    var voice = null, sentStop = mic.dataset.done === "yes";
    if (mic.dataset.recording === "yes") { micStart.disabled = true; micStop.disabled = false; }
    function recording() { status.textContent = label(mic, "recording"); micStop.disabled = false; micStop.focus(); }
    // Cut by a reload: « Arrêter » found nothing to play back and said the microphone was
    // silent. Said, and recorded again (the server's recording is still the one started).
    if (cut && mic.dataset.recording === "yes") {
      recordVoice().then(function (v) { voice = v; recording(); status.textContent = label(mic, "cut"); },
        function () { status.textContent = label(mic, "silent"); });
    }
    micStart.addEventListener("click", function () {
      micStart.disabled = true;
      var heard = false;
      recordVoice().then(function (v) {
        voice = v; heard = true;
        return post(mic.dataset.start, new FormData());
      }).then(recording, function () {
        micStart.disabled = false;
        // The microphone answered but the start did not reach the server: the refusal in
        // place says why, and the microphone is let go until the next click.
        if (heard) { voice.stop(); voice = null; status.textContent = ""; return; }
        status.textContent = label(mic, "silent");
      });
    });
    function played(url) {
      if (url) { audio.src = url; audio.hidden = false; }
      status.textContent = label(mic, url ? "recorded" : "silent");
      retry.hidden = false;
    }
    micStop.addEventListener("click", function () {
      micStop.disabled = true;
      var stopped = voice ? voice.stop() : Promise.resolve("");
      stopped.then(function (url) {
        if (sentStop) { played(url); return; }
        post(mic.dataset.stop, new FormData()).then(function () {
          sentStop = true;
          played(url);
          byId("mic-next").hidden = false;
          // A reload now comes back to this test, done, with « Suivant »: it showed the camera
          // test without a word (a user tour).
          window.history.replaceState(null, "", mic.dataset.doneUrl);
        }, function () { micStop.disabled = false; });
      });
    });
    retry.addEventListener("click", function () {
      retry.hidden = true; audio.hidden = true;
      recordVoice().then(function (v) { voice = v; recording(); },
        function () { status.textContent = label(mic, "silent"); retry.hidden = false; });
    });
  }

  // R8: « Je ne me vois pas » opens advice in place; the failed check is recorded meanwhile.
  function bindCameraHelp() {
    var help = byId("camera-help");
    if (!fresh(help)) { return; }
    var told = false;
    help.addEventListener("toggle", function () {
      if (!help.open || told) { return; }
      told = true;
      var form = new FormData(); form.append("working", "no");
      post(help.dataset.action, form, true).catch(function () {});
    });
  }

  // R8: the connection test, its result in words; a pass goes on, a failure can be run again.
  function bindConnection(step) {
    var connection = byId("connection-form");
    if (!fresh(connection)) { return; }
    var run = byId("run-connection"), result = byId("connection-result");
    var lang = connection.dataset.lang || "fr";
    function line(name, value, unit, ok) {
      var li = document.createElement("li");
      li.className = ok ? "is-done" : "is-failed";
      li.textContent = label(connection, name) + " " + Math.round(value).toLocaleString(lang) + " " + unit +
        " — " + label(connection, ok ? "ok" : "ko");
      return li;
    }
    function say(kind, text, lines) {
      result.textContent = "";
      var box = document.createElement("div");
      box.className = "alert alert--" + kind;
      var p = document.createElement("p"); p.textContent = text; box.appendChild(p);
      if (lines) { var ul = document.createElement("ul"); ul.className = "checklist"; lines.forEach(function (l) { ul.appendChild(l); }); box.appendChild(ul); }
      result.appendChild(box);
    }
    connection.addEventListener("submit", function (event) {
      if (connection.round_trip_ms.value) { connection.dataset.sent = "1"; return; }
      event.preventDefault();
      run.disabled = true; run.setAttribute("aria-busy", "true");
      say("info", label(connection, "running"));
      var url = "/exams/" + step.dataset.session + "/upload-test";
      var started = performance.now();
      post(url, new Blob(["."]), true).then(function () {
        var rtt = performance.now() - started;
        var payload = new Blob([new Uint8Array(256 * 1024)]);
        var upStart = performance.now();
        return post(url, payload, true).then(function () {
          var seconds = Math.max((performance.now() - upStart) / 1000, 0.001);
          var kbps = (256 * 8) / seconds;
          var rttOk = rtt <= parseFloat(connection.dataset.maxRoundTrip);
          var upOk = kbps >= parseFloat(connection.dataset.minUpload);
          var lines = [line("round-trip", rtt, "ms", rttOk), line("upload", kbps, "kbit/s", upOk)];
          connection.round_trip_ms.value = rtt.toFixed(1);
          connection.upload_kbps.value = kbps.toFixed(0);
          run.disabled = false; run.removeAttribute("aria-busy");
          if (rttOk && upOk) {
            say("success", label(connection, "passed"), lines);
            // Read, then go on: at 1.2 s the step moved on before its result could be read
            // (a reviewer's finding); and said, with a button to go at once: the page
            // changed by itself with nothing to say it would (another reviewer's).
            var next = document.createElement("p"); next.id = "connection-next";
            next.textContent = label(connection, "moving-on");
            result.firstChild.appendChild(next);
            run.textContent = label(connection, "continue");
            setTimeout(function () { if (!connection.dataset.sent && document.body.contains(connection)) { connection.requestSubmit(); } }, 3000);
            return;
          }
          // Recorded as a failed test (the examiner sees it), then measured afresh on retry.
          say("error", label(connection, "failed"), lines);
          post(connection.action, new FormData(connection)).then(function (r) { return r.text(); })
            .then(function (html) { // the server judged otherwise: its step is the truth
              if (html.indexOf('data-step="connection_tested"') < 0) { refresh(); }
            }).catch(function () {});
          connection.round_trip_ms.value = ""; connection.upload_kbps.value = "";
          run.textContent = label(connection, "again");
        });
      }).catch(function () {
        run.disabled = false; run.removeAttribute("aria-busy");
        say("error", label(connection, "error"));
        run.textContent = label(connection, "again");
      });
    });
  }

  // A camera the browser refused, or that sends no picture: said under the preview, and the
  // buttons that would record it working (« Je me vois », « Prendre une photo ») are off.
  // They stayed on, and a black face photo was taken and sent (a reviewer's check): R9 then
  // invalidates an honest candidate's exam over a photo she could not see was black.
  function cameraBlocked(video) {
    if (!video || !document.body.contains(video)) { return; }
    var said = byId("camera-blocked");
    if (!said) {
      said = document.createElement("div");
      said.id = "camera-blocked"; said.className = "alert alert--error"; said.setAttribute("role", "alert");
      var p = document.createElement("p"); p.textContent = video.dataset.labelBlocked || ""; said.appendChild(p);
      var box = video.closest(".checks-camera, .checks-photo") || video;
      box.parentNode.insertBefore(said, box.nextSibling);
    }
    document.querySelectorAll("#take-photo, button[name=working][value=yes]").forEach(function (b) {
      b.disabled = true;
    });
  }
  function showsAPicture(video) { return !!(video && video.srcObject && video.videoWidth > 0); }
  // A slow camera whose first picture comes after the sentence: the sentence goes again.
  function cameraBack() {
    var said = byId("camera-blocked");
    if (said) { said.remove(); }
    document.querySelectorAll("#take-photo, button[name=working][value=yes]").forEach(function (b) {
      b.disabled = false;
    });
  }

  // R9: take the photo, show it back, « Reprendre » or « Suivant ».
  function bindPhoto(video) {
    var photo = byId("take-photo");
    if (!fresh(photo)) { return; }
    var retake = byId("retake-photo"), taken = byId("photo-taken"), status = byId("photo-status");
    photo.addEventListener("click", function () {
      if (!showsAPicture(video)) { cameraBlocked(video); return; }  // nothing to photograph
      var canvas = document.createElement("canvas");
      canvas.width = 320; canvas.height = 240;
      canvas.getContext("2d").drawImage(video, 0, 0, 320, 240);
      photo.disabled = true;
      canvas.toBlob(function (blob) {
        var form = new FormData(); form.append("photo", blob, "photo.jpg");
        post(photo.dataset.action, form).then(function () {
          taken.src = canvas.toDataURL("image/jpeg", 0.8);
          taken.hidden = false; video.hidden = true;
          photo.hidden = true; photo.disabled = false;
          retake.hidden = false; retake.focus(); // the focus stays on a visible button
          status.textContent = label(status, "taken");
          // Taken: the reminder to take it has said its piece (it stayed on screen).
          var reminder = byId("photo-reminder");
          if (reminder) { reminder.hidden = true; }
          if (journey) { journey.settled(); }
        }, function () { photo.disabled = false; });
      }, "image/jpeg", 0.8);
    });
    retake.addEventListener("click", function () {
      taken.hidden = true; video.hidden = false;
      retake.hidden = true; photo.hidden = false;
      status.textContent = "";
      photo.focus();
    });
  }

  // R10: record while the candidate films; « Arrêter » waits for the part's minimum length
  // (the server measures the file and refuses a shorter one), with a countdown in words.
  // `cut`: the page was loaded with the part's recording under way: the film of the old page
  // is lost (it is sent from the page, at « Arrêter »), and a new one starts here.
  function bindRecording(cut) {
    var stop = byId("stop-recording");
    if (!fresh(stop)) { return; }
    // The countdown went on from the full length as if nothing had happened, after some
    // seconds of filming (a user tour): the page says the recording starts again.
    if (cut) { byId("recording-cut").hidden = false; }
    var chunks = [];
    var recorder = null;
    var countdown = byId("recording-countdown");
    // A margin over the minimum: the file's first frame comes a moment after the start.
    var minimum = Math.ceil(parseFloat(stop.dataset.minSeconds || "0")) + 1;
    function tick(left) {
      if (left <= 0) {
        countdown.textContent = label(countdown, "ready");
        stop.disabled = false;
        return;
      }
      countdown.textContent = label(countdown, "wait").replace("{n}", String(left));
      setTimeout(function () { tick(left - 1); }, 1000);
    }
    // A click on « Arrêter » before the camera answered waits for the recorder: stopping a
    // started recorder always yields a playable WebM (its header at least), never an empty file.
    function record(s) {
      chunks = [];
      recorder = new MediaRecorder(s);
      recorder.ondataavailable = function (e) { if (e.data.size) { chunks.push(e.data); } };
      recorder.start(250);
      tick(minimum);
    }
    var ready = camera().then(record).catch(function () { stop.disabled = false; });
    stop.addEventListener("click", function () {
      stop.disabled = true;
      function upload() {
        var blob = new Blob(chunks.length ? chunks : [new Uint8Array(1)], { type: "video/webm" });
        var form = new FormData(); form.append("recording", blob, "recording.webm");
        var sent = journey ? journey.post(stop.dataset.action, form)
          : post(stop.dataset.action, form).then(refresh, function () {});
        // Not kept on our side (503) or not sent (offline): the same film is sent again at the
        // next click. Refused (too short, say): the part is still being recorded, so film it
        // afresh.
        Promise.resolve(sent).then(function (ok) {
          if (ok === false && journey && journey.retryable) { stop.disabled = false; }
          else if (ok === false && document.body.contains(stop)) { ready = camera().then(record); }
          else { stop.disabled = false; }
        });
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

  // `event`: a step swapped in (vigie:step); none at the page's load. Loaded with a recording
  // under way, that recording began in an earlier page (journey.js starts it in place), so it
  // was cut; without journey.js the start itself loads the page.
  function init(event) {
    var step = byId("step");
    if (!step) { return; }
    var cut = !event && Boolean(journey);
    var video = byId("preview");
    if (video) {
      camera().then(function (s) {
        video.addEventListener("loadeddata", cameraBack, { once: true });
        video.srcObject = s;
        // A stream that never shows a frame (a camera held by another application) is as
        // blocked as a refused one, for the photo and for « Je me vois ».
        setTimeout(function () { if (!showsAPicture(video)) { cameraBlocked(video); } }, 4000);
      }).catch(function () { cameraBlocked(video); });
    }
    bindSound();
    bindMicrophone(cut);
    bindCameraHelp();
    bindConnection(step);
    bindPhoto(video);
    bindRecording(cut);
  }
  init();
  document.addEventListener("vigie:step", init);
})();
