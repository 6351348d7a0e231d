// « Se déconnecter » while the proctored session runs (leaving.py): the page's dialog asks
// first, in the words of the moment. The server said the moment when the page was served
// (data-logout-phase); the portal moves on in place (journey.js swaps it, also into the
// checks' page), so its shown state says it again when asked. Without this script the form
// logs out at once, as before.
(function () {
  "use strict";

  var AFTER = { finished: true, results_shown: true };
  var SENT = { validated: true, quit: true };

  function phase(form) {
    if (document.getElementById("deferred")) return "";  // deferred (R14): closing is the way
    var portal = document.querySelector("#portal[data-status]");
    if (!portal) return form.getAttribute("data-logout-phase") || "";
    var status = portal.getAttribute("data-status");
    if (status === "in_progress") return "exam";
    if (AFTER[status]) return "after";
    if (SENT[status]) return "";
    return "before";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var dialogId = form.getAttribute && form.getAttribute("data-logout-dialog");
    if (!dialogId) return;
    var dialog = document.getElementById(dialogId);
    if (event.submitter && event.submitter.hasAttribute("data-confirmed")) {
      if (dialog && dialog.open) dialog.close();
      // Confirmed in words: the browser's own « leave the page? » would ask a second time.
      window.vigieLeaving = true;
      return;
    }
    var now = phase(form);
    if (!now || !dialog || !dialog.showModal) return;
    // Only the moments from the served one on are in the page (it moves on, never back).
    if (!dialog.querySelector("[data-logout-part='" + now + "']")) {
      now = form.getAttribute("data-logout-phase");
    }
    event.preventDefault();
    dialog.querySelectorAll("[data-logout-part]").forEach(function (part) {
      part.hidden = part.getAttribute("data-logout-part") !== now;
    });
    dialog.setAttribute("aria-labelledby", "logout-title-" + now);
    dialog.showModal();
  }, true);

  // « Ne pas me déconnecter » closes it (also where journey.js is not loaded).
  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("#logout-dialog [data-close-dialog]");
    if (!closer) return;
    var dialog = closer.closest("dialog");
    if (dialog && dialog.open) dialog.close();
  });
})();
