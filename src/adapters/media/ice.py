"""ICE servers as settings (issue 15): the STUN and TURN servers both peers of a live connection
use, the proctoring page and the examiner's view on one side, aiortc on the server on the other.

`VIGIE_ICE_SERVERS` lists their URLs, comma-separated (`stun:turn.example.org:3478,
turn:turn.example.org:3478?transport=udp`); empty (the default) is a local platform where
every peer reaches the server directly. A TURN server is used with coturn's shared-secret
scheme (`use-auth-secret` + `static-auth-secret`, the "TURN REST API"): each peer gets a user
name `<expiry>:<who>` and the password base64(HMAC-SHA1(secret, user name)), valid until the
expiry, so no long-lived TURN password ever reaches a browser. `VIGIE_TURN_SECRET` is coturn's
`static-auth-secret`; `VIGIE_TURN_TTL` how long a credential lasts (seconds, 6 h by default:
longer than an exam, and each connection of a page asks for a fresh one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
DEFAULT_TURN_TTL_S = 6 * 3600


@dataclass(frozen=True)
class IceServers:
    """The ICE servers of this platform, and the means to sign TURN credentials."""

    urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl_s: int = DEFAULT_TURN_TTL_S

    @property
    def stun(self) -> tuple[str, ...]:
        return tuple(u for u in self.urls if u.startswith(("stun:", "stuns:")))

    @property
    def turn(self) -> tuple[str, ...]:
        return tuple(u for u in self.urls if u.startswith(("turn:", "turns:")))

    def credential(self, who: str, now: datetime) -> tuple[str, str]:
        """coturn's REST credential for `who`: (user name, password), valid for the TTL."""
        if self.turn_secret is None:
            raise ValueError("VIGIE_TURN_SECRET is not set")
        expiry = math.floor(now.timestamp()) + self.turn_ttl_s
        username = f"{expiry}:{who}"
        digest = hmac.new(self.turn_secret.encode(), username.encode(), hashlib.sha1).digest()
        return username, base64.b64encode(digest).decode()

    def for_peer(self, who: str, now: datetime) -> list[dict[str, Any]]:
        """What `new RTCPeerConnection({iceServers})` takes (a page), for peer `who`."""
        servers: list[dict[str, Any]] = []
        if self.stun:
            servers.append({"urls": list(self.stun)})
        if self.turn:
            username, password = self.credential(who, now)
            servers.append({"urls": list(self.turn), "username": username, "credential": password})
        return servers


def parse_ice_servers(
    urls: str | None, turn_secret: str | None, turn_ttl: str | None = None
) -> IceServers:
    """VIGIE_ICE_SERVERS, VIGIE_TURN_SECRET and VIGIE_TURN_TTL, checked at start: a wrong value
    stops the start with an error naming the setting (not a camera that never connects)."""
    listed = tuple(u.strip() for u in (urls or "").split(",") if u.strip())
    for url in listed:
        if not url.startswith(SCHEMES) or len(url.split(":", 1)[1]) == 0:
            raise ValueError(
                f"VIGIE_ICE_SERVERS: each entry is a stun:, stuns:, turn: or turns: URL "
                f"(host[:port][?transport=udp|tcp]), not {url!r}"
            )
        if any(c.isspace() for c in url):
            raise ValueError(f"VIGIE_ICE_SERVERS: no spaces inside a URL, as in {url!r}")
    secret = turn_secret or None
    has_turn = any(u.startswith(("turn:", "turns:")) for u in listed)
    if has_turn and secret is None:
        raise ValueError(
            "VIGIE_TURN_SECRET is not set, and VIGIE_ICE_SERVERS names a TURN server: set it "
            "to coturn's static-auth-secret (use-auth-secret in turnserver.conf)"
        )
    if secret is not None and not has_turn:
        raise ValueError("VIGIE_TURN_SECRET is set, but VIGIE_ICE_SERVERS names no turn: URL")
    if secret is not None and len(secret) < 16:
        raise ValueError("VIGIE_TURN_SECRET is too short: at least 16 characters")
    ttl = DEFAULT_TURN_TTL_S
    if turn_ttl:
        try:
            ttl = int(turn_ttl)
        except ValueError:
            raise ValueError(
                f"VIGIE_TURN_TTL: a whole number of seconds, not {turn_ttl!r}"
            ) from None
        if not 60 <= ttl <= 7 * 24 * 3600:
            raise ValueError(f"VIGIE_TURN_TTL: between 60 s and 7 days, not {ttl}")
    return IceServers(listed, secret, ttl)
