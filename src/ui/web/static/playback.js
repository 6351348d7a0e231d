// The examiner's player: a click on a flag or a segment plays the recording from that second
// (media time counts from the first entry; each segment knows where it starts).
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;
  var segments = Array.prototype.map.call(
    document.querySelectorAll("#recording-timeline .mark.segment"),
    function (li) {
      var button = li.querySelector("button");
      return {
        mediaId: button.getAttribute("data-segment"),
        start: parseFloat(li.getAttribute("data-start")),
        end: parseFloat(li.getAttribute("data-end"))
      };
    });

  function segmentAt(t) {
    for (var i = 0; i < segments.length; i++) {
      if (t <= segments[i].end) return segments[i]; // inside, or the next one after a gap
    }
    return segments[segments.length - 1];
  }

  function seek(t) {
    var segment = segmentAt(t);
    var offset = Math.max(0, t - segment.start);
    var go = function () { player.currentTime = offset; player.play().catch(function () {}); };
    player.setAttribute("data-seek-to", String(t));
    if (player.getAttribute("data-segment") !== segment.mediaId) {
      player.setAttribute("data-segment", segment.mediaId);
      player.setAttribute("data-segment-start", String(segment.start));
      player.src = "/media/sessions/" + segment.mediaId;
      player.addEventListener("loadedmetadata", go, { once: true });
      player.load();
    } else {
      go();
    }
  }

  document.getElementById("recording-timeline").addEventListener("click", function (e) {
    var button = e.target.closest("button.seek");
    if (button) seek(parseFloat(button.getAttribute("data-seek")));
  });
})();
