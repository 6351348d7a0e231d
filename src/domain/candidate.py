"""Candidate: the only holder of a person's data (R5, R11, R25).

Other aggregates refer to a candidate by id, so this stream alone can be erased later without
breaking any other history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.bounds import LIMITS, bounded, email_problem, name_problem, place_problem
from domain.errors import (
    ImplausibleBirthDate,
    InvalidArgument,
    Required,
    RuleBroken,
    TooLong,
    refuse_all,
    require,
    require_aware,
)
from domain.operator import check_operator
from domain.rules import utc

LANGUAGES = ("fr", "en")  # R25
CIVILITIES = ("Madame", "Monsieur", "Mx")


class Account(StrEnum):
    """R24: the two accounts whose passwords can be reset by an e-mailed link."""

    PROCTORING = "proctoring"
    PORTAL = "portal"


@dataclass(frozen=True)
class ResetToken:
    """A single-use, expiring password-reset token (its link is signed by the app)."""

    token_id: str
    account: Account
    expires_at: datetime
    used: bool = False
    superseded: bool = False  # a newer link, or a reset, of the same account voided it


def _void_others(
    tokens: dict[str, ResetToken], account: Account, keep: str
) -> dict[str, ResetToken]:
    """R24 (issue 14): issuing or using a link voids every older one of that account, so a
    stolen earlier mail is worth nothing once the candidate asked again."""
    return {
        token_id: (
            dataclasses.replace(token, superseded=True)
            if token.account is account and token_id != keep and not token.used
            else token
        )
        for token_id, token in tokens.items()
    }


@dataclass(frozen=True)
class PortalProfile:
    """R11: what the portal asks; the e-mail is not part of it since it never changes."""

    civility: str
    surname: str
    first_name: str
    birth_date: date
    birth_place: str


# Issue 8: the personal fields of each event, sealed in the log with the candidate's own key,
# and what they read as once that key is destroyed (erasure). Plain data: the persistence
# adapter does the sealing; decisions never read these fields.
ERASED = "[effacé]"
ERASED_PROFILE = PortalProfile(ERASED, ERASED, ERASED, date(1, 1, 1), ERASED)
PERSONAL_FIELDS: dict[str, dict[str, object]] = {
    "CandidateRegistered": {"email": ERASED, "surname": ERASED, "first_name": ERASED},
    "PortalProfileCreated": {"profile": ERASED_PROFILE, "password_hash": ""},
    "PortalProfileSaved": {"profile": ERASED_PROFILE},
    "PasswordReset": {"password_hash": ""},
    # Issue 16: the person's id on a learning platform (LTI `sub`), where their grade goes.
    "LtiUserLinked": {"user_id": ERASED},
    # Security finding F1: the names a centre typed when it enrolled the person.
    "EnrolmentNamesGiven": {"surname": ERASED, "first_name": ERASED},
}


@dataclass(frozen=True)
class EnrolmentNames:
    """The names a centre typed when it enrolled the person for one certification (F1): what
    that centre reads for its enrolment, and what the person's ID is compared with for that
    exam (R9, R20 « ID ≠ registered name »). Kept on the person's own stream, sealed with
    their key, so an erasure takes them with the rest."""

    enrollment_id: UUID
    centre_id: UUID
    surname: str
    first_name: str


def check_email(email: str, *, field: str = "email") -> str:
    """An e-mail address, trimmed and lower-cased; NotAnEmail naming `field` (and the first
    character no address holds) otherwise. Every address entering Vigie comes through here:
    the centre's form, file and API, a learning platform's launch, `vigie staff add`, an
    organisation's single sign-on."""
    cleaned = email.strip().lower()
    if (problem := email_problem(field, cleaned)) is not None:
        raise problem
    return cleaned


def check_language(language: str) -> None:
    """R25: French or English."""
    if language not in LANGUAGES:
        raise InvalidArgument("language", f"R25: French or English ('fr'/'en'), not {language!r}")


def check_names(surname: str, first_name: str) -> tuple[str, str]:
    """A person's surname and first name as a centre typed them, trimmed; InvalidArgument
    naming the field when one is empty, too long or not a name. Checked the same way whether
    the e-mail has an account or not, so a refusal tells a centre nothing about it (F1)."""
    surname, first_name = surname.strip(), first_name.strip()
    if not surname or not first_name:
        raise InvalidArgument("name", "surname and first name are required")
    bounded("surname", surname)
    bounded("first_name", first_name)
    for field, name in (("surname", surname), ("first_name", first_name)):
        if (problem := name_problem(field, name)) is not None:
            raise problem
    return surname, first_name


class Candidate(Aggregate):
    """A person's account: e-mail, names, language, terms, portal profile."""

    email: str
    surname: str
    first_name: str
    language: str
    terms_accepted_at: datetime | None
    profile: PortalProfile | None
    password_hash: str | None
    proctoring_password_hash: str | None
    reset_tokens: dict[str, ResetToken]
    erased_at: datetime | None = None  # a class default: older snapshots stay readable
    # Issue 16: (platform issuer, the person's id there), a class default as above.
    lti_users: tuple[tuple[str, str], ...] = ()
    # F1: the names each centre typed for its enrolments where they differ from the
    # registered ones, a class default as above.
    enrolment_names: tuple[EnrolmentNames, ...] = ()

    class CandidateRegistered(Aggregate.Created):
        email: str
        surname: str
        first_name: str
        language: str

    class TermsAccepted(Aggregate.Event):
        pass

    class LanguageChosen(Aggregate.Event):
        language: str

    class PortalProfileCreated(Aggregate.Event):
        profile: PortalProfile
        password_hash: str

    class PortalProfileSaved(Aggregate.Event):
        profile: PortalProfile

    class PasswordResetRequested(Aggregate.Event):
        account: Account
        token_id: str
        expires_at: datetime
        purpose: str

    class PasswordReset(Aggregate.Event):
        account: Account
        token_id: str
        password_hash: str

    class PersonalDataErased(Aggregate.Event):
        reason: str
        # Who erased her (`vigie privacy erase --by`): the name the operator gave ("" when
        # not given) and the machine's account the command ran as (« root@vigie-1 »); both
        # "" in rows from before they were recorded, which read « unrecorded », never a name.
        by: str = ""
        system_account: str = ""

    class LtiUserLinked(Aggregate.Event):
        issuer: str
        user_id: str

    class EnrolmentNamesGiven(Aggregate.Event):
        """F1: a centre enrolled the person under these names (surname, first name sealed)."""

        enrollment_id: UUID
        centre_id: UUID
        surname: str
        first_name: str

    @classmethod
    def register(
        cls,
        *,
        candidate_id: UUID,
        email: str,
        surname: str,
        first_name: str,
        language: str = "fr",
        at: datetime,
    ) -> Candidate:
        """Registered by a training centre when it enrols the person: the names it typed
        are the registered ones, its enrolment's too."""
        require_aware("at", at)
        check_language(language)
        surname, first_name = check_names(surname, first_name)
        return cls._create(
            cls.CandidateRegistered,
            id=candidate_id,
            timestamp=at,
            email=check_email(email),
            surname=surname,
            first_name=first_name,
            language=language,
        )

    @event(CandidateRegistered)
    def __init__(self, email: str, surname: str, first_name: str, language: str) -> None:
        self.email = email
        self.surname = surname
        self.first_name = first_name
        self.language = language
        self.terms_accepted_at = None
        self.profile = None
        self.password_hash = None
        self.proctoring_password_hash = None
        self.reset_tokens = {}
        self.erased_at = None
        self.lti_users = ()
        self.enrolment_names = ()

    @property
    def terms_accepted(self) -> bool:
        """R5: accepted once, at the first connection."""
        return self.terms_accepted_at is not None

    @property
    def profile_complete(self) -> bool:
        """R11: the portal profile was created ('Créer')."""
        return self.profile is not None

    def accept_terms(self, *, at: datetime) -> None:
        """R5: the terms of use are accepted once."""
        require_aware("at", at)
        _erasable(self)
        require(not self.terms_accepted, "R5", "the terms of use were already accepted")
        self._terms_accepted(timestamp=at)

    def choose_language(self, *, at: datetime, language: str) -> None:
        """R25: French or English."""
        require_aware("at", at)
        _erasable(self)
        check_language(language)
        if language != self.language:
            self._language_chosen(language=language, timestamp=at)

    def save_portal_profile(
        self,
        *,
        at: datetime,
        email: str,
        profile: PortalProfile,
        password_hash: str | None = None,
    ) -> str:
        """R11: 'Créer' the first time (with a password), 'Enregistrer' later; e-mail fixed."""
        require_aware("at", at)
        _erasable(self)
        require(
            check_email(email) == self.email,
            "R11",
            "the portal e-mail is the one used for proctoring and can never be changed",
        )
        _check_profile(profile, today=at.date())
        if self.profile is None:
            if not password_hash:
                raise InvalidArgument("password", "a password is required to create the profile")
            self._profile_created(profile=profile, password_hash=password_hash, timestamp=at)
            return "Créer"
        self._profile_saved(profile=profile, timestamp=at)
        return "Enregistrer"

    def request_password_reset(
        self, *, at: datetime, account: Account, token_id: str, expires_at: datetime, purpose: str
    ) -> None:
        """R24: a reset link is e-mailed; `purpose` is 'reset', or 'welcome' for the first
        password of the proctoring account."""
        require_aware("at", at)
        _erasable(self)
        require_aware("expires_at", expires_at)
        if not token_id or token_id in self.reset_tokens:
            raise InvalidArgument("token_id", "a new, unique token id is required")
        require(utc(expires_at) > utc(at), "R24", "a reset link must expire in the future")
        self._reset_requested(
            account=account, token_id=token_id, expires_at=expires_at, purpose=purpose, timestamp=at
        )

    def reset_password(
        self, *, at: datetime, account: Account, token_id: str, password_hash: str
    ) -> None:
        """R24: the link works once, before it expires, for its own account."""
        self.check_reset_link(at=at, token_id=token_id, account=account)
        if not password_hash:
            raise InvalidArgument("password", "required")
        self._password_reset(
            account=account, token_id=token_id, password_hash=password_hash, timestamp=at
        )

    def check_reset_link(
        self, *, at: datetime, token_id: str, account: Account | None = None
    ) -> None:
        """R24: raises why the link would be refused now (the page says it before a password
        is typed); `account` None: the link's own."""
        require_aware("at", at)
        _erasable(self)
        token = self.reset_tokens.get(token_id)
        if token is None or (account is not None and token.account is not account):
            raise RuleBroken("R24", "this reset link is not valid")
        require(not token.used, "R24", "this reset link was already used")
        require(not token.superseded, "R24", "a newer reset link replaced this one")
        require(utc(at) <= utc(token.expires_at), "R24", "this reset link has expired")

    @event(PasswordResetRequested)
    def _reset_requested(
        self,
        account: Account,
        token_id: str,
        expires_at: datetime,
        purpose: str,
        timestamp: datetime,
    ) -> None:
        self.reset_tokens = {
            **_void_others(self.reset_tokens, account, keep=token_id),
            token_id: ResetToken(token_id, account, expires_at),
        }

    @event(PasswordReset)
    def _password_reset(
        self, account: Account, token_id: str, password_hash: str, timestamp: datetime
    ) -> None:
        token = self.reset_tokens.get(token_id)
        if token is not None:
            used = dataclasses.replace(token, used=True)
            self.reset_tokens = {
                **_void_others(self.reset_tokens, account, keep=token_id),
                token_id: used,
            }
        if account is Account.PORTAL:
            self.password_hash = password_hash
        else:
            self.proctoring_password_hash = password_hash

    @event(TermsAccepted)
    def _terms_accepted(self, timestamp: datetime) -> None:
        self.terms_accepted_at = timestamp

    @event(LanguageChosen)
    def _language_chosen(self, language: str, timestamp: datetime) -> None:
        self.language = language

    @event(PortalProfileCreated)
    def _profile_created(
        self, profile: PortalProfile, password_hash: str, timestamp: datetime
    ) -> None:
        self.profile = profile
        self.password_hash = password_hash

    @event(PortalProfileSaved)
    def _profile_saved(self, profile: PortalProfile, timestamp: datetime) -> None:
        self.profile = profile

    # --- a learning platform's user (issue 16) ----------------------------------------------

    def link_lti_user(self, *, issuer: str, user_id: str, at: datetime) -> bool:
        """The person's id on a learning platform that launched Vigie (sealed: personal);
        False when already known."""
        require_aware("at", at)
        _erasable(self)
        if not issuer.strip() or not user_id.strip():
            raise InvalidArgument("user_id", "a platform and the person's id there are required")
        if self.lti_user(issuer) == user_id:
            return False
        self._lti_user_linked(issuer=issuer, user_id=user_id, timestamp=at)
        return True

    def lti_user(self, issuer: str) -> str | None:
        """The person's id on that platform, if a launch made it known."""
        return next((user for known, user in reversed(self.lti_users) if known == issuer), None)

    @event(LtiUserLinked)
    def _lti_user_linked(self, issuer: str, user_id: str, timestamp: datetime) -> None:
        self.lti_users = (*self.lti_users, (issuer, user_id))

    # --- the names each centre typed (security finding F1) --------------------------------

    def give_enrolment_names(
        self, *, enrollment_id: UUID, centre_id: UUID, surname: str, first_name: str, at: datetime
    ) -> bool:
        """A centre enrolled the person under these names. A centre reads, for its own
        enrolments, the names it typed and never another centre's; the examiner compares the
        ID with them for that exam (R9, R20: the name she was registered under for it).
        Recorded only when they differ from the registered names (those are the first
        enrolment's, and read the same): False when nothing was recorded."""
        require_aware("at", at)
        _erasable(self)
        surname, first_name = check_names(surname, first_name)
        if (surname, first_name) == (self.surname, self.first_name):
            return False
        self._enrolment_names_given(
            enrollment_id=enrollment_id,
            centre_id=centre_id,
            surname=surname,
            first_name=first_name,
            timestamp=at,
        )
        return True

    def names_for(self, enrollment_id: UUID) -> tuple[str, str]:
        """(surname, first name) the enrolment was made under: those its centre typed, or
        the registered ones (the first enrolment's; and an enrolment recorded before F1 was
        fixed, whose centre was shown the registered names then: README, « Names »)."""
        for given in self.enrolment_names:
            if given.enrollment_id == enrollment_id:
                return given.surname, given.first_name
        return self.surname, self.first_name

    @event(EnrolmentNamesGiven)
    def _enrolment_names_given(
        self,
        enrollment_id: UUID,
        centre_id: UUID,
        surname: str,
        first_name: str,
        timestamp: datetime,
    ) -> None:
        given = EnrolmentNames(enrollment_id, centre_id, surname, first_name)
        others = tuple(n for n in self.enrolment_names if n.enrollment_id != enrollment_id)
        self.enrolment_names = (*others, given)

    # --- erasure (issue 8) -----------------------------------------------------------------

    def erase_personal_data(
        self, *, at: datetime, reason: str, by: str, system_account: str
    ) -> bool:
        """The person asked to be forgotten (or retention ran out): from now on their data
        reads as erased, no one can log in as them, and nothing personal is recorded again.
        The key that sealed their past data is destroyed by the caller. Who did it is
        recorded (`check_operator`): an erasure cannot be undone, and an auditor asks who.
        False if done."""
        require_aware("at", at)
        if not reason.strip():
            raise InvalidArgument("reason", "say why the data is erased (request, retention…)")
        by, system_account = check_operator(by, system_account)
        if self.erased_at is not None:
            return False
        self._erased(reason=reason.strip(), by=by, system_account=system_account, timestamp=at)
        return True

    @event(PersonalDataErased)
    def _erased(self, reason: str, by: str, system_account: str, timestamp: datetime) -> None:
        self.erased_at = timestamp
        self.email = ERASED
        self.surname = ERASED
        self.first_name = ERASED
        self.profile = ERASED_PROFILE if self.profile is not None else None
        self.password_hash = None
        self.proctoring_password_hash = None
        self.reset_tokens = {}
        self.lti_users = ()
        self.enrolment_names = ()


class PersonErased(RuleBroken):
    """ERASED: the person's data was erased (on request, or when retention ran out). Nothing
    new is recorded for them or on their behalf: their account, their e-mailed links and their
    enrolments refuse every command, so no session is created, no mail promised, no webhook
    sent for someone who is gone."""

    RULE = "ERASED"

    def __init__(self) -> None:
        super().__init__(self.RULE, "this person's data was erased: nothing new is recorded")


def refuse_if_erased(candidate: Candidate) -> None:
    """The ERASED rule: raises PersonErased for a person who was erased."""
    if candidate.erased_at is not None:
        raise PersonErased()


def _erasable(candidate: Candidate) -> None:
    """Nothing personal may be recorded for a person who was erased."""
    refuse_if_erased(candidate)


def _check_profile(profile: PortalProfile, *, today: date) -> None:
    refuse_all(profile_problems(profile, today=today))


# R11: the birth date printed on the certificate is a real one. The guide sets no minimum age,
# so only what no candidate can have is refused: a day still to come, or one before 1900.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def birth_date_problem(birth_date: date, *, today: date) -> ImplausibleBirthDate | None:
    """R11: why a birth date cannot be a candidate's (after `today`, the local day the app's
    clock reads, or before EARLIEST_BIRTH_DATE); None when it can."""
    if not EARLIEST_BIRTH_DATE <= birth_date <= today:
        return ImplausibleBirthDate(birth_date, earliest=EARLIEST_BIRTH_DATE, latest=today)
    return None


def profile_problems(profile: PortalProfile, *, today: date) -> list[InvalidArgument]:
    """Every field of the profile refused, in the form's order: the page said one per
    « Créer » (a reviewer's tour). `today` is the local day (a birth date in 2031 was
    accepted and printed on the certificate: a user's tour)."""
    problems: list[InvalidArgument] = []
    if profile.civility not in CIVILITIES:
        problems.append(InvalidArgument("civility", f"one of {', '.join(CIVILITIES)}"))
    problems += _text_problems(profile, ("surname", "first_name"), name_problem)
    wrong_date = birth_date_problem(profile.birth_date, today=today)
    if wrong_date is not None:
        problems.append(wrong_date)
    problems += _text_problems(profile, ("birth_place",), place_problem)
    return problems


def _text_problems(
    profile: PortalProfile,
    fields: tuple[str, ...],
    rule: Callable[[str, str], InvalidArgument | None],
) -> list[InvalidArgument]:
    """Each field's one problem, if any: empty, too long, or what `rule` refuses."""
    problems: list[InvalidArgument] = []
    for field in fields:
        text = str(getattr(profile, field)).strip()
        if not text:
            problems.append(Required(field))
        # The same bounds as at enrolment: a 5,000-character birth place was accepted here.
        elif len(text) > LIMITS[field]:
            problems.append(TooLong(field, LIMITS[field], len(text)))
        elif (problem := rule(field, text)) is not None:
            problems.append(problem)
    return problems
