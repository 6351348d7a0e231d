"""How the `vigie` command says a refusal or an unknown id: one English sentence on standard
error, then exit 2 (a command's usage, as argparse's own errors). The sentence comes first;
a rule's code, for the curious, at its end in brackets (« R2: … » opened the line: a tester's
tour). An erased person's data reads « [erased] » here, the command's language, not the
log's French placeholder."""

from __future__ import annotations

import re

from app.ports.event_store import AggregateNotFound
from domain.candidate import ERASED
from domain.errors import DomainError, InvalidArgument, RuleBroken

# Exit status of a command that was refused or named something that does not exist.
REFUSED = 2

ERASED_WORDS = "[erased]"

# The store's aggregates as an operator names them (the store names them by class).
_KINDS = {
    "Enrollment": "enrolment",
    "Candidate": "candidate",
    "ProctoredSession": "exam session",
    "ExamAttempt": "exam attempt",
    "Review": "review",
    "StaffMember": "staff account",
    "OutboundMail": "mail",
    "ParkedReaction": "parked reaction",
    "WebhookDelivery": "webhook delivery",
    "CentreIntegrations": "centre's integrations",
    "LtiPlatform": "learning platform",
}
# Where to find the right id, for the ids an operator mixes up (`hotline show` prints
# enrolment ids; `privacy export` wants a candidate's).
_WHERE = {
    "candidate": "`vigie hotline find NAME` gives a candidate's id",
    "enrolment": "`vigie hotline show CANDIDATE_ID` lists a candidate's enrolments",
}
_LEADING_RULE = re.compile(r"^(R\d+):\s*")


def not_found(error: AggregateNotFound) -> str:
    """« no enrolment with id …; where to find one »."""
    kind = _KINDS.get(error.kind, error.kind)
    where = _WHERE.get(kind)
    return f"no {kind} with id {error.aggregate_id}" + (f" ({where})" if where else "")


def refusal(error: DomainError) -> str:
    """The domain's sentence first, its rule's code last in brackets."""
    if isinstance(error, RuleBroken):
        return f"{_words(error.message)} [{error.rule}]"
    if isinstance(error, InvalidArgument):
        message, rule = _without_rule(error.message)
        return f"{error.field}: {_words(message)}" + (f" [{rule}]" if rule else "")
    return _words(str(error))


def said(error: BaseException) -> str:
    """`vigie: <the sentence>`, for a refusal, an unknown id, or a value refused."""
    if isinstance(error, AggregateNotFound):
        return f"vigie: {not_found(error)}"
    if isinstance(error, DomainError):
        return f"vigie: {refusal(error)}"
    message, rule = _without_rule(str(error))
    return f"vigie: {_words(message)}" + (f" [{rule}]" if rule else "")


def english(text: str) -> str:
    """A text of the log in the command's language: an erased person's data as « [erased] »
    (the store's placeholder, and its upper-cased surname)."""
    return text.replace(ERASED, ERASED_WORDS).replace(ERASED.upper(), ERASED_WORDS)


def _without_rule(message: str) -> tuple[str, str]:
    found = _LEADING_RULE.match(message)
    if found is None:
        return message, ""
    return message[found.end() :], found.group(1)


def _words(message: str) -> str:
    return english(message)
