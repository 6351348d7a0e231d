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

    @event(StaffRegistered)
    def __init__(self, email: str, name: str, role: Role, language: str) -> None:
        self.email = email
        self.name = name
        self.role = role
        self.language = language
