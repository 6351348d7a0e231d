"""Two `vigie serve` worker processes behind one address pass the happy path: nothing a
candidate needs lives in one process (sessions in a signed cookie, state in the store)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import _free_port
from tests.browser.test_candidate_journey import (
    pass_checks,
    record_environment,
    shot,
    take_photos,
)
from tests.conftest import morning_clock_offset
from ui.serve import DEMO_EMAIL, DEMO_PASSWORD


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env={
            **env,
            "PYTHONPATH": os.pathsep.join(sys.path),
            # 9:00 in Paris whatever the hour: the exam must end the day it begins (R16).
            "VIGIE_CLOCK_OFFSET": str(morning_clock_offset()),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = ""
    deadline = time.monotonic() + 60
    while "invitation link" not in banner and time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line and process.poll() is not None:
            break
        banner += line
    assert "invitation link" in banner, banner
    _wait_for_port(port)
    yield banner
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_two_workers_behind_one_address_pass_the_happy_path(page: Any, two_workers: str) -> None:
    invitation = re.search(r"http://\S+/sessions/new\?t=\S+", two_workers).group(0)  # type: ignore[union-attr]
    page.goto(invitation)
    page.get_by_role("button", name="Créer ma session").click()
    assert page.locator("#outcome").get_attribute("data-outcome") == "created"
    page.get_by_role("button", name="Se connecter").click()  # a link styled as a button
    page.get_by_label("Adresse e-mail").fill(DEMO_EMAIL)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Accepter les CGU").click()
    pass_checks(page, None)  # type: ignore[arg-type]
    take_photos(page)
    record_environment(page)
    page.get_by_role("heading", name="Portail de certification").wait_for()
    page.get_by_label("Mot de passe").fill("portail-pass-1")
    page.get_by_label("Date de naissance").fill("1990-05-17")
    page.get_by_label("Lieu de naissance").fill("Nantes")
    page.locator("#civility").select_option("Madame")  # nothing is pre-selected
    page.get_by_role("button", name="Créer").click()
    page.get_by_role("button", name=re.compile("À démarrer")).click()
    page.get_by_role("button", name="Je démarre maintenant").click()
    page.get_by_role("button", name="Commencer").click()
    page.get_by_role("button", name="Terminer l'examen", exact=True).click()
    page.get_by_role("button", name="Oui, terminer l'examen").click()  # asked first
    code = page.locator("#validation-code").inner_text()
    page.get_by_label(re.compile("Valider l'examen")).fill(code)
    page.get_by_role("button", name="Oui, envoyer").click()
    page.locator("#sent").wait_for()
    shot(page, "11-two-workers-sent")
