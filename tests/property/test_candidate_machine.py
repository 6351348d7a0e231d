"""Candidate against a small model: R5 terms accepted once, R11 the portal profile ("Créer"
the first time, "Enregistrer" later) with an e-mail that never changes, R25 French or English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.candidate import ERASED, ERASED_PROFILE, Candidate, PortalProfile
from domain.errors import InvalidArgument
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

LANGUAGES = ("fr", "en")  # R25
CIVILITIES = ("Madame", "Monsieur", "Mx")
PARIS = ZoneInfo("Europe/Paris")

local_parts = st.text("abcdefghijklmnopqrstuvwxyz.", min_size=1, max_size=10).filter(
    lambda s: not s.startswith(".") and not s.endswith(".")
)


def _profiles(*, blanks: bool) -> st.SearchStrategy[PortalProfile]:
    return st.builds(
        PortalProfile,
        civility=st.sampled_from([*CIVILITIES, *(("Dr", "") if blanks else ())]),
        surname=st.sampled_from(["Martin", "Nguyễn", *(("  ",) if blanks else ())]),
        first_name=st.sampled_from(["Camille", "Zoé", *(("",) if blanks else ())]),
        # R11: with blanks, dates no candidate has (before 1900, or after the clock's day).
        birth_date=st.dates(date(1940, 1, 1), date(2010, 12, 31))
        | (st.dates(date(1850, 1, 1), date(2040, 12, 31)) if blanks else st.nothing()),
        birth_place=st.sampled_from(["Lyon", "Fort-de-France", *((" ",) if blanks else ())]),
    )


# Mostly complete profiles, so that "Enregistrer" after "Créer" is reached often.
profiles = st.one_of(_profiles(blanks=False), _profiles(blanks=True))


def profile_problem(profile: PortalProfile, today: date) -> str | None:
    """The first field the portal would refuse, in the form's order (R11: a birth date from
    1900 to `today`, the local day)."""
    if profile.civility not in CIVILITIES:
        return "civility"
    for name in ("surname", "first_name"):
        if not getattr(profile, name).strip():
            return name
    if not date(1900, 1, 1) <= profile.birth_date <= today:
        return "birth_date"
    if not profile.birth_place.strip():
        return "birth_place"
    return None


@dataclass
class CandidateModel:
    email: str
    language: str
    terms_accepted_at: datetime | None = None
    profile: PortalProfile | None = None
    password_hash: str | None = None
    erased: bool = False


class CandidateMachine(RuleBasedStateMachine):
    """A candidate's account touched by the candidate and the portal in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.candidate: Candidate | None = None
        self.log: list[Any] = []

    # --- setup ---------------------------------------------------------------------------

    @initialize(
        candidate_id=st.uuids(),
        local=local_parts,
        shout=st.booleans(),
        language=st.sampled_from(LANGUAGES),
        registered=st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 31)),
    )
    def register(
        self, candidate_id: UUID, local: str, shout: bool, language: str, registered: datetime
    ) -> None:
        self.clock = registered.replace(tzinfo=UTC).astimezone(PARIS)
        typed = f"  {local}@Exemple.FR " if shout else f"{local}@exemple.fr"
        self.model = CandidateModel(email=f"{local}@exemple.fr", language=language)
        self.candidate = Candidate.register(
            candidate_id=candidate_id,
            email=typed,
            surname="Martin",
            first_name="Camille",
            language=language,
            at=self.clock,
        )
        self.log.extend(self.candidate.collect_events())

    @rule(minutes=st.integers(0, 3 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        self.clock += timedelta(minutes=minutes)

    # --- commands ------------------------------------------------------------------------

    @rule()
    def accept_the_terms_once_r5(self) -> None:
        candidate, at = self.candidate, self.clock
        assert candidate is not None

        def command() -> None:
            candidate.accept_terms(at=at)

        if self.model.erased:
            expect_refusal(candidate, command, "ERASED")
            return
        if self.model.terms_accepted_at is not None:
            expect_refusal(candidate, command, "R5")
            return
        expect_success(candidate, command, self.log)
        self.model.terms_accepted_at = at

    @rule(language=st.sampled_from(["fr", "en", "de", "FR", ""]))
    def choose_french_or_english_r25(self, language: str) -> None:
        candidate, at = self.candidate, self.clock
        assert candidate is not None

        def command() -> None:
            candidate.choose_language(at=at, language=language)

        if self.model.erased:
            expect_refusal(candidate, command, "ERASED")
            return
        if language not in LANGUAGES:
            expect_refusal(candidate, command, "invalid:language")
            return
        expect_success(
            candidate, command, self.log, events=0 if language == self.model.language else 1
        )
        self.model.language = language

    @rule(
        email=st.sampled_from(
            ["as registered", "as registered", "other case and spaces", "another", "malformed"]
        ),
        profile=profiles,
        password_hash=st.sampled_from([None, "", "argon2id$v=19$abc"]),
    )
    def save_the_portal_profile_r11(
        self, email: str, profile: PortalProfile, password_hash: str | None
    ) -> None:
        candidate, at, model = self.candidate, self.clock, self.model
        assert candidate is not None
        typed = {
            "as registered": model.email,
            "other case and spaces": f" {model.email.upper()}  ",
            "another": f"autre.{model.email}",
            "malformed": model.email.replace("@", " at "),
        }[email]

        def command() -> object:
            return candidate.save_portal_profile(
                at=at, email=typed, profile=profile, password_hash=password_hash
            )

        if model.erased:
            expected: str | None = "ERASED"
        elif email == "malformed":
            expected = "invalid:email"
        elif email == "another":
            expected = "R11"  # the e-mail used for proctoring can never be changed
        elif problem := profile_problem(profile, at.date()):
            expected = f"invalid:{problem}"
        elif model.profile is None and not password_hash:
            expected = "invalid:password"
        else:
            expected = None
        if expected:
            expect_refusal(candidate, command, expected)
            return
        button = "Créer" if model.profile is None else "Enregistrer"
        assert expect_success(candidate, command, self.log) == button
        if button == "Créer":
            model.password_hash = password_hash
        model.profile = profile

    @rule(reason=st.sampled_from(["demande de la personne", "  "]))
    def the_person_asks_to_be_forgotten(self, reason: str) -> None:
        """Issue 8: erased once; afterwards nothing personal is recorded again."""
        candidate, at, model = self.candidate, self.clock, self.model
        assert candidate is not None

        def command() -> bool:
            return candidate.erase_personal_data(
                at=at, reason=reason, by="", system_account="tests@127.0.0.1"
            )

        if not reason.strip():
            expect_refusal(candidate, command, "invalid:reason")
            return
        if model.erased:
            assert expect_success(candidate, command, self.log, events=0) is False
            return
        assert expect_success(candidate, command, self.log) is True
        model.erased = True
        model.email = ERASED
        model.profile = ERASED_PROFILE if model.profile is not None else None
        model.password_hash = None

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def replaying_the_log_rebuilds_the_live_state(self) -> None:
        if self.candidate is None:
            return
        assert state_of(replay(self.log)) == state_of(self.candidate)

    @invariant()
    def the_email_never_changes_r11_and_the_language_is_fr_or_en_r25(self) -> None:
        candidate = self.candidate
        if candidate is None:
            return
        assert candidate.email == self.model.email
        assert candidate.language in LANGUAGES
        assert candidate.language == self.model.language

    @invariant()
    def the_account_matches_its_model(self) -> None:
        candidate = self.candidate
        if candidate is None:
            return
        model = self.model
        assert candidate.terms_accepted_at == model.terms_accepted_at
        assert candidate.terms_accepted is (model.terms_accepted_at is not None)
        assert candidate.profile == model.profile
        assert candidate.profile_complete is (model.profile is not None)
        # The password is set when the profile is created ("Créer") and only then.
        assert candidate.password_hash == model.password_hash
        if not model.erased:
            assert (candidate.password_hash is None) is (candidate.profile is None)
        else:  # nobody can log in as an erased person
            assert candidate.proctoring_password_hash is None and candidate.reset_tokens == {}


CandidateMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestACandidateAccountBehavesLikeTheGuidesModel = CandidateMachine.TestCase


@settings(max_examples=30, deadline=None)
@given(language=st.text(max_size=3).filter(lambda s: s not in LANGUAGES))
def test_a_candidate_is_registered_only_in_french_or_english_r25(language: str) -> None:
    with pytest.raises(InvalidArgument) as bad:
        Candidate.register(
            candidate_id=UUID(int=1),
            email="camille@exemple.fr",
            surname="Martin",
            first_name="Camille",
            language=language,
            at=datetime(2025, 1, 27, 9, tzinfo=PARIS),
        )
    assert bad.value.field == "language"
