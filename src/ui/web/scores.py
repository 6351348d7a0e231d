"""A score as the candidate reads it (R17, R19): points, the percentage, the certification's
pass mark and the outcome, numbers written as in the reader's language (Babel). Shared by the
portal's results and the result page; the words themselves are in `_outcome_summary.html`."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_percent

from app.time_format import LOCALES
from domain.exam_attempt import ExamAttempt


def percent(value: float | None, language: str) -> str:
    """'70 %' in French, '70%' in English; '' when there is none."""
    if value is None:
        return ""
    return format_percent(value / 100, locale=LOCALES.get(language, LOCALES["fr"]))


def score_facts(
    attempt: ExamAttempt | None, pass_mark_percent: int, language: str
) -> dict[str, Any]:
    """What `_outcome_summary.html` shows beside the attempt's results: the score's percentage
    and the pass mark (`pass_mark_percent`: the catalogue's today, for an attempt not scored
    yet or scored before its results recorded their own)."""
    results = attempt.results if attempt is not None else None
    if results is None or not results.max_score:
        return {
            "score_percent": "",
            "pass_mark": percent(pass_mark_percent, language),
        }
    return {
        "score_percent": percent(round(100 * results.score / results.max_score), language),
        # The mark the results were scored against, not today's catalogue's.
        "pass_mark": percent(results.pass_mark(pass_mark_percent), language),
    }
