"""Issue 16: the group → role mapping of single sign-on, as properties. The operator's text
reads back to the same mapping; the first listed group a member is in decides, whatever else
they are in and in whatever order the provider lists them; a member in none is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidArgument
from domain.staff import Role
from domain.staff_groups import GroupGrant, GroupRoles

# Group names as providers spell them: plain, paths (Keycloak), LDAP DNs (with '=' and ',').
GROUP = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
    st.from_regex(r"/[a-z]{1,8}(/[a-z]{1,8}){0,2}", fullmatch=True),
    st.from_regex(r"cn=[a-z]{1,8},ou=[a-z]{1,8},dc=[a-z]{1,5}", fullmatch=True),
)


@st.composite
def mappings(draw: st.DrawFn) -> GroupRoles:
    groups = draw(st.lists(GROUP, min_size=1, max_size=6, unique=True))
    grants = []
    for group in groups:
        role = draw(st.sampled_from(list(Role)))
        centre = (
            draw(st.none() | st.just(f"{group.strip('/')[:5] or 'c'}@centre.example"))
            if role is Role.CENTRE
            else None
        )
        grants.append(GroupGrant(group, role, centre.replace(",", "") if centre else None))
    return GroupRoles(tuple(grants))


@given(mappings())
def test_the_settings_text_reads_back_to_the_same_mapping(mapping: GroupRoles) -> None:
    assert GroupRoles.parse(mapping.text()) == mapping


@given(mappings(), st.data())
def test_the_first_listed_group_a_member_is_in_decides(
    mapping: GroupRoles, data: st.DataObject
) -> None:
    listed = [g.group for g in mapping.grants]
    theirs = data.draw(st.lists(st.sampled_from(listed), unique=True))
    others = data.draw(st.lists(GROUP.filter(lambda g: g not in listed), max_size=3))
    order = data.draw(st.permutations(theirs + others))
    found = mapping.grant_for(order)
    if not theirs:
        assert found is None
    else:
        first = min(theirs, key=listed.index)
        assert found == mapping.grants[listed.index(first)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "examiners",
        "=examiner",
        "examiners=boss",
        "examiners=examiner; examiners=auditor",
        "examiners=examiner:centre@example.org",
        "centre-lyon=centre:not-an-address",
    ],
)
def test_a_mapping_that_cannot_be_read_names_the_setting(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        GroupRoles.parse(text)
    assert refused.value.field == "VIGIE_OIDC_GROUPS"
