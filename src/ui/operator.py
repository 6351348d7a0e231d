"""Who runs an administrator's command (`vigie staff reset-…`, `vigie privacy erase`): the
name they give with `--by` and the machine's account the command runs as, both recorded."""

from __future__ import annotations

import os
import pwd
import socket
from typing import Any


def by_argument(action: Any) -> None:
    action.add_argument(
        "--by",
        default="",
        help="who you are (your name or e-mail), kept in the log as the administrator who "
        "did it, with the system account this command runs as (always kept)",
    )


def system_account() -> str:
    """The machine's account this command runs as, and on which host (« root@vigie-1 »);
    behind `sudo`, the person who ran it too (« root@vigie-1 (sudo: alice) »)."""
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:  # a container's user with no entry in /etc/passwd
        user = f"uid {uid}"
    account = f"{user}@{socket.gethostname()}"
    sudo = os.environ.get("SUDO_USER", "")
    return f"{account} (sudo: {sudo})" if sudo and sudo != user else account
