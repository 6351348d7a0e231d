"""Issue 15, point 8: the container image and the compose file say what the code does.

No Docker daemon runs here, so the image is not built in CI; what can go wrong between the
files and the code is checked instead: the package the image installs carries every file the
app reads (templates, scripts, catalogues, translations); every command the compose file runs
is one `vigie` accepts; every VIGIE_* setting it sets is one the code reads; every file it
mounts is in the repository; HAProxy accepts the shipped configuration.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from ui.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTING = re.compile(r"\bVIGIE_[A-Z0-9_]+\b")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _tracked_data_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "src"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [
        Path(name)
        for name in listed
        if not name.endswith(".py") and ".egg-info/" not in name and not name.endswith(".typed")
    ]


def test_the_package_the_image_installs_carries_every_file_the_app_reads() -> None:
    """`pip install .` (the image's build step) takes package data by the globs of
    pyproject.toml: a template or a script in a new folder would be missing from the image
    while every test run from the source tree passes."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    missing = []
    for path in _tracked_data_files():
        package, inner = path.parts[1], Path(*path.parts[2:])
        if not any(fnmatch.fnmatch(str(inner), pattern) for pattern in globs.get(package, [])):
            missing.append(str(path))
    assert missing == [], f"add them to [tool.setuptools.package-data]: {missing}"


def test_the_dockerfile_copies_what_exists_and_runs_the_vigie_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE):
        for name in source.split():
            assert (ROOT / name).exists(), f"Dockerfile copies {name}, which is not there"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert 'ENTRYPOINT ["vigie"]' in dockerfile and "vigie" in scripts
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.MULTILINE)
    assert cmd is not None
    _parser().parse_args(yaml.safe_load(cmd.group(1)))


def test_every_command_of_the_compose_file_is_one_vigie_accepts() -> None:
    services = _compose()["services"]
    roles = {}
    for name, service in services.items():
        if service.get("image") != "vigie:latest":
            continue
        args = _parser().parse_args(service["command"])  # SystemExit on an unknown option
        roles[name] = args.command
        # Demo accounts have public passwords: a deployment never seeds them.
        assert getattr(args, "demo", None) is not True, f"{name} seeds the demo accounts"
    assert sorted(roles.values()) == ["serve", "serve", "worker"], roles


def test_every_setting_the_compose_file_sets_is_one_the_code_reads() -> None:
    code = "\n".join(path.read_text() for path in (ROOT / "src").rglob("*.py"))
    read = set(SETTING.findall(code))
    named = set(SETTING.findall((DEPLOY / "compose.yaml").read_text()))
    named |= set(SETTING.findall((DEPLOY / "env.example").read_text()))
    # HAProxy's own variables (deploy/haproxy.cfg), not the platform's.
    named -= {"VIGIE_PROXY_BIND", "VIGIE_NODE_A", "VIGIE_NODE_B", "VIGIE_HTTP_PORT"}
    assert named - read == set(), f"set by the deployment, read by nothing: {named - read}"


def test_every_file_the_compose_file_mounts_is_in_the_repository() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is not there"


def test_haproxy_accepts_the_shipped_configuration() -> None:
    if shutil.which("haproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed", pytrace=False)
        pytest.skip("haproxy is not installed")
    env = {
        **os.environ,
        "VIGIE_PROXY_BIND": "127.0.0.1:8080",
        "VIGIE_NODE_A": "127.0.0.1:1",
        "VIGIE_NODE_B": "127.0.0.1:2",
    }
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
