"""A centre's webhook never points into the platform's own network (domain.internal_network,
domain.integrations.check_url): an internal address is refused at subscription in every
form a resolver reads it (decimal, hexadecimal, octal, short IPv4 forms, IPv6 standing for
IPv4, a trailing dot), as are names that never lead outside; nothing is recorded. An
operator's setting (VIGIE_WEBHOOK_ALLOWED_NETWORKS) lets named networks or hosts through."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidArgument
from domain.integrations import BadUrl, CentreIntegrations, UrlProblem, WebhookEvent, check_url
from domain.internal_network import AllowedNetworks, ipv4_of_number

T0 = datetime(2025, 3, 4, 9, tzinfo=UTC)

INTERNAL_V4 = [
    IPv4Network(n)
    for n in (
        "127.0.0.0/8",  # this machine
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",  # link-local: 169.254.169.254 is the cloud's metadata
        "0.0.0.0/8",  # 0.0.0.0 reaches this machine on Linux
        "100.64.0.0/10",  # shared address space (carrier NAT, some clouds' internal networks)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",
    )
]
INTERNAL_V6 = [IPv6Network(n) for n in ("::1/128", "::/128", "fc00::/7", "fe80::/10", "ff00::/8")]
PUBLIC_V4 = [IPv4Network(n) for n in ("8.8.0.0/16", "1.1.1.0/24", "93.184.0.0/16")]
PUBLIC_V6 = [IPv6Network(n) for n in ("2606:4700::/32", "2a00:1450::/32")]
LOOPBACK = AllowedNetworks.parse("127.0.0.0/8")


def in_network(network: IPv4Network | IPv6Network) -> st.SearchStrategy[int]:
    return st.integers(int(network.network_address), int(network.broadcast_address))


internal_v4 = st.sampled_from(INTERNAL_V4).flatmap(in_network).map(IPv4Address)
public_v4 = st.sampled_from(PUBLIC_V4).flatmap(in_network).map(IPv4Address)


@st.composite
def ipv4_forms(draw: st.DrawFn, address: IPv4Address) -> str:
    """`address` as inet_aton reads it: 1 to 4 parts (the last one filling the bytes left),
    each in decimal, 0x hexadecimal (either case) or 0-led octal, perhaps a trailing dot."""
    parts = draw(st.integers(1, 4))
    number = int(address)
    values = [(number >> (8 * (3 - i))) & 0xFF for i in range(parts - 1)]
    values.append(number & ((1 << (8 * (5 - parts))) - 1))
    written = []
    for value in values:
        base = draw(st.sampled_from(["dec", "hex", "HEX", "oct"]))
        if base == "dec":
            written.append(str(value))
        elif base == "oct":
            written.append("0" + format(value, "o"))
        else:
            digits = format(value, "x" if base == "hex" else "X")
            written.append(("0x" if base == "hex" else "0X") + digits)
    return ".".join(written) + draw(st.sampled_from(["", "."]))


@st.composite
def ipv6_forms(draw: st.DrawFn, address: IPv6Address) -> str:
    """`address` between brackets: compressed, in full, in capitals, or IPv4-mapped as
    dotted IPv4 (`[::ffff:127.0.0.1]`)."""
    form = draw(st.sampled_from(["compressed", "exploded", "upper", "dotted"]))
    if form == "dotted" and address.ipv4_mapped is not None:
        return f"[::ffff:{address.ipv4_mapped}]"
    text = address.exploded if form == "exploded" else address.compressed
    return f"[{text.upper() if form == 'upper' else text}]"


def mapped(address: IPv4Address) -> IPv6Address:
    return IPv6Address(f"::ffff:{address}")


def nat64(address: IPv4Address) -> IPv6Address:
    return IPv6Address(int(IPv6Address("64:ff9b::")) | int(address))


internal_v6 = st.one_of(
    st.sampled_from(INTERNAL_V6).flatmap(in_network).map(IPv6Address),
    internal_v4.map(mapped),
    internal_v4.map(nat64),
)


def url_for(host: str, draw_port: int | None, path: str) -> str:
    return f"http://{host}{'' if draw_port is None else f':{draw_port}'}{path}"


ports = st.none() | st.integers(1, 65535)
paths = st.sampled_from(["", "/", "/hooks", "/latest/meta-data/?x=1"])


def refused_as_internal(url: str, allowed: AllowedNetworks | None = None) -> BadUrl:
    with pytest.raises(BadUrl) as refused:
        check_url(url, allowed) if allowed is not None else check_url(url)
    assert refused.value.field == "url"
    assert refused.value.problem is UrlProblem.INTERNAL, refused.value
    return refused.value


@given(st.data(), internal_v4, ports, paths)
def test_an_internal_ipv4_address_is_refused_in_every_form_a_resolver_reads(
    data: st.DataObject, address: IPv4Address, port: int | None, path: str
) -> None:
    written = data.draw(ipv4_forms(address))
    # The form is one the system's resolver reads as that very address (inet_aton).
    assert socket.inet_aton(written.removesuffix(".")) == address.packed
    assert ipv4_of_number(written) == address
    refusal = refused_as_internal(url_for(written, port, path))
    assert refusal.host == written and refusal.address == str(address)


@given(st.data(), internal_v6, ports, paths)
def test_an_internal_ipv6_address_is_refused_mapped_nat64_or_plain(
    data: st.DataObject, address: IPv6Address, port: int | None, path: str
) -> None:
    refused_as_internal(url_for(data.draw(ipv6_forms(address)), port, path))


@given(st.data(), public_v4, ports, paths)
def test_a_public_ipv4_address_is_accepted_in_any_form(
    data: st.DataObject, address: IPv4Address, port: int | None, path: str
) -> None:
    url = url_for(data.draw(ipv4_forms(address)), port, path)
    assert check_url(url) == url


@given(st.data(), st.sampled_from(PUBLIC_V6).flatmap(in_network).map(IPv6Address), ports)
def test_a_public_ipv6_address_is_accepted(
    data: st.DataObject, address: IPv6Address, port: int | None
) -> None:
    url = url_for(data.draw(ipv6_forms(address)), port, "/hooks")
    assert check_url(url) == url


LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@given(
    st.lists(LABEL, max_size=2),
    st.sampled_from(
        ["localhost", "local", "localdomain", "internal", "intranet", "lan", "home.arpa"]
    ),
    st.booleans(),
    st.booleans(),
)
def test_a_name_that_never_leads_outside_is_refused(
    labels: list[str], suffix: str, capitals: bool, trailing_dot: bool
) -> None:
    """localhost (and *.localhost), the suffixes networks keep for themselves
    (metadata.google.internal), whatever their case and with a trailing dot."""
    host = ".".join([*labels, suffix]) + ("." if trailing_dot else "")
    refusal = refused_as_internal(f"https://{host.upper() if capitals else host}/hook")
    assert refusal.address == ""


@given(LABEL)
def test_a_one_word_name_is_refused_as_internal(word: str) -> None:
    """`erp`, `metadata`: completed by the resolver's search domains, inside the network."""
    refused_as_internal(f"http://{word}:8080/")


@given(st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["org", "fr", "example", "io"]))
def test_a_public_name_is_accepted_for_the_delivery_to_check(labels: list[str], tld: str) -> None:
    url = f"https://{'.'.join([*labels, tld])}/vigie"
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/",
        "http://172.16.3.4/",
        "http://192.168.1.1/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0:8000/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://127.0.0.1./",
        "http://localhost./",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_the_addresses_seen_in_the_report_are_refused_and_nothing_is_recorded(url: str) -> None:
    found = CentreIntegrations.open(centre_id=UUID(int=1), at=T0)
    found.collect_events()
    with pytest.raises(BadUrl) as refused:
        found.subscribe(
            subscription_id=UUID(int=4),
            url=url,
            events=(WebhookEvent.SESSION_CREATED,),
            subscribed_by=UUID(int=2),
            at=T0,
        )
    assert refused.value.problem is UrlProblem.INTERNAL
    assert "internal network" in refused.value.message
    assert found.collect_events() == [] and found.subscriptions == {}


@pytest.mark.parametrize("url", ["http://999.1.1.1/", "http://08.0.0.1/", "http://1.2.3.4.5/"])
def test_a_number_no_resolver_reads_as_an_address_is_no_host(url: str) -> None:
    """No host name ends with a number: refused as a host, never passed on as a name."""
    with pytest.raises(BadUrl) as refused:
        check_url(url)
    assert refused.value.problem is UrlProblem.HOST


@given(st.data(), st.integers(int(IPv4Address("127.0.0.0")), int(IPv4Address("127.255.255.255"))))
def test_the_operators_setting_lets_its_networks_through_and_no_other(
    data: st.DataObject, number: int
) -> None:
    address = IPv4Address(number)
    for url in (
        f"http://{data.draw(ipv4_forms(address))}:8000/hook",
        f"http://[::ffff:{address}]/",
    ):
        assert check_url(url, LOOPBACK) == url
    for other in ("http://10.0.0.1/", "http://169.254.169.254/", "http://[::1]/", "http://db/"):
        refused_as_internal(other, LOOPBACK)


def test_localhost_is_let_through_with_a_loopback_network_and_a_name_when_named() -> None:
    assert check_url("http://localhost:8000/", LOOPBACK)
    assert check_url("http://localhost:8000/", AllowedNetworks.parse("::1"))
    named = AllowedNetworks.parse("erp.corp, 10.20.0.0/16")
    assert check_url("http://ERP.corp./hooks", named)
    assert check_url("http://10.20.3.4/hooks", named)
    refused_as_internal("http://crm.corp/", named)
    refused_as_internal("http://localhost/", named)


@given(
    st.lists(
        st.one_of(
            st.sampled_from(INTERNAL_V4 + PUBLIC_V4).map(str),
            st.sampled_from(INTERNAL_V6 + PUBLIC_V6).map(str),
            st.builds(lambda a, b: f"{a}.{b}", LABEL, LABEL),
        ),
        max_size=5,
    )
)
def test_the_setting_reads_back_as_written(items: list[str]) -> None:
    parsed = AllowedNetworks.parse(", ".join(items))
    assert AllowedNetworks.parse(str(parsed)) == parsed
    assert len(parsed.networks) + len(parsed.hosts) == len(items)


@pytest.mark.parametrize("text", ["10.1.2.3/8", "10.0.0.0/33", "bad_name", "999.1.1.1", "x/y"])
def test_a_setting_that_names_no_network_nor_host_is_refused_naming_it(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        AllowedNetworks.parse(f"127.0.0.0/8, {text}")
    assert refused.value.field == "allowed_networks" and repr(text) in refused.value.message
