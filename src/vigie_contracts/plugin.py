"""The pytest plugin that gives the packaged contracts their `adapter`, made by a factory.

    pytest path/to/vigie_contracts/key_store.py -p vigie_contracts.plugin \
        --contract-adapter mod:factory

A factory is a callable: with no required argument it is called as is; with one it is given
a fresh empty folder (pytest's `tmp_path`), for adapters that keep files. What it returns is
closed after the test when it has a `close()` method.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

Factory = Callable[..., Any]


class FactoryError(ValueError):
    """The `module:factory` given cannot be imported or is not a callable."""


def load_factory(spec: str) -> Factory:
    """The callable named by `package.module:name` (the name may be dotted)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise FactoryError(f"{spec!r} is not module:factory (for instance mystore:make_store)")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise FactoryError(f"cannot import {module_name!r}: {error}") from error
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise FactoryError(f"{module_name!r} has no {attribute!r}") from None
    if not callable(found):
        raise FactoryError(f"{spec!r} is not callable")
    return cast(Factory, found)


def wants_folder(factory: Factory) -> bool:
    """Whether the factory has a required argument, which is then given a folder."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: call them bare
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in positional and p.default is p.empty for p in parameters)


@contextmanager
def open_adapter(factory: Factory, folder: Path) -> Iterator[Any]:
    """A fresh adapter from the factory, closed afterwards if it can be."""
    made = factory(folder) if wants_folder(factory) else factory()
    try:
        yield made
    finally:
        close = getattr(made, "close", None)
        if callable(close):
            close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--contract-adapter",
        metavar="MODULE:FACTORY",
        help="the factory making the adapter the packaged contract checks",
    )


@pytest.fixture
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh adapter per test, made by the factory given with --contract-adapter."""
    spec = request.config.getoption("contract_adapter")
    if not spec:
        pytest.fail("give the factory: --contract-adapter module:factory", pytrace=False)
    try:
        factory = load_factory(spec)
    except FactoryError as error:
        pytest.fail(str(error), pytrace=False)
    with open_adapter(factory, tmp_path) as made:
        yield made


def pytest_configure(config: pytest.Config) -> None:
    # The contract's helpers (checks, samples) get pytest's assert messages too; the module
    # under test is rewritten already, being a path pytest was given.
    helpers = [f"vigie_contracts.{name}" for name in ("checks", "samples")]
    pytest.register_assert_rewrite(*(name for name in helpers if name not in sys.modules))
