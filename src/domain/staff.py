"""Staff: examiners, support agents, centre operators and auditors (their own personal data).

A member may also sign in through their organisation's OpenID provider (issue 16): the first
time, the account is created or linked to the provider's identity (issuer and subject) with
the role its group maps to; on a later sign-in a changed group changes the role, and each is
an event naming the issuer and the group it came from.

Whose act a password is: the member's own change (`StaffPasswordSet`, `set_by` MEMBER), the
one given with the account (ACCOUNT_CREATION), or an administrator's reset, a fact of its own
naming the operator (`StaffPasswordResetByAdministrator`); a lost second factor removed by
an administrator is one too (`StaffSecondFactorResetByAdministrator`), and her own turning it
on or off (`StaffSecondFactorTurnedOn`, `…Off`). A `StaffPasswordSet`
stored before `set_by` reads UNRECORDED: `vigie staff reset-password` recorded that same fact
then, so the log of that time cannot tell her change from a reset, and does not pretend to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.candidate import check_email
from domain.errors import InvalidArgument, require_aware
from domain.operator import check_operator


class Role(StrEnum):
    """Who does what (design/product.md, 'Who uses it')."""

    EXAMINER = "examiner"
    SUPPORT = "support"
    CENTRE = "centre"
    AUDITOR = "auditor"


class PasswordSetBy(StrEnum):
    """Whose act a `StaffPasswordSet` is (an administrator's reset is an event of its own)."""

    MEMBER = "member"  # her own change at /staff/security, giving the current password
    ACCOUNT_CREATION = "account-creation"  # given with the account (`vigie staff add`, demo)
    # Stored before the field: her own change, the account's first password, or an
    # administrator's `vigie staff reset-password` (which recorded this same fact then).
    UNRECORDED = "unrecorded"


class StaffMember(Aggregate):
    """A person who works on the platform, reached by e-mail."""

    email: str
    name: str
    role: Role
    language: str
    password_hash: str | None
    # Issue 16: the provider identities (issuer -> subject) this account signs in as; the
    # centre a provider's group assigns a centre operator to (None: their own, as before).
    identities: dict[str, str]
    centre_id: UUID | None

    class StaffRegistered(Aggregate.Created):
        email: str
        name: str
        role: Role
        language: str

    @classmethod
    def register(
        cls,
        *,
        staff_id: UUID,
        email: str,
        name: str,
        role: Role,
        language: str = "fr",
        at: datetime,
    ) -> StaffMember:
        """A staff member joins."""
        require_aware("at", at)
        if not name.strip():
            raise InvalidArgument("name", "required")
        if language not in ("fr", "en"):
            raise InvalidArgument("language", "French or English ('fr'/'en')")
        return cls._create(
            cls.StaffRegistered,
            id=staff_id,
            timestamp=at,
            email=check_email(email),
            name=name.strip(),
            role=role,
            language=language,
        )

    class StaffPasswordSet(Aggregate.Event):
        """The member's own new password, or the one given with her account."""

        password_hash: str
        # A field added later: the events stored before it decode as UNRECORDED (the
        # mapper's mirror fills the default in), never as her own act.
        set_by: PasswordSetBy = PasswordSetBy.UNRECORDED

    class StaffPasswordResetByAdministrator(Aggregate.Event):
        """An administrator gave the member a new password (she lost hers): not her act.
        `by` is who the operator said they are (`--by`, "" when not said), `system_account`
        the account of the machine the command ran as (« root@vigie-1 »)."""

        password_hash: str
        by: str
        system_account: str

    class StaffSecondFactorResetByAdministrator(Aggregate.Event):
        """An administrator removed the member's lost second factor (the secret itself is
        kept outside the log: app/second_factor.py). Who, as for a password reset."""

        by: str
        system_account: str

    class StaffSecondFactorTurnedOn(Aggregate.Event):
        """The member turned a second factor on herself (her first code was right)."""

    class StaffSecondFactorTurnedOff(Aggregate.Event):
        """The member turned her second factor off herself, with a current code: her security
        page lists it, so one switched off from a session she left open is seen (a
        reviewer's tour: it left no trace)."""

    @event(StaffRegistered)
    def __init__(self, email: str, name: str, role: Role, language: str) -> None:
        self.email = email
        self.name = name
        self.role = role
        self.language = language
        self.password_hash = None
        self.identities = {}
        self.centre_id = None

    def set_password(self, *, at: datetime, password_hash: str, set_by: PasswordSetBy) -> None:
        """The staff member's own password (hashed by the application), or the one her
        account is created with: `set_by` says which (never UNRECORDED: that is the old log's
        word for « not said »)."""
        require_aware("at", at)
        if not password_hash:
            raise InvalidArgument("password", "required")
        if set_by is PasswordSetBy.UNRECORDED:
            raise InvalidArgument("set_by", "say whose act this password is")
        self._password_set(password_hash=password_hash, set_by=set_by, timestamp=at)

    @event(StaffPasswordSet)
    def _password_set(self, password_hash: str, set_by: PasswordSetBy, timestamp: datetime) -> None:
        self.password_hash = password_hash

    def reset_password_by_administrator(
        self, *, at: datetime, password_hash: str, by: str, system_account: str
    ) -> None:
        """A new password from an administrator: the same state as her own change (the
        password replaced), recorded as the administrator's act, naming them."""
        require_aware("at", at)
        if not password_hash:
            raise InvalidArgument("password", "required")
        by, system_account = check_operator(by, system_account)
        self._password_reset(
            password_hash=password_hash, by=by, system_account=system_account, timestamp=at
        )

    @event(StaffPasswordResetByAdministrator)
    def _password_reset(
        self, password_hash: str, by: str, system_account: str, timestamp: datetime
    ) -> None:
        self.password_hash = password_hash

    def reset_second_factor_by_administrator(
        self, *, at: datetime, by: str, system_account: str
    ) -> None:
        """An administrator removes her lost second factor: recorded, naming them (the
        account's state here does not change: the factor is kept outside the log)."""
        require_aware("at", at)
        by, system_account = check_operator(by, system_account)
        self._second_factor_reset(by=by, system_account=system_account, timestamp=at)

    @event(StaffSecondFactorResetByAdministrator)
    def _second_factor_reset(self, by: str, system_account: str, timestamp: datetime) -> None:
        pass

    def turn_second_factor_on(self, *, at: datetime) -> None:
        """Her own act at her security page (the factor itself is kept outside the log)."""
        require_aware("at", at)
        self._second_factor_on(timestamp=at)

    @event(StaffSecondFactorTurnedOn)
    def _second_factor_on(self, timestamp: datetime) -> None:
        pass

    def turn_second_factor_off(self, *, at: datetime) -> None:
        require_aware("at", at)
        self._second_factor_off(timestamp=at)

    @event(StaffSecondFactorTurnedOff)
    def _second_factor_off(self, timestamp: datetime) -> None:
        pass

    class StaffLinkedToProvider(Aggregate.Event):
        """The member signed in through an OpenID provider for the first time: the account
        now answers to that identity, with the role (and centre) its group maps to."""

        issuer: str
        subject: str
        group: str
        role: Role
        centre_id: UUID | None

    class StaffRoleChangedByProvider(Aggregate.Event):
        """A later sign-in through the provider came with another group: the role (or the
        centre) it maps to replaces the previous one."""

        issuer: str
        group: str
        role: Role
        centre_id: UUID | None
        previous_role: Role

    def link_to_provider(
        self,
        *,
        issuer: str,
        subject: str,
        group: str,
        role: Role,
        centre_id: UUID | None,
        at: datetime,
    ) -> None:
        """ProviderIdentityIsTheAccounts: one identity per issuer; the same one again is a
        no-op, another subject of the same issuer is refused (it is someone else)."""
        require_aware("at", at)
        if not issuer or not subject:
            raise InvalidArgument("subject", "the provider's issuer and subject are required")
        known = self.identities.get(issuer)
        if known == subject:
            return
        if known is not None:
            raise InvalidArgument("subject", "this account answers to another identity there")
        self._linked(
            issuer=issuer,
            subject=subject,
            group=group,
            role=role,
            centre_id=centre_id,
            timestamp=at,
        )

    @event(StaffLinkedToProvider)
    def _linked(
        self,
        issuer: str,
        subject: str,
        group: str,
        role: Role,
        centre_id: UUID | None,
        timestamp: datetime,
    ) -> None:
        self.identities = {**self.identities, issuer: subject}
        self.role = role
        self.centre_id = centre_id

    def take_role_from_provider(
        self, *, issuer: str, group: str, role: Role, centre_id: UUID | None, at: datetime
    ) -> bool:
        """The role the provider's group maps to now; recorded only when it differs from the
        account's (True then)."""
        require_aware("at", at)
        if issuer not in self.identities:
            raise InvalidArgument("issuer", "this account is not linked to that provider")
        if role is self.role and centre_id == self.centre_id:
            return False
        self._role_changed(
            issuer=issuer,
            group=group,
            role=role,
            centre_id=centre_id,
            previous_role=self.role,
            timestamp=at,
        )
        return True

    @event(StaffRoleChangedByProvider)
    def _role_changed(
        self,
        issuer: str,
        group: str,
        role: Role,
        centre_id: UUID | None,
        previous_role: Role,
        timestamp: datetime,
    ) -> None:
        self.role = role
        self.centre_id = centre_id
