"""The root of qa's own exceptions.

Every exception qa defines derives from `QAError` as well as from the built-in it always had
(`ValueError` for bad input, `RuntimeError` for a failing resource), so `except QAError` catches
any of them and every existing `except ValueError` / `except RuntimeError` still does.
"""

from __future__ import annotations


class QAError(Exception):
    """Base of every exception qa defines."""
