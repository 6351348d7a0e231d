// The examiner's player (issue 7, issue 13): a click on a moment plays the recording from that
// second (media time counts from the first entry; each segment knows where it starts). "Cite"
// ticks a moment for a reason: the reason is ticked with it and each reason counts its moments.

// « 16:50 », « 1:09:12 », « 0:11,9 »: a position in the recording, exactly as the server's
// review_words.recording_time says it (minutes:seconds, hours past the first hour, rounded
// half up to the tenth, the tenth only when there is one); tests/browser/test_playback.py
// holds the two to the same text.
function recordingTime(seconds, decimal) {
  var tenths = Math.floor(seconds * 10 + 0.5);
  var tenth = tenths % 10;
  var whole = (tenths - tenth) / 10;
  var hours = Math.floor(whole / 3600);
  var minutes = Math.floor((whole % 3600) / 60);
  var secs = whole % 60;
  function two(n) { return (n < 10 ? "0" : "") + n; }
  var text = hours ? hours + ":" + two(minutes) + ":" + two(secs) : minutes + ":" + two(secs);
  return tenth ? text + decimal + tenth : text;
}

(function () {
  "use strict";
  var section = document.getElementById("recording");
  if (!section) return;
  var player = document.getElementById("player");
  var segments = Array.prototype.map.call(
    document.querySelectorAll("#recording-timeline .mark.segment"),
    function (li) {
      var button = li.querySelector("button");
      return {
        mediaId: button.getAttribute("data-segment"),
        start: parseFloat(li.getAttribute("data-start")),
        end: parseFloat(li.getAttribute("data-end")),
        row: li
      };
    });

  function segmentAt(t) {
    for (var i = 0; i < segments.length; i++) {
      if (t <= segments[i].end) return segments[i]; // inside, or the next one after a gap
    }
    return segments[segments.length - 1];
  }

  // Set `video`'s time once it knows its length: at once if it does, else when its file's
  // head arrives. The players load nothing by themselves (preload="none": a request for a
  // recording is recorded as its playing), so a seek may come before the file is asked.
  function seekWhenLoaded(video, offset) {
    if (video.readyState >= 1) { video.currentTime = offset; return; }
    video.addEventListener("loadedmetadata", function () { video.currentTime = offset; }, { once: true });
  }

  // Play `segment` from `offset` seconds into it (at its place, not loaded, when `play` is
  // false), switching the player's file first if it holds another one. Only `play` asks
  // the file: a segment that ends while paused does not load the next one.
  function playSegment(segment, offset, play) {
    if (player.getAttribute("data-segment") !== segment.mediaId) {
      player.setAttribute("data-segment", segment.mediaId);
      player.setAttribute("data-segment-start", String(segment.start));
      player.src = "/media/sessions/" + segment.mediaId;
      player.poster = "/media/sessions/" + segment.mediaId + "/still/0";
    }
    seekWhenLoaded(player, offset);
    if (play) player.play().catch(function () {});
  }

  function seek(t) {
    if (!player || !segments.length) return;
    var segment = segmentAt(t);
    player.setAttribute("data-seek-to", String(t));
    playSegment(segment, Math.max(0, t - segment.start), true);
  }

  // The row marked as the one playing (a click on a moment marks its row).
  function markPlaying(row) {
    var current = section.querySelector(".mark.is-playing");
    if (current) current.classList.remove("is-playing");
    if (row) row.classList.add("is-playing");
  }

  // A session's recording is one segment per connection: when one ends, the next plays from
  // its start (the gap between them is not recorded; its row on the timeline says so). The
  // last one's end is the recording's: the player stops there. A segment that ends while
  // playing is paused by the browser just before "ended"; one the examiner dragged to its
  // end while paused is not, and the next is then loaded paused at its start.
  var playedToTheEnd = false;
  if (player) {
    // Played with the player's own ▶ (no moment clicked yet): the row of the segment it
    // holds is marked, as a click on it would (a review: no row said what was playing).
    player.addEventListener("play", function () {
      if (section.querySelector(".mark.is-playing")) return; // a clicked moment's row stays
      var id = player.getAttribute("data-segment");
      for (var i = 0; i < segments.length; i++) {
        if (segments[i].mediaId === id) { markPlaying(segments[i].row); return; }
      }
    });
    player.addEventListener("pause", function () { playedToTheEnd = player.ended; });
    player.addEventListener("ended", function () {
      var play = playedToTheEnd;
      playedToTheEnd = false;
      var id = player.getAttribute("data-segment");
      for (var i = 0; i < segments.length - 1; i++) {
        if (segments[i].mediaId !== id) continue;
        var next = segments[i + 1];
        markPlaying(next.row);
        player.setAttribute("data-seek-to", String(next.start));
        playSegment(next, 0, play);
        return;
      }
    });
  }

  // Issue 16: the shared screen plays beside the camera, at the camera's second.
  var screenPlayer = document.getElementById("screen-player");
  var screens = Array.prototype.map.call(
    document.querySelectorAll("#screen-segments li"),
    function (li) {
      return {
        mediaId: li.getAttribute("data-segment"),
        start: parseFloat(li.getAttribute("data-start")),
        end: parseFloat(li.getAttribute("data-end"))
      };
    });

  function cameraTime() {
    return parseFloat(player.getAttribute("data-segment-start") || "0") + player.currentTime;
  }

  function syncScreen() {
    if (!screenPlayer || !screens.length || !player) return;
    var t = cameraTime();
    var screen = null;
    for (var i = 0; i < screens.length; i++) {
      if (t >= screens[i].start && t <= screens[i].end) { screen = screens[i]; break; }
    }
    if (!screen) { screenPlayer.pause(); return; } // the screen was not shared then
    var offset = Math.max(0, t - screen.start);
    if (screenPlayer.getAttribute("data-segment") !== screen.mediaId) {
      screenPlayer.setAttribute("data-segment", screen.mediaId);
      screenPlayer.src = "/media/sessions/" + screen.mediaId;
    }
    // Asked only while the camera plays: the screen's file is loaded with it, not before
    // (preload="none", as the camera's).
    if (screenPlayer.readyState < 1) {
      if (!player.paused) { seekWhenLoaded(screenPlayer, offset); screenPlayer.play().catch(function () {}); }
      return;
    }
    if (Math.abs(screenPlayer.currentTime - offset) > 1) screenPlayer.currentTime = offset;
    if (player.paused) screenPlayer.pause(); else screenPlayer.play().catch(function () {});
  }
  if (player && screenPlayer) {
    ["play", "pause", "seeked", "timeupdate"].forEach(function (name) {
      player.addEventListener(name, syncScreen);
    });
  }

  // The player's own clock counts from its segment (0:00); the moments count from the first
  // entry. Under the player, where it is in the recording, said as the moments and the log
  // say a span (review_words.recording_time): « 16:50 de l'enregistrement », not « Seconde
  // 1011 » beside « 1 010 s – 1 026 s » (a review). Whole seconds while it plays, as a player
  // counts; paused, to the tenth as the moments are (a gap's bounds, a frame held as evidence).
  var clock = document.getElementById("player-clock");
  function showClock() {
    var t = cameraTime();
    var text = recordingTime(player.paused ? t : Math.floor(t), clock.getAttribute("data-decimal") || ".");
    clock.textContent = clock.getAttribute("data-label").replace("{t}", text);
  }
  if (player && clock) {
    ["loadedmetadata", "seeked", "timeupdate", "pause", "play"].forEach(function (name) {
      player.addEventListener(name, showClock);
    });
    showClock();
  }

  section.addEventListener("click", function (e) {
    var button = e.target.closest("button.seek");
    if (!button) return;
    markPlaying(button.closest(".mark"));
    seek(parseFloat(button.getAttribute("data-seek")));
  });

  // The evidence the recommendation (or a decision) cites links to its moment's row: the
  // link plays the recording from that second as the row's own button does, where it only
  // scrolled there and left the player at 0:00 (a reviewer's tour). A fact with no place in
  // the recording (a photo, a log line) has no button: its link only scrolls.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest('a.evidence[href^="#m-"]');
    if (!link) return;
    var row = document.getElementById(link.getAttribute("href").slice(1));
    var button = row && row.querySelector("button.seek");
    if (!button) return;
    markPlaying(row);
    seek(parseFloat(button.getAttribute("data-seek")));
  });

  // A still that cannot be made (no video at that second) leaves an empty frame, not a
  // broken image.
  section.addEventListener("error", function (e) {
    if (e.target.classList && e.target.classList.contains("still")) {
      e.target.classList.add("still--none");
      e.target.removeAttribute("src");
    }
  }, true);

  var form = document.getElementById("decision-form");
  if (!form) return;
  var label = form.getAttribute("data-label-count") || "";

  function refresh() {
    Array.prototype.forEach.call(form.querySelectorAll(".cited-count"), function (span) {
      var code = span.getAttribute("data-reason");
      var n = document.querySelectorAll(
        'input[form="decision-form"][data-reason="' + code + '"]:checked').length;
      span.textContent = n ? label + " " + n : "";
    });
    Array.prototype.forEach.call(section.querySelectorAll("details.cite"), function (d) {
      var n = d.querySelectorAll("input:checked").length;
      d.querySelector(".cite-count").textContent = n ? " (" + n + ")" : "";
    });
  }

  section.addEventListener("change", function (e) {
    var box = e.target;
    if (box.getAttribute("form") !== "decision-form" || !box.checked) { refresh(); return; }
    var reason = form.querySelector('input[name="reason"][value="' + box.getAttribute("data-reason") + '"]');
    if (reason && !reason.checked) {
      reason.checked = true;
      // decision.js opens the reasons again if « Validée » had greyed them.
      reason.dispatchEvent(new Event("change", { bubbles: true }));
    }
    refresh();
  });
  refresh();
})();

// The environment recordings beside the photos (R10) are the files the candidate's
// MediaRecorder wrote as it went: their WebM carries no duration, which Chromium reports as
// Infinity (a seek bar that cannot be used, and no frame shown). A seek past the end makes
// the browser read the file to its end and learn its duration; back at the start, it shows
// the first frame.
(function () {
  "use strict";
  // Its length written under it: at a card's width the browser's controls show only the
  // current time (« 0:00 », a reviewer at 1280 px), never the length.
  function sayLength(video) {
    var said = video.parentNode.querySelector(".media-length");
    var label = video.getAttribute("data-length-label");
    if (!said || !label || !Number.isFinite(video.duration)) return;
    var lang = document.documentElement.lang || undefined;
    var seconds = video.duration.toLocaleString(lang, { maximumFractionDigits: 1 });
    said.textContent = label.replace("{s}", seconds);
  }
  function learnDuration(video) {
    if (video.duration !== Infinity) { sayLength(video); return; }
    var back = function (e) {
      if (e.type === "durationchange" && video.duration === Infinity) return;
      video.removeEventListener("durationchange", back);
      video.removeEventListener("seeked", back);
      video.currentTime = 0;
      sayLength(video);
    };
    video.addEventListener("durationchange", back);
    video.addEventListener("seeked", back); // its end reached, known or not
    video.currentTime = 1e101;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".media video"), function (video) {
    video.addEventListener("loadedmetadata", function () { learnDuration(video); });
    if (video.readyState >= 1) learnDuration(video); // known before this script ran
  });
})();
