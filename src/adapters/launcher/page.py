"""The exam tab's page: the questions, the navigator, the timer and the support, in the
candidate's language (issue 13, point 4).

The page has the platform's look: served by the platform itself under its base URL (issue
15), it links Pico and `vigie.css` from the platform's /static, where the exam tab's own
script and styles (`static/` here, added to the web edge's static folders) are served too,
all from the same origin, within the platform's CSP (no inline code).

Words come from this package's catalogue (`locale/fr/LC_MESSAGES/exam.po`), English being
the source language; dates and times are formatted by Babel in the centre's time zone.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment, StrictUndefined

from app.catalogues import translations
from app.exam_desk import DeskQuestion, DeskView
from app.mail_rendering import SupportContact
from app.time_format import Style, TimeFormatter
from domain.bounds import LIMITS
from domain.errors import DomainError, InvalidArgument, RuleBroken, TooLong
from domain.exam_paper import QuestionKind

LOCALE = Path(str(resources.files("adapters.launcher") / "locale"))
LANGUAGES = ("fr", "en")

_ENV = Environment(autoescape=True, undefined=StrictUndefined)
_PAGE = _ENV.from_string(
    (resources.files("adapters.launcher") / "workspace_page.jinja").read_text(encoding="utf-8")
)

# The tab's own script and styles, served under /static by the web edge.
STATIC_DIR = Path(str(resources.files("adapters.launcher") / "static"))


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Marks a message for extraction; it is translated where it is shown."""
    return message


# A refusal in words for people, by the rule the domain named; the rule itself is only shown
# as a discreet reference. The domain's own text is written for developers and logs.
REFUSALS: dict[str, str] = {
    "R4": N_(
        "The exam's time is over: the answers saved before the end are kept. Go back to "
        "the proctoring tab (Vigie) to see your results."
    ),
    "R15": N_(
        "This exam is no longer in progress, so answers cannot be changed here. Go back to "
        "the proctoring tab (Vigie)."
    ),
    "R18": N_(
        "This exam is already finished. Go back to the proctoring tab (Vigie) to see your results."
    ),
    "R1": N_(
        "Your enrolment no longer allows answering today. Contact the support: their "
        "details are at the bottom of this page."
    ),
    "R3": N_(
        "Your exam session is no longer valid. Contact the support: their details are at "
        "the bottom of this page."
    ),
}
# Issue 16: why the exam tab refused a request, by app.safe_exam_browser.SebRefusal's value.
SEB_REFUSALS: dict[str, str] = {
    "not-seb": N_(
        "This page was not opened in Safe Exam Browser. Open your exam from Safe Exam "
        "Browser, started with the configuration file your training centre gave you."
    ),
    "config-key": N_(
        "Safe Exam Browser is not running with this exam's configuration. Quit it, then "
        "start it again by opening the configuration file your training centre gave you for "
        "this exam."
    ),
    "browser-exam-key": N_(
        "This version of Safe Exam Browser is not one your training centre accepts for this "
        "exam. Install the version it asks for, or call the support: their details are at "
        "the bottom of this page."
    ),
}
# F6 (sec-findings): the exam tab is served only to the attempt's candidate, logged in in
# this browser. Why a request was refused, by reason (ui.web.workspace): said on the page a
# stranger or a logged-out browser gets, and to the tab's script, which keeps what was typed.
LOG_IN_PAGE: dict[str, str] = {
    "logged-out": N_(
        "This exam tab opens only in the browser where you are logged in to Vigie. Log in, "
        "then go back to “My exams” and reopen your exam from there."
    ),
    "other-account": N_(
        "Another account is logged in to Vigie in this browser. Log in with your own "
        "account, then go back to “My exams” and reopen your exam from there."
    ),
}
LOG_IN_TAB: dict[str, str] = {
    "logged-out": N_(
        "Not saved: this browser is no longer logged in to Vigie. What you typed stays here. "
        "Log in again, go back to “My exams” and open your exam: this tab then saves your "
        "answers again."
    ),
    "other-account": N_(
        "Not saved: another account is now logged in to Vigie in this browser. What you "
        "typed stays here. Log in again with your own account, go back to “My exams” and "
        "open your exam: this tab then saves your answers again."
    ),
}
UNREADABLE = N_(
    "This answer could not be saved as sent. It stays in the field: copy it, reload the page "
    "(your other answers are kept), then give it again."
)
# A reviewer pasted 10,500 characters into a free-text answer: the save was refused with
# UNREADABLE at the top of the page, the bar kept saying « Saving… », and the text was gone
# after a reload. The refusal now names the cause and the numbers, beside the question.
TOO_LONG = N_(
    "This answer is too long to be saved: %(given)s characters, at most %(limit)s. Shorten "
    "it: your text stays in the field until it is saved."
)
# The free-text answer's bound, the one the domain checks (domain.bounds): the field's
# maxlength and its count of characters say the same number.
ANSWER_LIMIT = LIMITS["answer"]
UNKNOWN = N_("This answer could not be saved. Try again; if it happens again, call the support.")


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return translations([LOCALE], language)


Gettext = Callable[..., str]


def gettext_for(language: str) -> Gettext:
    """`_("…%(n)s…", n=3)` in one language (English when the language is unknown)."""
    catalogue = _catalogue(language if language in LANGUAGES else "en")

    def _(message: str, **values: Any) -> str:
        text = catalogue.gettext(message)
        return text % values if values else text

    return _


# R4 with an accommodation: the exam's length in the words of every other screen (the
# platform's ui.web.portal.with_extra_time, same messages in its catalogue). The tab said
# « L'examen dure 90 minutes » while its timer, with +33 %, ran 2 h (a user's tour).
WITH_EXTRA_TIME = N_("%(total)s, of which %(extra)s of extra time granted by your training centre")


def duration_in_words(minutes: int, _: Gettext) -> str:
    """'1 h 30 min', '2 h', '45 min', as the platform's pages say a length."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)s min", minutes=rest)
    if not rest:
        return _("%(hours)s h", hours=hours)
    return _("%(hours)s h %(minutes)s min", hours=hours, minutes=f"{rest:02d}")


def with_extra_time(total_minutes: int, extra_minutes: int, _: Gettext) -> str:
    """The exam's length, extra time included, and how much of it is extra."""
    total = duration_in_words(total_minutes, _)
    if not extra_minutes:
        return total
    return _(WITH_EXTRA_TIME, total=total, extra=duration_in_words(extra_minutes, _))


def refusal_for(refused: DomainError, language: str) -> tuple[str, str]:
    """The sentence for people and the rule it refers to ("" when none)."""
    _ = gettext_for(language)
    if isinstance(refused, RuleBroken):
        return _(REFUSALS.get(refused.rule, UNKNOWN)), refused.rule
    if isinstance(refused, TooLong):
        return _(
            TOO_LONG,
            given=format_decimal(refused.given, locale=language),
            limit=format_decimal(refused.limit, locale=language),
        ), ""
    if isinstance(refused, InvalidArgument):
        return _(UNREADABLE), ""
    return _(UNKNOWN), ""


def refusal_fields(refused: DomainError) -> dict[str, object]:
    """What a script may read of a refusal besides its sentence: the refused field, and for a
    text too long its bound and the length given."""
    if isinstance(refused, TooLong):
        return {"field": refused.field, "limit": refused.limit, "given": refused.given}
    if isinstance(refused, InvalidArgument):
        return {"field": refused.field}
    return {}


# The guide's rules, R1–R26 (design/product.md): a refusal naming one has it in a tooltip,
# « The guide's rule R4 », as the platform's pages do (ui.web.rule_words, which an adapter
# does not import). Any other name (« SafeExamBrowserRequired ») stays in `data-rule` only.
_GUIDE_RULE = re.compile(r"R(?:[1-9]|1[0-9]|2[0-6])")


def guide_rule(rule: str) -> bool:
    """Whether `rule` is one of the guide's rules (then it gets a tooltip)."""
    return _GUIDE_RULE.fullmatch(rule) is not None


def answered(question: DeskQuestion) -> bool:
    """A question counts as answered once a text or a ticked choice is saved."""
    return bool(question.given.text.strip() or question.given.choices)


@dataclass(frozen=True)
class ExamTab:
    """Where the page links to, and what it says about the centre."""

    support: SupportContact
    time_zone: str

    def render(
        self,
        view: DeskView,
        *,
        base: str,
        token: str,
        marked: frozenset[str] = frozenset(),
        message: str = "",
        rule: str = "",
        saved: bool = False,
        state: str = "",
    ) -> str:
        """The exam tab in one of its states: `""` (the exam or its instructions),
        "confirm-finish" (the finish dialog open, for a browser without scripts),
        "finished" or "left"."""
        language = view.language if view.language in LANGUAGES else "fr"
        _ = gettext_for(language)
        questions = view.questions
        done = sum(1 for q in questions if answered(q))
        return _PAGE.render(
            _=_,
            lang=language,
            view=view,
            base=base,
            token=token,
            support=self.support,
            marked=marked,
            message=message,
            rule=rule,
            guide_rule=guide_rule,
            saved=saved,
            state=state,
            answered=answered,
            done=done,
            marked_count=sum(1 for q in questions if q.question_id in marked),
            ends_at=self._time(view.ends_at, language),
            # The page's own clock readings (« saved at 14:25:46 ») in the same zone as
            # « ends at 14:55 »: a browser set to another zone read both at once.
            time_zone=self.time_zone,
            minutes=int(view.remaining_seconds // 60),
            kinds=QuestionKind,
            answer_limit=ANSWER_LIMIT,
            answer_limit_words=format_decimal(ANSWER_LIMIT, locale=language),
            exam_length=with_extra_time(
                view.duration_minutes + view.extra_minutes, view.extra_minutes, _
            ),
        )

    def seb_refusal(self, reason: str, language: str) -> str:
        """The sentence for a request refused for want of Safe Exam Browser (issue 16)."""
        return gettext_for(language)(SEB_REFUSALS[reason])

    def seb_refused(self, reason: str, language: str, rule: str) -> str:
        """The page of an exam tab opened outside Safe Exam Browser, or in it with other
        settings, in the candidate's language (issue 16)."""
        language = language if language in LANGUAGES else "fr"
        return _PAGE.render(
            _=gettext_for(language),
            lang=language,
            support=self.support,
            state="seb-refused",
            message=self.seb_refusal(reason, language),
            rule=rule,
            guide_rule=guide_rule,
        )

    def log_in_refusal(self, reason: str, language: str) -> str:
        """The sentence the tab's script shows when a request was refused for want of the
        candidate's session (`reason`: "logged-out" or "other-account")."""
        return gettext_for(language)(LOG_IN_TAB[reason])

    def log_in_refused(self, reason: str, language: str, log_in: str) -> str:
        """The page of an exam tab opened without the candidate's session (another browser,
        or hers after log-out), in her language: log in, then reopen the exam from « Mes
        examens ». `log_in`: the platform's log-in page, back to « Mes examens »."""
        language = language if language in LANGUAGES else "fr"
        _ = gettext_for(language)
        return _PAGE.render(
            _=_,
            lang=language,
            support=self.support,
            state="log-in",
            message=_(LOG_IN_PAGE[reason]),
            log_in=log_in,
        )

    def gone(self) -> str:
        """The page of a link that opens nothing (another attempt's, or torn down): in
        both languages, since nothing says whose it is."""
        return _PAGE.render(
            _=gettext_for("fr"),
            en=gettext_for("en"),
            lang="fr",
            support=self.support,
            state="gone",
        )

    def _time(self, at: datetime | None, language: str) -> str:
        """« 15:20 » in both languages, as the proctoring tab beside it shows the same end
        (the English exam tab said « 3:20 PM » where the proctoring tab said « 15:20 »)."""
        if at is None:
            return ""
        return TimeFormatter(self.time_zone).format(at, language, Style.CLOCK)
