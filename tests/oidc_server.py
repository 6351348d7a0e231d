"""A real OpenID provider for the single sign-on tests (issue 16): node-oidc-provider (npm,
pinned by tests/oidc_provider/package-lock.json), started by the test on 127.0.0.1 and a free
port, with its development interactions (a login form that takes any name and password, then
a consent page) and a `groups` claim per account.

Its packages are installed on first use with `npm ci` (under a file lock: two test processes
may ask at once) into tests/oidc_provider/node_modules, which git ignores; a changed lock file
installs them again. Without Node and npm the tests skip, except under CI, where they fail."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import json
import os
import re
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

HERE = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "vigie-staff"
CLIENT_SECRET = "vigie-test-client-secret-0123456789"
START_S = 20.0


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed (the single sign-on tests run node-oidc-provider)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the single sign-on tests: {message}", pytrace=False)
        pytest.skip(message)
    return found


def ensure_installed() -> None:
    """`npm ci` once per lock file: node_modules records the lock's digest it was made from."""
    npm = _need("npm")
    digest = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    stamp = HERE / "node_modules" / ".vigie-lock-digest"
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest:
            return
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            timeout=300,
        )
        stamp.write_text(digest)


@dataclass(frozen=True)
class RunningProvider:
    """The running provider: its issuer, this platform's client there, and its accounts
    (a file it reads at every sign-in)."""

    issuer: str
    accounts_file: Path
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def set_account(self, login: str, **claims: Any) -> None:
        """Change what the provider says of `login` from its next sign-in (its groups...)."""
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login] = {**accounts.get(login, {}), **claims}
        self.accounts_file.write_text(json.dumps(accounts))


@contextlib.contextmanager
def running_provider(
    *, redirect_uris: list[str], accounts: dict[str, dict[str, Any]], log: Path
) -> Iterator[RunningProvider]:
    """The provider until the block ends. `accounts` maps a login typed on its form to
    {"email", "name", "groups", "email_verified"}; any other login is an account in no group."""
    node = _need("node")
    ensure_installed()
    accounts_file = log.with_name(log.stem + "-accounts.json")
    accounts_file.write_text(json.dumps(accounts))
    setup = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "accounts_file": str(accounts_file),
    }
    with open(log, "wb") as errors:
        child = subprocess.Popen(
            [node, str(HERE / "provider.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "VIGIE_TEST_OIDC": json.dumps(setup)},
        )
        try:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], START_S)
            line = child.stdout.readline() if ready else b""
            if not line:
                raise AssertionError(f"the test provider did not start: {log.read_text()}")
            yield RunningProvider(json.loads(line)["issuer"], accounts_file)
        finally:
            assert child.stdin is not None
            child.stdin.close()  # the provider's signal to stop
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r"<input([^>]*)>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def _form(page: str, base: str) -> tuple[str, dict[str, str]]:
    """The page's (first) form: where it posts, and its named fields with their values."""
    found = _FORM.search(page)
    assert found is not None, f"no form on the provider's page: {page[:500]}"
    fields: dict[str, str] = {}
    for attributes in _INPUT.findall(found.group(2)):
        values = dict(_ATTRIBUTE.findall(attributes))
        if "name" in values:
            fields[values["name"]] = html.unescape(values.get("value", ""))
    return urljoin(base, html.unescape(found.group(1))), fields


def sign_in_at_provider(
    http: httpx.Client, authorization_url: str, *, login: str, back_to: str
) -> str:
    """What a person does at the provider, as HTTP: follow its redirects, type `login` (and
    any password) on its login form, accept its consent page; returns the address it sends
    the browser back to (which starts with `back_to`), without following it."""
    url = authorization_url
    for _ in range(12):
        reply = http.get(url)
        while True:
            if reply.is_redirect:
                url = urljoin(str(reply.url), reply.headers["location"])
                if url.startswith(back_to):
                    return url
                break
            assert reply.status_code == 200, f"{reply.status_code} from the provider: {reply.text}"
            action, fields = _form(reply.text, str(reply.url))
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password")
            reply = http.post(action, data=fields)
    raise AssertionError("the provider never sent the browser back")
