"""Staff: examiners, support agents, centre operators and auditors (their own personal data)."""

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

    def set_password(self, *, at: datetime, password_hash: str) -> None:
        """The staff member's own password (hashed by the application)."""
        require_aware("at", at)
        if not password_hash:
            raise InvalidArgument("password", "required")
        self._password_set(password_hash=password_hash, timestamp=at)

    @event(StaffPasswordSet)
    def _password_set(self, password_hash: str, timestamp: datetime) -> None:
        self.password_hash = password_hash
