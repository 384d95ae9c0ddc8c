"""The one exception type gammastar raises for bad input or impossible requests."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any


class GammastarError(ValueError):
    """A user-facing error: the message is one line and says what to fix.

    It names parameters as a Python caller knows them, in backticks
    (```n_events` must be at least 100``, ```lepton=e|mu```).  The command-line
    interface prints it as ``error: <message>`` with each such parameter as
    its flag (``--n-events``, ``--lepton e|mu``) and exits with status 2; it is
    never shown as a traceback.
    """


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message (at most ``limit`` characters), else its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def describe(exc: BaseException, limit: int = 160) -> str:
    """``Type: first line`` of a library's exception, for a one-line error that says what went wrong."""
    name = type(exc).__name__
    text = first_line(exc, limit)
    return name if text == name else f"{name}: {text}"


class EstimateError(GammastarError):
    """One mass of a scan cannot be estimated; ``kind`` says why: ``range`` (outside the data), ``statistics``
    (too few pairs) or ``negative`` (no net yield left, e.g. after background subtraction).

    Scans record it for that mass and go on (:mod:`gammastar.results`).
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[type[EstimateError], tuple[str, str]]:
        # with its kind, so that it crosses to and from Dask workers whole
        return type(self), (str(self), self.kind)


def renamed(module: str, names: dict[str, str], lookup: Callable[[str], Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` under which the earlier names of ``names`` (old -> new) still work for one release,
    with a DeprecationWarning; ``lookup`` gives the new name's object."""

    def __getattr__(name: str) -> Any:
        if name in names:
            warnings.warn(f"{module}.{name} is now {module}.{names[name]}; the old name goes in the next release",
                          DeprecationWarning, stacklevel=2)
            return lookup(names[name])
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
