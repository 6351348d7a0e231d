"""Staff: examiners, support agents, centre operators and auditors (their own personal data).

A member may also sign in through their organisation's OpenID provider (issue 16): the first
time, the account is created or linked to the provider's identity (issuer and subject) with
the role its group maps to; on a later sign-in a changed group changes the role, and each is
an event naming the issuer and the group it came from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.candidate import check_email
from domain.errors import InvalidArgument, require_aware


class Role(StrEnum):
    """Who does what (design/product.md, 'Who uses it')."""

    EXAMINER = "examiner"
    SUPPORT = "support"
    CENTRE = "centre"
    AUDITOR = "auditor"


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
        password_hash: str

    @event(StaffRegistered)
    def __init__(self, email: str, name: str, role: Role, language: str) -> None:
        self.email = email
        self.name = name
        self.role = role
        self.language = language
        self.password_hash = None
        self.identities = {}
        self.centre_id = None

    def set_password(self, *, at: datetime, password_hash: str) -> None:
        """The staff member's own password (hashed by the application)."""
        require_aware("at", at)
        if not password_hash:
            raise InvalidArgument("password", "required")
        self._password_set(password_hash=password_hash, timestamp=at)

    @event(StaffPasswordSet)
    def _password_set(self, password_hash: str, timestamp: datetime) -> None:
        self.password_hash = password_hash

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
