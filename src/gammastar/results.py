"""Scans that finish: a mass that cannot be estimated is recorded with its reason, and the others go on.

Real data end somewhere, and a scan over a range asks for masses where
there are too few pairs or none: each such mass gets NaN values and a
:class:`FailedMass`; only a scan where no mass succeeds is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from .errors import EstimateError

__all__ = ["FailedMass", "each_mass", "summary", "check_some"]

T = TypeVar("T")

#: what to do about each kind of failure, for the mass scans of rates photon|aprime
REMEDIES = {
    "statistics": "a larger fixed `bandwidth` (GeV) takes more pairs into each estimate",
    "range": "ask for masses inside the data's range",
    "negative": "the background subtraction leaves no net yield there",
}
#: the same for m_chi scans of rates mcp
MCP_REMEDIES = {
    "statistics": "ask for smaller m_chi",
    "range": "2 m_chi must lie below the data's highest pair mass",
    "negative": "the background subtraction leaves no net yield above 2 m_chi",
}


@dataclass(frozen=True)
class FailedMass:
    """A mass (or m_chi) of a scan that could not be estimated, why, and the kind of reason."""

    mass: float
    reason: str
    kind: str


def each_mass(masses: Iterable[float], one: Callable[[float], T]) -> tuple[list[T | None], list[FailedMass]]:
    """``one(m)`` for every mass; an :class:`~gammastar.errors.EstimateError` gives None and a FailedMass."""
    results: list[T | None] = []
    failed: list[FailedMass] = []
    for m in masses:
        try:
            results.append(one(float(m)))
        except EstimateError as exc:
            results.append(None)
            failed.append(FailedMass(float(m), str(exc), exc.kind))
    return results, failed


_KIND_WORDS = {"range": "outside the data", "statistics": "with too few pairs", "negative": "with no net yield"}


def summary(failed: list[FailedMass] | tuple[FailedMass, ...], n: int, what: str = "mass",
            remedies: dict[str, str] = REMEDIES) -> str:
    """One line: how many of ``n`` failed, by kind (which values, one reason), and what to do about each kind."""
    if n == 1 and failed:
        fix = remedies.get(failed[0].kind)
        return failed[0].reason + (f": {fix}" if fix else "")
    parts = []
    for kind in dict.fromkeys(f.kind for f in failed):
        these = [f for f in failed if f.kind == kind]
        values = (f"{what} = {these[0].mass:.4g} GeV" if len(these) == 1 else
                  f"{len(these)} {what} values from {these[0].mass:.4g} to {these[-1].mass:.4g} GeV")
        fix = remedies.get(kind)
        parts.append(f"{_KIND_WORDS.get(kind, kind)} at {values} ({these[0].reason})" + (f": {fix}" if fix else ""))
    return f"{len(failed)} of {n} {what} values could not be estimated: " + "; ".join(parts)


def check_some(failed: list[FailedMass], n: int, what: str = "mass", remedies: dict[str, str] = REMEDIES) -> None:
    """Raise when every one of the ``n`` values failed (a scan with no result is an error)."""
    if failed and len(failed) == n:
        raise EstimateError(summary(failed, n, what, remedies), failed[0].kind)
