"""The domain stays pure: only the standard library (no I/O modules) and eventsourcing.domain."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "src" / "domain"
# Standard-library modules that reach outside the process or the clock's randomness.
IMPURE_STDLIB = {
    "os", "sys", "io", "socket", "sqlite3", "random", "secrets", "time", "subprocess",
    "pathlib", "shutil", "tempfile", "threading", "asyncio", "urllib", "http", "logging",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_domain_imports_only_pure_standard_modules_and_the_aggregate_base() -> None:
    offending: list[str] = []
    files = sorted(DOMAIN.glob("*.py"))
    assert files, "no domain modules found"
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                module == "eventsourcing.domain"
                or top in ("domain", "__future__")
                or (top in sys.stdlib_module_names and top not in IMPURE_STDLIB)
            )
            if not allowed:
                offending.append(f"{path.name}: {module}")
    assert not offending, offending


def test_the_domain_never_reads_the_clock() -> None:
    calls = ("datetime.now", "date.today", "datetime.utcnow", "uuid4(", "uuid1(")
    found = [
        f"{path.name}: {call}"
        for path in DOMAIN.glob("*.py")
        for call in calls
        if call in path.read_text(encoding="utf-8")
    ]
    assert not found, found
