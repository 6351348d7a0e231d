// The checks (R7–R10) and the portal (R11–R18) in one document (issue 12): every button posts
// with fetch and the server answers with the next step's fragment, swapped in place. The
// proctoring connection (proctoring.js) and its recording live as long as this document: no
// page load between checks, to the portal, or between portal actions. A refusal is shown in
// place (#refusal, role=alert). Without this script the same forms load full pages.
(function () {
  "use strict";
  var journey = document.getElementById("journey");
  if (!journey || !window.fetch) return;
  var refusal = document.getElementById("refusal");
  var polling = null;
  var busy = false;
  var latest = 0; // only the newest request's answer is shown (a slow poll never undoes a click)

  function csrf() {
    var m = document.cookie.match(/(?:^|; )vigie_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function refuse(html) {
    clearFieldErrors();
    refusal.innerHTML = html;
    refusal.hidden = false;
    besideItsField();
  }

  // A refusal that names a form field of the step (data-field) is shown beside that field,
  // which is marked invalid and focused: a « Civilité » refused under « Créer » left the
  // candidate looking for what to change (a reviewer's check). Pico styles the pair. Several
  // fields refused at once (the profile) each get their own sentence; one the page does not
  // show stays in the refusal above.
  function besideItsField() {
    var first = null;
    refusal.querySelectorAll("[data-field]").forEach(function (said) {
      var field = besideOne(said);
      if (!field) return;
      first = first || field;
      said.remove(); // said beside its field now; what no field took stays above
    });
    if (!first) return;
    if (!refusal.textContent.trim()) {
      refusal.textContent = "";
      refusal.hidden = true;
    }
    first.focus();
  }

  function besideOne(said) {
    var name = said.getAttribute("data-field");
    var field = null;
    journey.querySelectorAll("[name]").forEach(function (el) {
      // Only a field the candidate sees: the message would be lost beside a hidden one.
      if (!field && el.name === name && el.type !== "hidden" && el.getClientRects().length) field = el;
    });
    if (!field) return null;
    var note = document.createElement("small");
    note.className = "field-error";
    note.id = "field-error-" + name;
    note.setAttribute("role", "alert");
    note.innerHTML = said.innerHTML; // the server's own sentence (and the rule's reference)
    field.setAttribute("aria-invalid", "true");
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("data-described", described || "");
    field.setAttribute("aria-describedby", ((described || "") + " " + note.id).trim());
    field.insertAdjacentElement("afterend", note);
    // Cleared as the person types (input), not on leaving the field (change): the note under
    // the last field vanished as « Créer » was pressed, the button moved up, and the click
    // landed beside it.
    field.addEventListener("input", function () { clearOne(field, note); }, { once: true });
    return field;
  }

  function clearOne(field, note) {
    // A note cleared already (a later refusal replaced it): its listener leaves the new one.
    if (!note.isConnected) return;
    note.remove();
    var before = field.getAttribute("data-described");
    if (before) { field.setAttribute("aria-describedby", before); } else { field.removeAttribute("aria-describedby"); }
    field.removeAttribute("aria-invalid");
    field.removeAttribute("data-described");
  }

  function clearFieldErrors() {
    journey.querySelectorAll(".field-error").forEach(function (note) { note.remove(); });
    journey.querySelectorAll("[aria-invalid='true'][data-described]").forEach(function (field) {
      var before = field.getAttribute("data-described");
      if (before) { field.setAttribute("aria-describedby", before); } else { field.removeAttribute("aria-describedby"); }
      field.removeAttribute("aria-invalid");
      field.removeAttribute("data-described");
    });
  }

  // Swap the step in place, keep the address bar on the step's address (a reload, or coming
  // back later, lands on the same step), and let checks.js bind the new buttons.
  function swap(html, url) {
    journey.innerHTML = html;
    refusal.textContent = "";
    if (url && url !== window.location.href) window.history.replaceState(null, "", url);
    document.dispatchEvent(new CustomEvent("vigie:step"));
    schedulePoll();
    var heading = journey.querySelector("h2, h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
  }

  function request(url, options) {
    options.headers = { "x-vigie-fragment": "1", "x-csrftoken": csrf() };
    options.credentials = "same-origin";
    var mine = ++latest;
    return fetch(url, options).then(function (reply) {
      return reply.text().then(function (html) {
        if (mine !== latest) return reply.ok;
        if (reply.redirected && new URL(reply.url).pathname === "/login") { // logged out meanwhile
          window.location.href = reply.url; // after a form: « not recorded »
          return false;
        }
        if (reply.ok) { swap(html, reply.url); return true; }
        // 503: nothing was recorded and the same request may simply be sent again (a full
        // media disk, issue 14); a refusal (409, 422) asks for something else.
        window.vigieJourney.retryable = reply.status === 503;
        refuse(html);
        return false;
      });
    }, function () {
      window.vigieJourney.retryable = true;
      refuse("<p>" + refusal.getAttribute("data-label-offline") + "</p>");
      return false;
    });
  }

  // Other scripts (checks.js) post through the same path, so their refusals land in place too.
  window.vigieJourney = {
    post: function (url, body) { return request(url, { method: "POST", body: body }); },
    refresh: function () { return request(window.location.pathname, { method: "GET" }); },
    refuse: refuse,
    // What the refusal asked for is done (a photo taken after « Prenez d'abord la photo »):
    // the red sentence went on saying it under « ✓ Photo prise » (a reviewer's finding).
    settled: function () { clearFieldErrors(); refusal.textContent = ""; refusal.hidden = true; },
    retryable: false  // whether the last refused request may be sent again as it was
  };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !journey.contains(form) || busy) return;
    event.preventDefault();
    // Sent as the browser would send the form, in its own encoding.
    var body = new FormData(form);
    if (form.enctype !== "multipart/form-data") body = new URLSearchParams(body);
    if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
    // R15: « Commencer » opens the exam in a new tab. It is opened now, while the click
    // still allows it, and pointed at the exam once the server has begun it.
    var examTab = form.hasAttribute("data-opens-exam") ? window.open("", "vigie-exam") : null;
    if (examTab) document.dispatchEvent(new CustomEvent("vigie:exam-tab-opened"));
    busy = true;
    // The button turns to a spinner while the server answers (Pico's aria-busy): on a slow
    // server « Continuer » and the exam's tile took up to 10 s with nothing to say the click
    // was taken, which invites a second one (a reviewer's first run).
    var pressed = event.submitter;
    if (pressed) pressed.setAttribute("aria-busy", "true");
    request(form.action, { method: "POST", body: body }).then(function (ok) {
      busy = false;
      if (pressed) pressed.removeAttribute("aria-busy");
      var link = document.getElementById("exam-tab");
      if (examTab && ok && link) examTab.location.href = link.href;
      else if (examTab) examTab.close();
      // The browser refused the new tab: say so above the link that opens it.
      var blocked = document.getElementById("exam-tab-blocked");
      if (!examTab && ok && blocked && form.hasAttribute("data-opens-exam")) blocked.hidden = false;
    });
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-inplace]");
    if (!link || !journey.contains(link)) return;
    event.preventDefault();
    request(link.href, { method: "GET" });
  });

  // "Je démarre maintenant": the worker prepares the workspace within seconds; the page asks
  // again until it is connected (the instructions and « Commencer ») or failed.
  function schedulePoll() {
    if (polling) { clearTimeout(polling); polling = null; }
    var waiting = journey.querySelector("[data-poll]");
    if (!waiting) return;
    polling = setTimeout(function () {
      polling = null;
      window.vigieJourney.refresh();
    }, parseInt(waiting.getAttribute("data-poll"), 10) || 2000);
  }
  schedulePoll();
})();

// The portal's own behaviour (R15–R22), kept apart from the steps above. Everything is bound
// on the document, so it keeps working when a step is swapped in place.
(function () {
  "use strict";

  // « Terminer l'examen » and « Quitter la certification » ask first, in a dialog: a form with
  // data-confirm="<dialog id>" opens its dialog; the dialog's own button (data-confirmed)
  // sends the form. Without the script the forms post directly (quitting still needs its box).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var dialogId = form.getAttribute && form.getAttribute("data-confirm");
    if (!dialogId) return;
    // data-confirm-when: ask only while the page matches it.
    var when = form.getAttribute("data-confirm-when");
    if (when && !document.querySelector(when)) return;
    if (event.submitter && event.submitter.hasAttribute("data-confirmed")) {
      var open = document.getElementById(dialogId);
      if (open && open.open) open.close();
      return;
    }
    var dialog = document.getElementById(dialogId);
    if (!dialog || !dialog.showModal) return;
    event.preventDefault();
    dialog.showModal();
    if (dialogId === "finish-dialog") countUnanswered();
  }, true);

  // « Terminer l'examen ? » says how many questions are still unanswered, as the exam tab
  // counts them. The answers are given in the other tab, so the count of this page's load is
  // brought up to date from the server when the dialog opens (a user's tour finished by
  // mistake with questions left); without an answer the page's count stays.
  function showCount(blank, total) {
    var some = document.getElementById("finish-unanswered");
    var none = document.getElementById("finish-all-answered");
    if (!some || !none) return;
    some.textContent = some.getAttribute("data-label")
      .replace("{n}", String(blank)).replace("{total}", String(total));
    none.textContent = none.getAttribute("data-label").split("{total}").join(String(total));
    some.hidden = blank === 0;
    none.hidden = blank !== 0;
  }
  function countUnanswered() {
    var portal = document.querySelector("#portal[data-state-url]");
    if (!portal) return;
    fetch(portal.getAttribute("data-state-url"), { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (state) {
        if (!state || state.unanswered === undefined) return;
        showCount(parseInt(state.unanswered, 10), parseInt(state.questions, 10));
      }, function () { /* the page's own count stays */ });
  }

  // R12: the practice questionnaire points out each question left blank before it is
  // scored (« Soumettre » on an empty form scored 0 %, a user's tour): each is marked « Sans
  // réponse »; with some answered, a dialog asks to confirm (data-practice="<dialog id>");
  // with none, nothing is sent. Without the script the server refuses an empty one.
  function answered(question) {
    var found = false;
    question.querySelectorAll("input").forEach(function (input) {
      var choice = input.type === "radio" || input.type === "checkbox";
      if (choice ? input.checked : input.value.trim()) found = true;
    });
    return found;
  }

  function markBlanks(form) {
    var blanks = [];
    form.querySelectorAll("[data-practice-question]").forEach(function (question) {
      var note = question.querySelector(".practice-blank");
      var given = answered(question);
      if (note) note.hidden = given;
      if (!given) blanks.push(question);
    });
    return blanks;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var dialogId = form.getAttribute && form.getAttribute("data-practice");
    if (!dialogId) return;
    var dialog = document.getElementById(dialogId);
    var blanks = markBlanks(form);
    var total = form.querySelectorAll("[data-practice-question]").length;
    var empty = document.getElementById("practice-empty");
    if (empty) empty.hidden = blanks.length < total;
    if (blanks.length && blanks.length === total) {
      event.preventDefault();
      var first = blanks[0].querySelector("input");
      if (first) first.focus();
      return;
    }
    if (!blanks.length) return;
    if (event.submitter && event.submitter.hasAttribute("data-confirmed")) {
      if (dialog && dialog.open) dialog.close();
      return;
    }
    if (!dialog || !dialog.showModal) return;
    event.preventDefault();
    var count = document.getElementById(dialogId + "-count");
    if (count) {
      count.textContent = count.getAttribute("data-label")
        .replace("{n}", String(blanks.length)).replace("{total}", String(total));
    }
    dialog.showModal();
  }, true);

  // An answer given clears its question's mark, and the « nothing answered » line.
  function answering(event) {
    var question = event.target.closest && event.target.closest("[data-practice-question]");
    if (!question || !answered(question)) return;
    var note = question.querySelector(".practice-blank");
    if (note) note.hidden = true;
    var empty = document.getElementById("practice-empty");
    if (empty) empty.hidden = true;
  }
  document.addEventListener("input", answering);
  document.addEventListener("change", answering);

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    var closer = target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    if (target.closest("[data-print]")) window.print();
  });

  // The time left ticks every second from the server's count (the candidate's clock may be
  // wrong; only the elapsed time is measured here).
  var ticking = null;
  function tick() {
    if (ticking) { clearInterval(ticking); ticking = null; }
    var shown = document.getElementById("remaining");
    if (!shown) return;
    var ends = Date.now() + 1000 * parseInt(shown.getAttribute("data-seconds"), 10);
    function show() {
      var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      if (!document.body.contains(shown)) { clearInterval(ticking); ticking = null; return; }
      if (left === 0) {
        if (shown.textContent !== shown.getAttribute("data-label-over")) document.dispatchEvent(new Event("vigie:time-up"));
        shown.textContent = shown.getAttribute("data-label-over");
        return;
      }
      // Read as the exam tab reads it (workspace.js): « 89 min », then minutes and seconds in
      // red for the last five. The portal said « 1:29:55 » beside the exam tab's « 89 min »
      // for the same time left (a user tour).
      var s = left % 60;
      shown.textContent = left <= 300 ? Math.floor(left / 60) + ":" + (s < 10 ? "0" : "") + s
        : Math.floor(left / 60) + " min";
      shown.classList.toggle("is-short", left <= 300);
    }
    show();
    ticking = setInterval(show, 1000);
  }
  document.addEventListener("vigie:step", tick);
  tick();

  // The exam can end without this tab: finished in the exam tab, its time up (the worker
  // closes it), its workspace lost. This tab went on showing the time left, « Rouvrir » and
  // « Terminer l'examen » until reloaded, under an exam tab that said the results were here
  // (a user tour). During the exam it asks the server for the portal's phase (one word) when
  // the exam tab says it finished, when this tab comes back into view or gets the focus, when
  // its time is up, and every 15 s besides (a tab in the background, the exam tab opened
  // without this one as its opener); it shows the next state as soon as the phase differs.
  // Asking decides nothing: the server's page is the truth.
  var WATCH_MS = 15000;
  var asking = false;
  function watched() { return document.querySelector("#portal[data-status='in_progress'][data-state-url]"); }
  function check() {
    var portal = watched();
    if (!portal || asking || !window.vigieJourney) return;
    asking = true;
    fetch(portal.getAttribute("data-state-url"), { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (state) {
        asking = false;
        if (!state || !state.phase || state.phase === portal.getAttribute("data-phase")) return;
        // A dialog open on the old state (« Terminer l'examen ? ») is not pulled from under
        // the click: the next check moves on once it is closed.
        if (!document.body.contains(portal) || document.querySelector("#journey dialog[open]")) return;
        window.vigieJourney.refresh();
      }, function () { asking = false; });  // the next check asks again
  }
  setInterval(check, WATCH_MS);
  window.addEventListener("focus", check);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") check();
  });
  window.addEventListener("message", function (event) {
    if (event.data && event.data.vigie === "finished") check();
  });
  document.addEventListener("vigie:time-up", function () { setTimeout(check, 3000); });

  // Closing this tab during the exam interrupts the recording: the browser asks first.
  window.addEventListener("beforeunload", function (event) {
    // A log-out confirmed in the page's own dialog (leaving.js) has asked already.
    if (window.vigieLeaving || !document.querySelector("#portal[data-status='in_progress']")) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
