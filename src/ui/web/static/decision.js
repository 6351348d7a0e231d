// The review's decision form (R19, R20): the reasons to invalidate and their justification
// belong to « Invalidée », the justifications against a ground to « Validée »
// (fieldset[data-verdict-only]). While the other verdict is chosen, a part that holds nothing
// is greyed and disabled: nothing can be typed where it would not count (an examiner typed a
// comment in the other breach's « Justification » under « Validée », and it was lost). A part
// that holds something stays open, with a note, so that it can be cleared: the server refuses
// a decision that sends it, saying so, and keeps what was typed. Without this script, that
// refusal alone protects.
(function () {
  "use strict";
  var form = document.getElementById("decision-form");
  if (!form) return;
  var parts = form.querySelectorAll("fieldset[data-verdict-only]");

  function holdsSomething(part) {
    return Array.prototype.some.call(part.querySelectorAll("input, textarea"), function (field) {
      if (field.type === "checkbox" || field.type === "radio") return field.checked;
      return field.value.trim() !== "";
    });
  }

  function sync() {
    var chosen = form.querySelector('input[name="verdict"]:checked');
    Array.prototype.forEach.call(parts, function (part) {
      var other = !!chosen && chosen.value !== part.getAttribute("data-verdict-only");
      var held = other && holdsSomething(part);
      part.disabled = other && !held;
      part.classList.toggle("is-other-verdict", other);
      var note = part.querySelector(".other-verdict-note");
      if (note) note.hidden = !held;
    });
  }

  // A reason ticked from a moment's « Citer » (playback.js) says so with a change event.
  form.addEventListener("change", sync);
  sync();
})();
