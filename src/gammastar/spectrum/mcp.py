"""Millicharged-pair sums over a sample: the integral of dN_ll/dm R_chi/R_l above 2 m_chi.

docs/physics.md section 1: dN(chi chibar)/dm = eps^2 dN_ll/dm R_chi(m)/R_l(m) for
m > 2 max(m_chi, m_l).  How the integral is done depends on what the sample
holds (each :class:`~gammastar.samples.Sample` picks its own):

* pairs in memory: exactly, as the sum over pairs of w_i R_chi(m_i)/R_l(m_i)
  (:func:`pair_sums`), error sqrt(sum w_i^2 (R_chi/R_l)^2);
* pairs streamed into 1e-4-relative fine bins: the same sum per bin at the
  bin's weighted mean mass (:func:`binned_sums`; within 1e-4 of the exact sum);
* a published table: N_V taken constant within each bin, so bin k contributes
  W_k int_bin phi_chi / int_bin phi_l (:func:`table_sums`); statistical errors
  independent between bins, systematic ones fully correlated.

All return values per eps^2 in the sample's own units (before dividing by
n_collisions), NaN where an m_chi cannot be estimated, and the list of those
(:class:`~gammastar.results.FailedMass`).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import EstimateError
from ..physics.formulas import r_chi, r_lepton
from ..results import FailedMass, each_mass
from .estimator import MassSpectrum

__all__ = ["pair_sums", "binned_sums", "table_sums", "covered_from", "THRESHOLD_REACH"]

#: data whose lowest pair mass is within this fraction above 2 m_l reach the threshold (the spectrum vanishes there)
THRESHOLD_REACH = 0.05


def covered_from(lowest_mass: float, m_l: float) -> float:
    """The lowest pair mass the data cover: 2 m_l when they reach to within 5% of it, else their lowest mass.

    mCP pairs of mass below it (2 m_chi < it) are not seen: their yields are the visible part only.
    """
    threshold = 2.0 * m_l
    return threshold if lowest_mass <= threshold * (1.0 + THRESHOLD_REACH) else float(lowest_mass)

_CHUNK = 1 << 14
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def mass_progress(items: np.ndarray, desc: str, progress: bool) -> Any:
    """``items`` (masses) with a progress bar on stderr when ``progress`` and the work takes over a second."""
    return tqdm(items, desc=desc, unit="mass", delay=1.0, disable=not progress, file=sys.stderr)


def pair_sums(
    mass: np.ndarray, weight: np.ndarray, m_l: float, m_chi: np.ndarray, spin: str, min_pairs: int = 10,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[FailedMass]]:
    """(sum w R_chi/R_l, its error, failures) over the pairs above 2 m_chi, for each m_chi.

    An m_chi with fewer than ``min_pairs`` pairs above 2 m_chi, or with a
    negative net weight there, gets NaN and a :class:`FailedMass`.
    """
    order = np.argsort(mass)
    m = mass[order]
    w = weight[order]
    del order
    r_l = r_lepton(m, m_l)
    # Pairs exactly at 2 m_l (rounding) have R_l = 0 and carry no information.
    start = int(np.searchsorted(r_l, 0.0, side="right"))
    if start:
        warnings.warn(f"{start} pair(s) sit exactly at 2 m_l and are left out of mCP yields", stacklevel=4)
    w_over_rl = np.zeros_like(w)
    w_over_rl[start:] = w[start:] / r_l[start:]
    del r_l
    cum_w = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])  # net weight above each pair

    def one(mc: float) -> tuple[float, float]:
        i = max(start, int(np.searchsorted(m, 2.0 * mc, side="right")))
        if m.size - i < min_pairs:
            raise EstimateError(
                f"m_chi = {mc:.4g} GeV: only {m.size - i} pair(s) above 2 m_chi = {2 * mc:.4g} GeV "
                f"(highest pair mass {m[-1]:.4g} GeV); too few to estimate anything", "statistics"
            )
        if cum_w[i] <= 0:
            raise EstimateError(f"m_chi = {mc:.4g} GeV: negative net dilepton yield above 2 m_chi", "negative")
        total = total2 = 0.0
        # Small chunks keep the temporaries in cache (4x faster than whole-array passes).
        for j in range(i, m.size, _CHUNK):
            ws = r_chi(m[j : j + _CHUNK], mc, spin)
            ws *= w_over_rl[j : j + _CHUNK]
            total += ws.sum()
            total2 += ws @ ws
        return total, float(np.sqrt(total2))

    results, failed = each_mass(mass_progress(m_chi, "mcp", progress), one)
    vals = np.array([np.nan if r is None else r[0] for r in results])
    errs = np.array([np.nan if r is None else r[1] for r in results])
    return vals, errs, failed


def _per_mass(m_chi: np.ndarray, m_max: float, one: Callable[[float], tuple[float, float, float]]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[FailedMass]]:
    """Apply ``one(m_chi) -> (value, stat, sys)`` per mass, with the checks every binned sample makes."""

    def checked(mc: float) -> tuple[float, float, float]:
        if 2.0 * mc >= m_max:
            raise EstimateError(f"m_chi = {mc:.4g} GeV: 2 m_chi is above the data's highest mass ({m_max:.4g} GeV)",
                                "range")
        v, e, sy = one(mc)
        if v <= 0:
            raise EstimateError(f"m_chi = {mc:.4g} GeV: negative net dilepton yield above 2 m_chi", "negative")
        return v, e, sy

    results, failed = each_mass(m_chi, checked)
    arrays = [np.array([np.nan if r is None else r[j] for r in results]) for j in range(3)]
    return arrays[0], arrays[1], arrays[2], failed


def binned_sums(spectrum: MassSpectrum, m_chi: np.ndarray, spin: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[FailedMass]]:
    """Sums over fine bins at their weighted mean mass (no systematic part: zeros)."""

    def one(mc: float) -> tuple[float, float, float]:
        c, c2 = spectrum.mcp_contributions(mc, spin)
        return float(c.sum()), float(np.sqrt(c2.sum())), 0.0

    return _per_mass(m_chi, spectrum.m_max, one)


def _integral(f: Callable[[np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int_a^b f, per interval, in t = a + (b - a) s^2 (smooth at a sqrt threshold at a)."""
    s = 0.5 * (_GL_X + 1.0)
    t = a[:, None] + (b - a)[:, None] * s[None, :] ** 2
    return np.asarray(np.sum(f(t) * 2.0 * s[None, :] * (b - a)[:, None] * 0.5 * _GL_W[None, :], axis=1))


def table_sums(
    lo: np.ndarray, hi: np.ndarray, value: np.ndarray, stat: np.ndarray, sys: np.ndarray, m_l: float,
    m_chi: np.ndarray, spin: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[FailedMass]]:
    """Bin-integral sums of a dN/dm table (value, stat, sys per bin; N_V constant within a bin)."""

    def one(mc: float) -> tuple[float, float, float]:
        lo_chi = np.maximum(lo, 2.0 * mc)
        ok = hi > lo_chi
        num = _integral(lambda t: r_chi(t, mc, spin) / t, lo_chi[ok], hi[ok])
        den = _integral(lambda t: r_lepton(t, m_l) / t, lo[ok], hi[ok])
        ratio = num / den
        width = (hi - lo)[ok]
        return (float(np.sum(value[ok] * width * ratio)), float(np.sqrt(np.sum((stat[ok] * width * ratio) ** 2))),
                float(np.sum(sys[ok] * width * ratio)))

    return _per_mass(m_chi, float(hi.max()), one)
