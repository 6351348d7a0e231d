"""Which role an OpenID provider's groups give a member of staff (issue 16, single sign-on).

The platform's operator lists, in order, the provider's groups that open Vigie and the role
each gives (`VIGIE_OIDC_GROUPS`); a centre operator's group may also name the centre it works
for, by the e-mail of that centre's local account (a centre's id is derived from its first
account, app.tenancy). A member in several listed groups gets the first one's role: the order
is the operator's precedence. A member in none of them is refused."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.candidate import check_email
from domain.errors import InvalidArgument
from domain.staff import Role

SETTING = "VIGIE_OIDC_GROUPS"
# group=role[:centre]: the group is everything before the last `=` that a role word follows
# (a greedy match), so a group or a centre's address may hold `=` and `:` themselves.
_ENTRY = re.compile(r"(?P<group>.*)=\s*(?P<role>[A-Za-z]+)\s*(?:(?P<colon>:)(?P<centre>.*))?")


@dataclass(frozen=True)
class GroupGrant:
    """One line of the mapping: members of `group` work as `role` (for the centre whose
    local account is `centre_email`, when given)."""

    group: str
    role: Role
    centre_email: str | None = None


@dataclass(frozen=True)
class GroupRoles:
    """The operator's mapping, in precedence order."""

    grants: tuple[GroupGrant, ...]

    @classmethod
    def parse(cls, text: str) -> GroupRoles:
        """`group=role` entries separated by `;` or new lines; a centre's entry may end with
        `:centre-account@example.org`. The role is after the last `=` a role word follows,
        so an LDAP group name (`cn=examiners,ou=groups,dc=example,dc=org=examiner`) works as
        it is."""
        grants: list[GroupGrant] = []
        for raw in text.replace("\n", ";").split(";"):
            entry = raw.strip()
            if not entry:
                continue
            found = _ENTRY.fullmatch(entry)
            if found is None:
                raise InvalidArgument(SETTING, f"{entry!r} is not group=role")
            group, role_text = found["group"].strip(), found["role"]
            colon, centre = found["colon"] or "", found["centre"] or ""
            if not group:
                raise InvalidArgument(SETTING, f"{entry!r} is not group=role")
            try:
                role = Role(role_text.strip())
            except ValueError:
                roles = ", ".join(r.value for r in Role)
                raise InvalidArgument(
                    SETTING, f"{role_text.strip()!r} is not a role ({roles})"
                ) from None
            centre_email = None
            if colon:
                if role is not Role.CENTRE:
                    raise InvalidArgument(SETTING, f"only a centre role names a centre: {entry!r}")
                try:
                    centre_email = check_email(centre)
                except InvalidArgument:
                    raise InvalidArgument(
                        SETTING, f"{centre.strip()!r} is not a centre account's e-mail"
                    ) from None
            if any(g.group == group for g in grants):
                raise InvalidArgument(SETTING, f"the group {group!r} is listed twice")
            grants.append(GroupGrant(group, role, centre_email))
        if not grants:
            raise InvalidArgument(SETTING, "list at least one group=role")
        return cls(tuple(grants))

    def grant_for(self, groups: Iterable[str]) -> GroupGrant | None:
        """FirstListedGroupDecides: the first grant whose group the member is in; None when
        they are in no listed group (they are refused)."""
        member_of = set(groups)
        return next((g for g in self.grants if g.group in member_of), None)

    def text(self) -> str:
        """The mapping as `parse` reads it (to hand the same settings to another process)."""
        return "; ".join(
            f"{g.group}={g.role.value}" + (f":{g.centre_email}" if g.centre_email else "")
            for g in self.grants
        )
