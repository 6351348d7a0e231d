"""The guide's rules (R1–R26, design/product.md) in a sentence each, in the page's language.

Rules are named by their code in the domain, the tests and the logs, so a refusal traces back
to the guide; people read what the rule says. A page names a rule with `rule_reference`: the
rule's sentence, its code kept as a secondary reference (a `title` and `data-rule`), and
written out only where tracing to the guide is the point of the page (the auditor's replay,
`code_shown`). The staff pages showed « Motifs d'invalidation règle R20 », « Renouveler la
session règle R3 » and a tooltip « R20 — 1 detector flag(s)… » in English (a user's tour).

A name that is not one of the guide's rules (the domain's own, « APPEAL-ONCE »,
« ACCOMMODATION-BEFORE-START ») has no sentence: the refusal's own sentence says it all, and
the code stays in `data-rule` only. The numbers are the current rule set's (`CURRENT_RULES`);
every rule set so far has the same."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from domain.rules import CURRENT_RULES, RuleSet
from ui.web.i18n import DEFAULT_LANGUAGE, N_, gettext_for

RULE_SENTENCES: dict[str, str] = {
    "R1": N_(
        "An exam session is created by the enrolment's last day (day %(days)s), that day included."
    ),
    "R2": N_(
        "Creating the exam session: created (a welcome mail follows), already there (no "
        "second mail), or with live supervision (a slot in office hours agreed with the "
        "hotline, then a screen-sharing link)."
    ),
    "R3": N_(
        "The first exam session is valid %(first)s days; it may be renewed, never past day "
        "%(days)s of the enrolment."
    ),
    "R4": N_(
        "The exam lasts %(exam_min)s to %(exam_max)s minutes depending on the certification; "
        "the whole proctored session at most %(budget)s minutes."
    ),
    "R5": N_("The terms of use are accepted once, at the first connection."),
    "R6": N_(
        "The first entry is “Exam”; each later one is “Resume the exam”, with a reason of at "
        "least %(words)s words."
    ),
    "R7": N_(
        "Before the checks: the exam's instructions read, the designer's rules and the general "
        "conditions attested, secure mode acknowledged."
    ),
    "R8": N_(
        "Equipment check: sound heard, microphone recording started then stopped, camera, "
        "connection test."
    ),
    "R9": N_(
        "Identity: a face photo, then a photo of the ID document; a missing one invalidates "
        "the exam."
    ),
    "R10": N_(
        "The surroundings are recorded in order: ears (no earphones), room (alone), desk (only "
        "the ID and the computer); the exam starts after the third."
    ),
    "R11": N_(
        "The exam portal's account: its e-mail is the proctoring one and never changes; the "
        "profile asks a password, names, title, birth date and place."
    ),
    "R12": N_("A practice questionnaire may be offered; it never counts."),
    "R13": N_("The exam to take is the tile marked “To start”."),
    "R14": N_(
        "Before “Start” the candidate may defer and come back; “Validate the exam” is used "
        "only after the exam."
    ),
    "R15": N_(
        "“I start now”, the exam workspace connects, its instructions, then “Start”: the exam "
        "opens in a new tab."
    ),
    "R16": N_("An exam is started and finished on the same day."),
    "R17": N_(
        "During the exam two tabs stay open, the exam and the proctoring; closing the "
        "proctoring tab invalidates the exam."
    ),
    "R18": N_(
        "At the end: the detailed results, then “Validate the exam”, the displayed code typed "
        "back, and “Yes, send”."
    ),
    "R19": N_(
        "One examiner reviews each recording within %(review)s days and validates or "
        "invalidates it; the results are sent after the review."
    ),
    "R20": N_(
        "An invalidation cites reasons from the guide's closed list, any other breach with a "
        "written justification; a phone is allowed only for a proven technical problem."
    ),
    "R21": N_(
        "Someone may help at connection time; from the exam's start the candidate must be alone."
    ),
    "R22": N_("“Leave the certification”, then “Leave”, ends the attempt for good."),
    "R23": N_(
        "Blocked screen: close the exam tab, then the proctoring window, and log in again from "
        "the welcome mail; the exam resumes."
    ),
    "R24": N_("The proctoring and portal passwords are reset through a link sent by e-mail."),
    "R25": N_("The pages are in French and in English."),
    "R26": N_(
        "The support contact (e-mail, phone, chat) is on every page a candidate sees and in "
        "every mail."
    ),
}


def _numbers(rules: RuleSet) -> dict[str, int]:
    return {
        "days": rules.enrollment_days,
        "first": rules.first_validity_days,
        "exam_min": rules.exam_min_minutes,
        "exam_max": rules.exam_max_minutes,
        "budget": rules.session_budget_minutes,
        "words": rules.resume_reason_min_words,
        "review": rules.review_days,
    }


def rule_sentence(language: str, rule: str, rules: RuleSet = CURRENT_RULES) -> str:
    """What the guide's rule says, in `language`; "" for a name that is not one of them."""
    sentence = RULE_SENTENCES.get(rule)
    if sentence is None:
        return ""
    return gettext_for(language)(sentence, **_numbers(rules))


def rule_title(language: str, rule: str) -> str:
    """The rule for a `title` (a tooltip): its sentence, then its code in brackets as a
    secondary reference; "" for a name that is not one of the guide's rules."""
    _ = gettext_for(language)
    sentence = rule_sentence(language, rule)
    if not sentence:
        return ""
    return _("The guide: %(sentence)s (%(rule)s)", sentence=sentence, rule=rule)


def rule_reference(language: str, rule: str, *, code_shown: bool = False) -> Markup:
    """The rule as a page shows it after what it governs: « Le guide : <its sentence> »,
    muted (`.rule-ref`, hidden on a candidate's page), its code in the `title`; with
    `code_shown` (the auditor's page) « règle R17 — <its sentence> ». A name that is not one
    of the guide's rules: an empty reference that only carries it (`data-rule`)."""
    _ = gettext_for(language)
    sentence = rule_sentence(language, rule)
    if not sentence:
        return Markup('<span class="rule-ref" data-rule="%s"></span>') % rule
    if code_shown:
        words = _("rule %(rule)s", rule=rule) + " — " + sentence
        return Markup('<span class="rule-ref" data-rule="%s">%s</span>') % (rule, words)
    return Markup('<span class="rule-ref" data-rule="%s" title="%s">%s</span>') % (
        rule,
        _("The guide's rule %(rule)s", rule=rule),
        _("The guide: %(sentence)s", sentence=sentence),
    )


def install(globals_: dict[str, Any]) -> None:
    """`{{ rule_ref("R20") }}` and `title="{{ rule_title(f.rule) }}"` in every template, in
    the page's language."""

    @pass_context
    def rule_ref(page: Context, rule: str, code_shown: bool = False) -> Markup:
        return rule_reference(page.get("lang", DEFAULT_LANGUAGE), rule, code_shown=code_shown)

    @pass_context
    def title(page: Context, rule: str) -> str:
        return rule_title(page.get("lang", DEFAULT_LANGUAGE), rule)

    globals_["rule_ref"] = rule_ref
    globals_["rule_title"] = title
