"""The platform's internal network, where a centre's webhooks must not go (issue 16).

A webhook is a POST the platform's worker makes to an address a centre typed. Pointed at the
platform's own machine (127.0.0.1, localhost, [::1]), its private networks (10/8, 172.16/12,
192.168/16, fc00::/7), link-local addresses (169.254.169.254: the cloud's metadata service,
which hands out the machine's credentials) or the like, it would make the worker reach for
the centre what only the platform may reach: server-side request forgery.

Here, only what the address's text says, without asking any resolver: an address of any form
a resolver reads as IPv4 (`2130706433`, `0x7f.1`, `0177.0.0.1` are all 127.0.0.1, as
`inet_aton` reads them), IPv6 between brackets (`[::ffff:127.0.0.1]` is 127.0.0.1 too), and
names that never lead outside (`localhost`, `*.internal`, a one-word name completed by the
resolver's search domains). The delivery adapter resolves every other name and checks each
address it gets with `AllowedNetworks.refuses`.

An operator lets webhooks reach named internal networks or hosts
(VIGIE_WEBHOOK_ALLOWED_NETWORKS, `AllowedNetworks.parse`): none by default."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

from domain.errors import InvalidArgument

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# The machine itself, whatever the resolver says (RFC 6761: localhost and *.localhost).
LOOPBACK_NAME = "localhost"
LOOPBACK = (IPv4Address("127.0.0.1"), IPv6Address("::1"))
# Suffixes networks keep for their own names: RFC 6762's mDNS and its appendix G (intranet,
# internal, private, corp, home, lan), RFC 8375's home.arpa, and `localdomain` of many
# /etc/hosts. `metadata.google.internal` is a cloud's metadata service.
INTERNAL_SUFFIXES = (
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "private",
    "corp",
    "home",
    "lan",
    "home.arpa",
)
# A part of an IPv4 address as inet_aton reads it: decimal, 0x hexadecimal, 0 octal.
_NUMBER = re.compile(r"^(?:0[xX][0-9A-Fa-f]*|[0-9]+)$")
# IPv6 addresses that stand for an IPv4 one: NAT64's well-known prefix (RFC 6052).
_NAT64 = IPv6Network("64:ff9b::/96")
# IPv6's global unicast addresses: everything else is reserved, local or multicast.
_GLOBAL_UNICAST = IPv6Network("2000::/3")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


class NotAnAddress(ValueError):
    """A host written as a number that no resolver reads as an address (`999.1.1.1`,
    `08.1.2.3`, `1.2.3.4.5`, `example.123`): no host name ends with a number."""


def ipv4_of_number(host: str) -> IPv4Address | None:
    """The IPv4 address a resolver reads in `host` written as numbers (inet_aton's forms:
    1 to 4 parts, each decimal, 0x hexadecimal or 0-led octal, the last one filling the
    bytes left; one trailing dot allowed); None for a name. NotAnAddress for a host whose
    last label is a number but which is no address."""
    text = host[:-1] if host.endswith(".") else host
    parts = text.split(".")
    if not _NUMBER.match(parts[-1]):
        return None  # a name (its last label is not a number)
    if len(parts) > 4 or not all(_NUMBER.match(p) for p in parts):
        raise NotAnAddress(host)
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            digits, base = part[2:], 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or (base == 8 and not set(digits) <= set("01234567")):
            raise NotAnAddress(host)
        values.append(int(digits, base))
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (5 - len(values))):
        raise NotAnAddress(host)
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return IPv4Address(number)


def plain(address: Address) -> Address:
    """The IPv4 address an IPv6 one stands for (`::ffff:10.0.0.1`, NAT64's `64:ff9b::a00:1`:
    the packets reach 10.0.0.1), else the address itself."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_internal(address: Address) -> bool:
    """Whether an address is none the internet routes to a centre's machine: loopback,
    private, shared (100.64/10), link-local, multicast, reserved, documentation, or an IPv6
    one standing for such an IPv4 address (mapped, NAT64, 6to4)."""
    address = plain(address)
    if isinstance(address, IPv4Address):
        return not address.is_global or address.is_multicast or address.is_reserved
    if address.sixtofour is not None and is_internal(address.sixtofour):
        return True
    return address not in _GLOBAL_UNICAST or address.is_private or not address.is_global


def _name(host: str) -> str:
    """A host name as compared: lower case, without its one trailing dot."""
    host = host.strip().lower()
    return host[:-1] if host.endswith(".") else host


def internal_name(host: str) -> bool:
    """Whether a host name never leads outside the platform's network: localhost, a name
    under one of INTERNAL_SUFFIXES, or one word (completed by the resolver's search
    domains: `metadata`, `db`, `erp`)."""
    name = _name(host)
    return "." not in name or any(
        name == suffix or name.endswith(f".{suffix}") for suffix in INTERNAL_SUFFIXES
    )


def loopback_name(host: str) -> bool:
    name = _name(host)
    return name == LOOPBACK_NAME or name.endswith(f".{LOOPBACK_NAME}")


@dataclass(frozen=True)
class AllowedNetworks:
    """The internal networks and hosts an operator lets webhooks reach (none by default):
    a test's receivers on 127.0.0.1, a centre's system inside the operator's own network."""

    networks: tuple[Network, ...] = ()
    hosts: tuple[str, ...] = ()  # names, lower case, without a trailing dot

    @classmethod
    def parse(cls, text: str | None) -> AllowedNetworks:
        """`127.0.0.0/8, ::1, 10.20.0.0/16, erp.corp.example`: networks, addresses and host
        names, separated by commas or spaces; InvalidArgument naming the one that is none."""
        networks: list[Network] = []
        hosts: list[str] = []
        for item in re.split(r"[,\s]+", (text or "").strip()):
            if not item:
                continue
            try:
                networks.append(ip_network(item.strip("[]"), strict=True))
                continue
            except ValueError as error:
                if "/" in item:
                    raise InvalidArgument(
                        "allowed_networks",
                        f"{item!r} is no network ({error}; write it as 10.0.0.0/8 or fd00::/8)",
                    ) from None
            name = _name(item)
            if not _HOST_NAME.match(name) or _NUMBER.match(name.split(".")[-1]):
                raise InvalidArgument(
                    "allowed_networks",
                    f"{item!r} is neither a network (10.0.0.0/8), an address (10.0.0.5) nor a "
                    "host name (erp.example.org)",
                )
            hosts.append(name)
        return cls(tuple(networks), tuple(hosts))

    def __str__(self) -> str:
        """As `parse` reads it back."""
        return ",".join([*(str(n) for n in self.networks), *self.hosts])

    def allows(self, address: Address) -> bool:
        """An address of one of the allowed networks (an IPv6 address standing for an IPv4
        one is judged as that one too)."""
        return any(a in n for a in {address, plain(address)} for n in self.networks)

    def refuses(self, address: Address) -> bool:
        """An internal address the operator did not allow: nothing is sent there."""
        return is_internal(address) and not self.allows(address)

    def allows_host(self, host: str) -> bool:
        """A host name the operator named (whatever it resolves to)."""
        return _name(host) in self.hosts

    def refuses_name(self, host: str) -> bool:
        """A name that never leads outside (`internal_name`), unless named, or, for
        localhost, unless one of the loopback addresses is allowed."""
        if not internal_name(host) or self.allows_host(host):
            return False
        return not (loopback_name(host) and any(self.allows(a) for a in LOOPBACK))


NONE_ALLOWED = AllowedNetworks()


def literal_address(host: str) -> Address | None:
    """The address a URL's host is written as (`[::1]`, `127.0.0.1`, `2130706433`), None for
    a name; NotAnAddress (a ValueError) for brackets without an IPv6 address or a number
    that is none."""
    if host.startswith("["):
        return IPv6Address(host.strip("[]"))
    found = ipv4_of_number(host)
    if found is not None:
        return found
    try:  # IPv6 without brackets never gets here from a URL; an address from a resolver may
        return ip_address(host)
    except ValueError:
        return None
