/* The exam tab (issue 13, point 4). Without this script the page still works: one form
   saves every answer at once. With it, each answer is saved as it is given (a fetch per
   change, never a reload, so the scroll position and the other questions' input stay), the
   navigator and a "saved" sign follow, the timer counts down, and finishing or leaving asks
   for a confirmation in a <dialog> (Escape closes it, focus comes back where it was). What
   was typed but is not saved yet survives a reload (F5) in this tab's sessionStorage, and the
   « Save the answer » buttons, for a browser without scripts, are hidden.
   It also keeps the heartbeat (R23) and tells the proctoring tab about its focus (issue 12). */
(function () {
  "use strict";
  var root = document.getElementById("exam");
  var state = root ? root.dataset.state : "gone";
  var exam = state === "in_progress";
  var base = root ? root.dataset.base : "";
  var token = root ? root.dataset.token : "";
  var saving = false;  // a form is being sent: leaving the page is not closing the tab

  function url(action) { return base + (action ? "/" + action : "") + "?t=" + token; }
  function words(name, values) {
    var text = root.dataset[name] || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }

  // A clock reading in the platform's zone, as the page's « ends at » is written: the
  // browser's own zone put « saved at 12:25:46 » beside « ends at 14:55 ».
  // On 24 hours in both languages, as the server writes « ends at 15:20 » (English said
  // « saved at 5:21:13 PM » beside « ends at 17:20 »: a reviewer's tour).
  function clock(date) {
    try {
      return date.toLocaleTimeString(root.dataset.lang, { timeZone: root.dataset.timeZone, hourCycle: "h23" });
    } catch (unknownZone) {  // a zone this browser does not know: its own, as before
      return date.toLocaleTimeString(root.dataset.lang, { hourCycle: "h23" });
    }
  }

  // Issue 12: the proctoring tab (the opener) hears when this tab has the focus, so moving
  // between the two Vigie tabs is never a flag; only leaving both is.
  function tell(message) {
    if (window.opener) window.opener.postMessage(message, "*");
  }
  function attention(focused) { tell({ vigie: "attention", focused: focused }); }
  window.addEventListener("focus", function () { attention(true); });
  window.addEventListener("blur", function () { attention(false); });
  attention(document.hasFocus());
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) saving = true;
  });
  // R23: once this tab is closed, the workspace is known lost at once, before the proctoring
  // window is closed (sending a form is neither). No « leave this page? » prompt: a
  // browser's modal prompt also stops the proctoring tab's heartbeat (both tabs share a
  // process), which would record that tab closed.
  var unsent = function () { /* set below, once the answers are known */ };
  window.addEventListener("pagehide", function () {
    if (saving) return;
    attention(false);
    unsent();
    if (exam && navigator.sendBeacon) navigator.sendBeacon(url("closed"));
  });

  if (state === "finished") tell({ vigie: "finished" });  // the portal shows the results
  if (state === "left" || state === "finished") {
    attention(false);
    window.close();  // allowed when a script opened this tab; otherwise the page says so
  }
  if (!root || state === "left" || state === "finished") return;

  // F6: the tab works only in the browser where the candidate is logged in. Logged out (here
  // or in the proctoring tab), or her session over: the server refuses (401, or 403 for
  // another account) with a sentence, said in the bar wherever she is, what she typed kept
  // in the page and sent again every 5 s, so it is saved once she is logged in again. No
  // reload: the page would lose what was typed.
  var sessionLost = null;  // the server's sentence while this browser is not hers
  // Not hers (a 403 may also be Safe Exam Browser's refusal, which says another reason).
  function isSessionRefusal(reply, data) {
    return (reply.status === 401 || reply.status === 403) &&
      (data.reason === "logged-out" || data.reason === "other-account");
  }
  function loseSession(sentence) {
    sessionLost = sentence || sessionLost || "";
    // The bar and the dialogs say it in their own words (short; finishing; leaving): shown,
    // not rewritten. The server's sentence goes beside the answer it refused.
    var box = document.getElementById("session-lost");
    if (box) box.hidden = false;
    document.querySelectorAll("[data-session-lost]").forEach(function (here) { here.hidden = false; });
  }
  function findSession() {
    if (sessionLost === null) return;
    sessionLost = null;
    var box = document.getElementById("session-lost");
    if (box) box.hidden = true;
    document.querySelectorAll("[data-session-lost]").forEach(function (here) { here.hidden = true; });
  }
  // A beat says whether this browser is still hers: resolves true when it is.
  function beat() {
    return fetch(url("beat"), { method: "POST", headers: { "X-Vigie-Fetch": "1" } }).then(function (reply) {
      // The workspace is over (the exam sent from the portal, or ended elsewhere): the page
      // says so, where its questions and a running « Temps restant » stayed until a reload
      // (a reviewer's check). Answers are saved as they are given: nothing is lost.
      if (reply.status === 410) window.location.reload();
      if (reply.ok) {
        findSession();
        return true;
      }
      return reply.json().catch(function () { return {}; }).then(function (data) {
        if (isSessionRefusal(reply, data)) loseSession(data.error);
        return false;
      });
    });
  }
  setInterval(function () {
    beat().catch(function () { /* the next beat retries */ });
    resend();
  }, 5000);
  if (!exam) return;

  // --- the timer, from the server's count at load and this machine's elapsed time ---------
  var remaining = document.getElementById("remaining");
  var status = document.getElementById("save-status");  // the "saved" sign, also the warnings
  var loadedAt = Date.now();
  var secondsAtLoad = parseInt(remaining.dataset.seconds, 10);
  var warned = secondsAtLoad <= 300;  // said once, when five minutes are left
  function tick() {
    var left = Math.max(0, secondsAtLoad - Math.floor((Date.now() - loadedAt) / 1000));
    if (!warned && left <= 300) {
      warned = true;
      say(words("fiveLeft"));
      status.classList.add("is-warning");
    }
    if (left === 0) {
      remaining.textContent = words("timeUp");
    } else if (left <= 300) {
      var s = left % 60;
      remaining.textContent = Math.floor(left / 60) + ":" + (s < 10 ? "0" : "") + s;
    } else {
      remaining.textContent = Math.floor(left / 60) + " min";
    }
    remaining.classList.toggle("is-short", left <= 300);
  }
  tick();
  setInterval(tick, 1000);

  // --- saving each answer as it is given ----------------------------------------------------
  var form = document.getElementById("answers");
  var questions = Array.prototype.slice.call(form.querySelectorAll("article.question"));
  var dirty = {};      // question id -> true while its last change is not saved
  var savedAt = 0;     // when an answer was last said saved (Date.now())
  var SAVED_STAYS_MS = 30000;
  var inFlight = {};   // question id -> a promise while it is being sent
  // question id -> what the server refused (the body sent): the same text is not sent again
  // by itself every 5 s, only once changed or when the candidate asks (« Save the answer »).
  var refused = {};
  var failed = {};     // question id -> true while its last save failed (refused or unsent)
  var cutNote = {};    // question id -> what a paste cut by the field's bound left out, said
  // question id -> true while the server holds an answer to it (from the page, then from
  // each save accepted): what finishing keeps of a question whose last change is not saved.
  var held = {};
  var byId = {};
  questions.forEach(function (article) {
    byId[article.dataset.question] = article;
    held[article.dataset.question] = article.hasAttribute("data-held");
  });

  function payload(article) {
    var id = article.dataset.question;
    var body = new URLSearchParams();
    body.append("question_id", id);
    var text = article.querySelector("input[name='answer-" + id + "']");
    if (text) body.append("answer", text.value);
    article.querySelectorAll("input[name='choice-" + id + "']:checked").forEach(function (box) {
      body.append("choice", box.value);
    });
    return body;
  }
  function isAnswered(article) {
    var id = article.dataset.question;
    var text = article.querySelector("input[name='answer-" + id + "']");
    if (text) return text.value.trim() !== "";
    return article.querySelector("input[name='choice-" + id + "']:checked") !== null;
  }
  function bodyAnswers(body) {
    return (body.get("answer") || "").trim() !== "" || body.getAll("choice").length > 0;
  }
  function isMarked(article) {
    return article.querySelector("input[name='mark']").checked;
  }
  // keepalive: an answer sent just before the tab is closed still arrives.
  function post(action, body) {
    return fetch(url(action), {
      method: "POST", body: body, headers: { "X-Vigie-Fetch": "1" }, credentials: "same-origin",
      keepalive: true
    }).then(function (reply) {
      return reply.json().catch(function () { return {}; }).then(function (data) {
        if (isSessionRefusal(reply, data)) throw { session: data.error || "" };
        if (!reply.ok) throw { refused: data.error || "", rule: data.rule || "" };
        if (sessionLost !== null) findSession();
        return data;
      });
    });
  }
  function say(text) {
    status.classList.remove("is-warning");
    status.textContent = text;
  }
  // Why an answer is not saved, said beside its question (the page's top may be far away).
  // A paste cut by the field's bound is a warning (what was kept is saved), not an error.
  function problem(article, text, warning) {
    var here = document.getElementById("q-" + article.dataset.question + "-problem");
    here.textContent = text;
    here.hidden = !text;
    here.classList.toggle("alert--warning", !!warning);
    here.classList.toggle("alert--error", !warning);
  }
  function number(n) { return n.toLocaleString(root.dataset.lang); }
  // The characters typed, against the server's bound (the field's maxlength), once near it.
  var limit = parseInt(root.dataset.limit, 10);
  function count(field) {
    var shown = document.getElementById(field.id + "-count");
    if (!shown || !(limit > 0)) return;
    var near = field.value.length >= limit * 0.9;
    shown.hidden = !near;
    shown.classList.toggle("is-full", field.value.length >= limit);
    if (near) shown.textContent = words("count", { count: number(field.value.length) });
  }

  function refresh() {
    var done = 0, marked = 0, unsaved = [];
    questions.forEach(function (article) {
      var id = article.dataset.question;
      var link = document.getElementById("nav-" + id);
      // An answer the server refused, or that did not reach it, counts as what the server
      // holds (what finishing keeps): the bar said « 0 of 10 answered » for a question whose
      // earlier answer was saved, where the finish dialog said « 1 / 10 » (a user's tour).
      var given = failed[id] ? held[id] : isAnswered(article);
      var answered = given && !dirty[id];
      var mark = isMarked(article);
      if (given) done += 1;
      if (mark) marked += 1;
      if (failed[id]) unsaved.push(article);
      link.classList.toggle("is-answered", answered);
      link.classList.toggle("is-unsaved", !!failed[id]);
      link.classList.toggle("is-marked", mark);
      link.querySelector(".navigator__state").textContent =
        words(given ? "answered" : "notAnswered") + (mark ? ", " + words("marked") : "");
    });
    document.getElementById("progress").textContent =
      words("progress", { done: done, total: questions.length });
    var dialog = document.getElementById("finish-dialog");
    dialog.querySelector("[data-count=answered]").textContent = done + " / " + questions.length;
    dialog.querySelector("[data-count=unanswered]").textContent = questions.length - done;
    dialog.querySelector("[data-count=marked]").textContent = marked;
    unsavedInDialog(dialog, unsaved);
    unsavedInDialog(document.getElementById("leave-dialog"), unsaved);
  }

  // The finish and leave dialogs name each answer not saved, what finishing (leaving) now
  // makes of it, and the way back to it; « Terminer l'examen » then reads « Terminer quand
  // même » (« Quitter quand même »), and the leave dialog says only the others are saved.
  var dialogWords = {
    "finish-dialog": { unanswered: "unsavedUnanswered", earlier: "unsavedEarlier", anyway: "finishAnyway" },
    "leave-dialog": { unanswered: "leaveUnanswered", earlier: "leaveEarlier", anyway: "leaveAnyway" }
  };
  var confirmLabel = {};  // dialog id -> its confirm button's own words
  var shownUnsaved = {};  // dialog id -> { question id -> true while the dialog names it }
  var shownKey = {};
  function unsavedInDialog(dialog, unsaved) {
    var name = dialog.id.replace("-dialog", "");
    var said = dialogWords[dialog.id];
    var confirmButton = dialog.querySelector("form [type=submit]");
    if (confirmLabel[dialog.id] === undefined) confirmLabel[dialog.id] = confirmButton.textContent;
    var key = unsaved.map(function (a) { return a.dataset.question + (held[a.dataset.question] ? "+" : "-"); }).join(" ");
    if (key === shownKey[dialog.id]) return;  // rebuilt only when it changes: the focus may be in it
    shownKey[dialog.id] = key;
    var shown = shownUnsaved[dialog.id] = {};
    var box = document.getElementById(name + "-unsaved");
    var list = box.querySelector("ul");
    list.textContent = "";
    unsaved.forEach(function (article) {
      var id = article.dataset.question;
      var n = article.dataset.number;
      shown[id] = true;
      var item = document.createElement("li");
      var sentence = document.createElement("p");
      sentence.textContent = words(held[id] ? said.earlier : said.unanswered, { n: n });
      var back = document.createElement("button");
      back.type = "button";
      back.className = "secondary btn-small";
      back.dataset.question = id;
      back.textContent = words("goTo", { n: n });
      back.addEventListener("click", function () { goBackTo(dialog, article); });
      item.appendChild(sentence);
      item.appendChild(back);
      list.appendChild(item);
    });
    box.hidden = unsaved.length === 0;
    if (unsaved.length) dialog.setAttribute("aria-describedby", name + "-unsaved");
    else dialog.removeAttribute("aria-describedby");
    var saved = document.getElementById(name + "-saved");
    if (saved) {  // « Vos réponses sont enregistrées » only when they all are
      saved.hidden = unsaved.length > 0;
      document.getElementById(name + "-others-saved").hidden = unsaved.length === 0;
    }
    confirmButton.textContent = unsaved.length ? words(said.anyway) : confirmLabel[dialog.id];
  }
  // The dialog closed, the question in view and its answer under the keyboard.
  function goBackTo(dialog, article) {
    var id = article.dataset.question;
    var field = document.getElementById("answer-" + id) ||
      article.querySelector("input[name='choice-" + id + "']") || article;
    opener = field;  // the dialog gives the focus back there
    dialog.close();
    article.scrollIntoView({ block: "start" });
  }

  function save(article) {
    var id = article.dataset.question;
    var number = article.dataset.number;
    if (inFlight[id]) {  // one request per question at a time; the last change is sent after
      return inFlight[id].then(function () { return dirty[id] ? save(article) : null; });
    }
    dirty[id] = false;
    say(words("saving", { n: number }));
    var body = payload(article);
    var sent = body.toString();
    inFlight[id] = post("answer", body).then(function () {
      var time = clock(new Date());
      savedAt = Date.now();
      delete refused[id];
      failed[id] = false;
      held[id] = bodyAnswers(body);
      dropDraft(id, sent);  // the server holds it (a later change keeps its own draft)
      problem(article, cutNote[id] || "", true);  // a paste that was cut stays said until the next edit
      say(words("saved", { n: number, time: time }));
    }, function (reason) {
      // Never « Saving… » for ever, never the typed text dropped: the field keeps it, the
      // question says why, the bar says it is not saved.
      dirty[id] = true;
      failed[id] = true;
      if (reason && reason.session !== undefined) {
        // Not this answer's fault: it is sent again as it stands once she is logged in.
        loseSession(reason.session);
        problem(article, reason.session);
        say(words("refused", { n: number }));
      } else if (reason && reason.refused) {
        refused[id] = sent;
        problem(article, reason.refused);
        say(words("refused", { n: number }));
      } else {  // the connection: sent again by the next beat (5 s), as before
        problem(article, words("unsavedHere"));
        say(words("refused", { n: number }));  // the long sentence is the question's
      }
      status.classList.add("is-warning");
    }).then(function () {
      inFlight[id] = null;
      refresh();
    });
    return inFlight[id];
  }
  // --- what was typed survives a reload (F5) -------------------------------------------------
  // An answer typed but not held by the server yet (the 0.7 s pause after typing, or a lost
  // connection) is kept in this tab's sessionStorage until it is: after F5 the field showed
  // the answer saved before, and the last words typed were gone (a user's tour). Per
  // workspace and question; nothing leaves this tab, and closing it forgets them.
  function draftKey(id) { return "vigie-draft:" + base + ":" + id; }
  function keepDraft(article) {
    try {
      sessionStorage.setItem(draftKey(article.dataset.question), payload(article).toString());
    } catch (unavailable) { /* storage refused (private mode, full): the page still saves */ }
  }
  function dropDraft(id, sent) {
    try {
      if (sessionStorage.getItem(draftKey(id)) === sent) sessionStorage.removeItem(draftKey(id));
    } catch (unavailable) { /* nothing was kept */ }
  }
  function restoreDrafts() {
    questions.forEach(function (article) {
      var id = article.dataset.question;
      var draft = null;
      try { draft = sessionStorage.getItem(draftKey(id)); } catch (unavailable) { return; }
      if (draft === null) return;
      if (draft === payload(article).toString()) { dropDraft(id, draft); return; }
      var body = new URLSearchParams(draft);
      if (body.get("question_id") !== id) return;
      var text = article.querySelector("input[name='answer-" + id + "']");
      if (text) {
        text.value = body.get("answer") || "";
        count(text);
      }
      var ticked = body.getAll("choice");
      article.querySelectorAll("input[name='choice-" + id + "']").forEach(function (box) {
        box.checked = ticked.indexOf(box.value) >= 0;
      });
      dirty[id] = true;
      save(article);  // sent again at once: the server holds it before anything else is typed
    });
  }

  function resend() {
    Object.keys(dirty).forEach(function (id) {
      if (!dirty[id] || inFlight[id]) return;
      if (refused[id] !== undefined && refused[id] === payload(byId[id]).toString()) return;
      save(byId[id]);
    });
  }
  // The tab is closing: what was typed but not sent yet (the pause after typing) goes now,
  // said to come from a closing tab so that it does not count as a heartbeat.
  unsent = function () {
    Object.keys(byId).forEach(function (id) {
      if (!dirty[id] || inFlight[id]) return;
      var body = payload(byId[id]);
      body.append("closing", "1");
      fetch(url("answer"), {
        method: "POST", body: body, headers: { "X-Vigie-Fetch": "1" }, keepalive: true
      });
    });
  };
  function flush() {
    return Promise.all(Object.keys(byId).map(function (id) {
      return dirty[id] || inFlight[id] ? save(byId[id]) : null;
    }));
  }

  var typing = {};
  form.addEventListener("input", function (event) {
    var article = event.target.closest("article.question");
    if (!article || event.target.name === "mark") return;
    var id = article.dataset.question;
    dirty[id] = true;
    keepDraft(article);
    if (event.target.id === "answer-" + id) count(event.target);
    if (event.inputType !== "insertFromPaste") delete cutNote[id];
    if (event.target.type === "text" || event.target.tagName === "TEXTAREA" || !event.target.type) {
      clearTimeout(typing[id]);
      typing[id] = setTimeout(function () { if (dirty[id]) save(article); }, 700);
    }
  });
  form.addEventListener("change", function (event) {
    var article = event.target.closest("article.question");
    if (!article) return;
    var id = article.dataset.question;
    if (event.target.name === "mark") {
      var body = new URLSearchParams();
      body.append("question_id", id);
      body.append("marked", event.target.checked ? "1" : "");
      post("mark", body).catch(function (reason) {
        if (reason && reason.session !== undefined) loseSession(reason.session);
        say(words("unsaved", { n: article.dataset.number }));
      });
      refresh();
      return;
    }
    clearTimeout(typing[id]);
    dirty[id] = true;
    keepDraft(article);
    save(article);
  });

  // « Save the answer » and the bar's buttons send the one form without a script; here they
  // save what is not saved yet, or open their dialog, without leaving the page.
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var by = event.submitter;
    if (by && by.id === "finish-open") { open("finish-dialog", by); return; }
    if (by && by.id === "leave-open") { open("leave-dialog", by); return; }
    // Only what changed is sent (an untouched question stays unanswered), then it is said:
    // an answer being saved says « Question 8 enregistrée à … » itself, which the general
    // « Vos réponses sont enregistrées. » replaced within 0.3 s (a reviewer could not read
    // the time); that one is for a click with nothing left to save.
    var pending = Object.keys(byId).some(function (id) { return dirty[id] || inFlight[id]; });
    // A choice is saved as it is ticked: the click that follows it finds nothing to send, and
    // its general sentence replaced the time just said (a reviewer's check). Said recently,
    // the time stays.
    var justSaid = Date.now() - savedAt < SAVED_STAYS_MS;
    flush().then(function () {
      if (pending || justSaid) return;
      if (!Object.keys(byId).some(function (id) { return dirty[id]; })) say(words("allSaved"));
    });
  });

  // --- the dialogs: keyboard first ---------------------------------------------------------
  var opener = null;
  function open(id, from) {
    var dialog = document.getElementById(id);
    opener = from;
    refresh();
    if (dialog.open) dialog.close();
    dialog.showModal();
  }
  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.querySelectorAll("[data-close]").forEach(function (link) {
      link.addEventListener("click", function (event) { event.preventDefault(); dialog.close(); });
    });
    dialog.addEventListener("close", function () { if (opener) opener.focus(); });
    var confirm = dialog.querySelector("form");
    confirm.addEventListener("submit", function (event) {
      // Not logged in as her any more (F6): finishing or leaving would only be refused, on a
      // page that replaces this one and what is typed in it. Asked again first (she may
      // have logged in since the last beat); the dialog says it while it is so.
      if (sessionLost !== null) {
        event.preventDefault();
        beat().then(function (hers) {
          if (hers) confirm.requestSubmit();
        }, function () { /* the connection: the dialog stays, the beat retries */ });
        return;
      }
      // Every answer reaches the server before the exam ends or the tab is left.
      if (Object.keys(byId).some(function (id) { return dirty[id] || inFlight[id]; })) {
        event.preventDefault();
        var seen = Object.assign({}, shownUnsaved[dialog.id]);  // what it said when confirmed
        flush().then(function () {
          // An answer refused on the way, which the dialog did not name when she confirmed:
          // it names it now, and she decides again.
          var news = Object.keys(byId).filter(function (id) { return failed[id] && !seen[id]; });
          if (news.length) {
            refresh();
            var first = dialog.querySelector(".alert button");
            if (first) first.focus();
            return;
          }
          saving = true;
          confirm.submit();
        });
      }
    });
  });
  // Opened by the server (the finish button sent without a script, then reloaded): modal.
  var asked = document.getElementById("finish-dialog");
  if (asked.open) { asked.close(); open("finish-dialog", document.getElementById("finish-open")); }

  // The navigator: jump to a question and put the keyboard there.
  document.querySelectorAll(".navigator__item").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var article = byId[link.dataset.question];
      if (!article) return;
      event.preventDefault();
      article.scrollIntoView({ block: "start" });
      article.focus({ preventScroll: true });
      history.replaceState(null, "", "#q-" + link.dataset.question + "");
    });
  });
  // A paste longer than the field holds is cut by the browser (maxlength) without a word:
  // the question says how many characters were left out, so the candidate can look.
  form.addEventListener("paste", function (event) {
    var field = event.target;
    var article = field.closest ? field.closest("article.question") : null;
    if (!article || !(field.maxLength > 0) || !event.clipboardData) return;
    var pasted = event.clipboardData.getData("text/plain").replace(/[\r\n]+/g, " ");
    var kept = field.value.length - (field.selectionEnd - field.selectionStart);
    var cut = kept + pasted.length - field.maxLength;
    if (cut <= 0) return;
    cutNote[article.dataset.question] = words("cut", { cut: number(cut) });
    problem(article, cutNote[article.dataset.question], true);
  });
  // Enter in an answer field saves that answer, as leaving the field does, and ends nothing:
  // the form's first submit button was « Terminer l'examen… », so Enter in a free-text answer
  // opened the end dialog (a reviewer's tour). Choices and the mark switch: nothing to do
  // (a tick is saved as it is given). A textarea keeps its Enter: a new line.
  form.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || event.isComposing || field.tagName !== "INPUT") return;
    if (/^(submit|button|reset|image)$/.test(field.type)) return;
    event.preventDefault();
    var article = field.closest("article.question");
    if (!article || field.name === "mark") return;
    clearTimeout(typing[article.dataset.question]);
    if (dirty[article.dataset.question]) save(article);
  });
  questions.forEach(function (article) {
    var field = document.getElementById("answer-" + article.dataset.question);
    if (field) count(field);
  });
  // Each answer saves itself (above): « Enregistrer la réponse » under every question is for
  // a browser without scripts. Here it only did what was already done (a user's tour); Enter
  // in an answer still saves it at once.
  form.querySelectorAll("button[name=save]").forEach(function (button) { button.hidden = true; });
  restoreDrafts();
  refresh();
})();
