"""Per-mass results: what every result over a mass axis shares, and scans that finish.

Every per-mass result (the photon, A' and mCP yields, ...) is a frozen
dataclass of numpy arrays over its masses with the same few things around
them (:class:`PerMassResult`): the name of its mass axis, its main value and
error, the masses that failed (:class:`FailedMass`, one type everywhere),
its normalisation and its provenance; and the same three views: ``to_dict()``
(what ``--json`` prints), ``to_hist()`` (a ``hist.Hist``) and ``to_table()``
(a ``pyarrow.Table``, one row per mass).

Real data end somewhere, and a scan over a range asks for masses where
there are too few pairs or none: each such mass gets NaN values and a
:class:`FailedMass` (:func:`each_mass`); only a scan where no mass succeeds
is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from .errors import EstimateError

__all__ = ["FailedMass", "FailureKind", "Normalization", "PerMassResult", "points_hist", "each_mass", "summary",
           "check_some"]

#: why a mass failed: outside the data, too few pairs, no net yield, or the model (or a decay table) cannot serve it
FailureKind = Literal["range", "statistics", "negative", "model"]
#: yields per collision (the sample knows its collisions) or per sample
Normalization = Literal["per_collision", "per_sample"]

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

    def to_dict(self, axis: str = "mass") -> dict[str, Any]:
        """As results write it: ``{axis: mass, "reason": reason}``."""
        return {axis: self.mass, "reason": self.reason}

    @classmethod
    def of(cls, mass: float, exc: Exception) -> FailedMass:
        """The failure ``exc`` at ``mass``: an estimate's kind, else the model's (or a decay table's)."""
        return cls(float(mass), str(exc), getattr(exc, "kind", "model"))


class PerMassResult:
    """What every per-mass result shares (a base of frozen dataclasses whose fields are arrays over the masses).

    Subclasses name their mass field (``axis``), its axis label, and the fields of their main value and its error;
    they have the fields ``failed`` (a tuple of :class:`FailedMass`), ``normalization`` and ``provenance`` (where
    the result comes from: the data, their collisions and beams).
    """

    axis: ClassVar[str] = "mass"
    axis_label: ClassVar[str] = "m [GeV]"
    #: the field holding the masses, where it is not named as the axis
    mass_field: ClassVar[str | None] = None
    value_field: ClassVar[str]
    error_field: ClassVar[str]
    failed: tuple[FailedMass, ...]
    normalization: str
    provenance: dict[str, Any]

    @property
    def masses(self) -> np.ndarray:
        """The masses (or m_chi) of the result, GeV."""
        return np.asarray(getattr(self, self.mass_field or self.axis), dtype=float)

    @property
    def values(self) -> np.ndarray:
        """The main value at each mass (NaN where it failed)."""
        return np.asarray(getattr(self, self.value_field), dtype=float)

    @property
    def errors(self) -> np.ndarray:
        """Its 1-sigma statistical error."""
        return np.asarray(getattr(self, self.error_field), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """The fields, arrays as lists (NaN where a mass failed), the failures as ``[{axis: m, "reason": ...}]``, and
        the provenance's items at the end (what ``gammastar rates ... --json`` prints)."""
        d: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            if f.name == "provenance":
                continue
            v = getattr(self, f.name)
            d[f.name] = v.tolist() if isinstance(v, np.ndarray) else list(v) if isinstance(v, tuple) else v
        d["failed"] = [f.to_dict(self.axis) for f in self.failed]
        return {**d, **self.provenance}

    def to_hist(self) -> Any:
        """The main value as a ``hist.Hist`` over the masses, one bin per mass (see :func:`points_hist`)."""
        return points_hist(self.masses, self.values, self.errors, self.axis, self.axis_label)

    def to_table(self) -> Any:
        """A ``pyarrow.Table``, one row per mass: every field with a value per mass, and ``failed`` (why, or null)."""
        import pyarrow as pa

        n = self.masses.size
        columns: dict[str, Any] = {self.axis: self.masses}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if f.name in (self.axis, self.mass_field):
                continue
            if isinstance(v, np.ndarray) and v.shape == (n,):
                columns[f.name] = v
            elif isinstance(v, tuple) and len(v) == n and f.name != "failed":
                columns[f.name] = pa.array(list(v))
        reasons = {f.mass: f.reason for f in self.failed}
        columns["failed"] = pa.array([reasons.get(float(m)) for m in self.masses], type=pa.string())
        return pa.table(columns)


def points_hist(x: np.ndarray, values: np.ndarray, errors: np.ndarray, name: str, label: str) -> Any:
    """Values with errors at points ``x`` as a ``hist.Hist``: one bin per point, edges half-way between points.

    Weight storage (value, variance = error^2); a failed point is NaN.
    """
    import hist

    x = np.asarray(x, dtype=float)
    if x.size > 1:
        mid = 0.5 * (x[1:] + x[:-1])
        edges = np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])
    else:
        edges = np.array([0.99 * x[0], 1.01 * x[0]])
    h = hist.Hist(hist.axis.Variable(edges, name=name, label=label), storage=hist.storage.Weight())
    view = h.view()
    view.value, view.variance = values, np.square(errors)
    return h


def each_mass(masses: Iterable[float], one: Callable[[float], T]) -> tuple[list[T | None], list[FailedMass]]:
    """``one(m)`` for every mass; an :class:`~gammastar.errors.EstimateError` gives None and a FailedMass."""
    results: list[T | None] = []
    failed: list[FailedMass] = []
    for m in masses:
        try:
            results.append(one(float(m)))
        except EstimateError as exc:
            results.append(None)
            failed.append(FailedMass.of(float(m), exc))
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
