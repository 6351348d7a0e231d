"""A refused decision's problems in the reader's words, each with the place it belongs to:
the review page shows every one beside its field, the JSON API names each field. (A user's
tour: the form said one problem per « Enregistrer la décision », the first the domain met.)

The domain names each problem (`domain.review.Problem`), its rule and its field; the words
are here, in French and English, never a rule code as the message."""

from __future__ import annotations

from dataclasses import dataclass

from domain.evidence import ReasonCode
from domain.review import DecisionProblem, Field, Problem
from ui.web.i18n import N_, gettext_for
from ui.web.review_words import reason_words

# What to do next, per problem; « %(reason)s » is the reason (or the ground's), « %(n)s »
# the words needed, « %(given)s » the words given.
PROBLEM_WORDS: dict[Problem, str] = {
    Problem.VALIDATION_CITES_REASONS: N_(
        "A validation cites no reason to invalidate: untick the reasons and empty their "
        "justifications, or choose “Invalidated”."
    ),
    Problem.NO_REASON: N_(
        "To invalidate, tick at least one reason, then the moments that show it in the list "
        "beside the player (“Cite”)."
    ),
    Problem.NO_EVIDENCE: N_(
        "“%(reason)s” cites no moment: tick at least one in the list beside the player (“Cite”)."
    ),
    Problem.UNKNOWN_EVIDENCE: N_(
        "“%(reason)s” cites a moment this review does not hold: cite it again from the list "
        "beside the player."
    ),
    Problem.OTHER_UNJUSTIFIED: N_(
        "“%(reason)s” needs a written justification of at least %(n)s words (%(given)s given)."
    ),
    Problem.FLAG_UNJUSTIFIED: N_(
        "“%(reason)s” rests on detector flags alone, and the recommendation is “validated”: "
        "a flag is a hint, never a verdict. Write in its justification what you saw in the "
        "recording, in at least %(n)s words (%(given)s given)."
    ),
    Problem.FLAG_UNJUSTIFIED_UNCITED: N_(
        "“%(reason)s” needs its justification too, the recommendation being “validated”: "
        "unless it cites a moment other than a detector flag (a flag is a hint, never a "
        "verdict), write in it what you saw in the recording, in at least %(n)s words "
        "(%(given)s given)."
    ),
    Problem.REASON_TWICE: N_(
        "“%(reason)s” is given twice: the use of a phone is either a reason to invalidate or "
        "excused (“Phone exception”), not both."
    ),
    Problem.ONLY_PHONE_EXCUSED: N_("Only the use of a phone can be excused."),
    Problem.EXCUSE_UNPROVEN: N_(
        "Phone exception: tick the record of the technical problem that excuses it; without "
        "one, the phone cannot be excused."
    ),
    Problem.OVERRIDES_ON_INVALIDATION: N_(
        "The justifications against a ground are for a validation: to invalidate, leave them empty."
    ),
    Problem.NOT_A_GROUND: N_(
        "A justification names a ground the recommendation does not give: there is nothing "
        "to decide against."
    ),
    Problem.GROUND_OVERRIDDEN_TWICE: N_("Each ground is justified once."),
    Problem.GROUND_UNJUSTIFIED: N_(
        "The ground “%(reason)s” stands against a validation: write here why you validate "
        "anyway (at least %(n)s words), or invalidate."
    ),
    Problem.GROUND_JUSTIFICATION_SHORT: N_(
        "The justification against “%(reason)s” needs at least %(n)s words (%(given)s given)."
    ),
}

# A justification typed for a reason that is not ticked (refused at the edge: the domain
# hears only of the reasons cited).
STRAY_JUSTIFICATION = N_(
    "This justification is filled but its reason is not ticked: tick “%(reason)s” and cite "
    "its moments, or empty the field."
)


@dataclass(frozen=True)
class Said:
    """One problem in words, and where it is shown: `place` is the form part's anchor
    (`reasons`, `reason-<code>`, `excused`, `overrides`, `override-<i>`)."""

    place: str
    text: str


def place_of(problem: DecisionProblem) -> str:
    """The part of the review form a problem is shown beside."""
    if problem.field in (Field.EVIDENCE, Field.JUSTIFICATION) and problem.reason is not None:
        return f"reason-{problem.reason.value}"
    if problem.field is Field.REASONS and problem.problem is Problem.REASON_TWICE:
        assert problem.reason is not None
        return f"reason-{problem.reason.value}"
    if problem.field is Field.OVERRIDE and problem.ground is not None:
        return f"override-{problem.ground}"
    return problem.field.value


def problem_words(problem: DecisionProblem, language: str) -> str:
    """One problem as the examiner reads it, in her language."""
    _ = gettext_for(language)
    reason = reason_words(problem.reason, language) if problem.reason is not None else ""
    return _(
        PROBLEM_WORDS[problem.problem],
        reason=reason,
        n=str(problem.needed),
        given=str(problem.given),
    )


def said(
    problems: tuple[DecisionProblem, ...], strays: tuple[ReasonCode, ...], language: str
) -> list[Said]:
    """Every problem in words with its place, in the form's order; the justifications typed
    for a reason not ticked (`strays`) beside their reason."""
    _ = gettext_for(language)
    lines = [Said(place_of(p), problem_words(p, language)) for p in problems]
    lines += [
        Said(
            f"reason-{code.value}",
            _(STRAY_JUSTIFICATION, reason=reason_words(code, language)),
        )
        for code in strays
    ]
    return lines
