"""`QAError` is the root of every exception qa defines, and each keeps its built-in base."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import qa
from qa.core.errors import QAError

# Entry points that run something when imported (`python -m qa.cli`) are not libraries.
NOT_IMPORTED = {"qa.cli.__main__"}


def qa_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(qa.__path__, "qa."):
        if info.name in NOT_IMPORTED:
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("qa."):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


EXCEPTIONS = qa_exceptions()


def test_the_walk_finds_the_exceptions_of_every_layer() -> None:
    packages = {e.__module__.split(".")[1] for e in EXCEPTIONS}
    assert {"core", "corpus", "embed", "index", "answer", "service", "evaluation"} <= packages


@pytest.mark.parametrize("error", EXCEPTIONS, ids=lambda e: e.__qualname__)
def test_every_exception_qa_defines_derives_from_qa_error(error: type[BaseException]) -> None:
    assert issubclass(error, QAError)


@pytest.mark.parametrize(
    "error", [e for e in EXCEPTIONS if e is not QAError], ids=lambda e: e.__qualname__
)
def test_each_keeps_a_more_specific_base_so_old_excepts_still_catch_it(
    error: type[BaseException],
) -> None:
    """Besides QAError, each has a base from outside qa narrower than `Exception` (ValueError,
    RuntimeError, Starlette's HTTPException...), so an `except ValueError` written before
    QAError existed still catches it."""
    generic = {Exception, BaseException, object}
    outside = [b for b in error.__mro__ if not b.__module__.startswith("qa") and b not in generic]
    assert outside, error.__mro__
