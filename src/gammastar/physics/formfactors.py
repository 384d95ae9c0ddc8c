"""Transition form factors |F(m^2)|^2 of meson Dalitz decays.

Used by the direct (model-based) predictions and the built-in mock; the
data-driven path never needs them, because the measured dilepton spectrum
already carries the form factor.  Parameters in GeV.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["pole_ff2", "regularised_pole_ff2", "linear_ff2", "PI0_SLOPE", "FormFactorPoints", "read_form_factor_points", "fit_pole"]

#: NA60 p-A at 400 GeV, PLB 757 (2016) 437: Lambda^-2 in GeV^-2.
NA60_INV_LAMBDA2_ETA = 1.934
NA60_INV_LAMBDA2_OMEGA = 2.223
#: pi0 transition form-factor slope a in F = 1 + a m^2/M_pi0^2 (PDG average, 0.032 +- 0.004)
PI0_SLOPE = 0.032


def linear_ff2(m: ArrayLike, slope: float, m_parent: float) -> np.ndarray:
    """|F|^2 = (1 + a m^2/M^2)^2: the linear form factor of the pi0 Dalitz decay (Kroll-Wada with a slope a)."""
    m = np.asarray(m, dtype=float)
    return (1.0 + slope * m**2 / m_parent**2) ** 2


def pole_ff2(m: ArrayLike, inv_lambda2: float) -> np.ndarray:
    """Single-pole form factor |F|^2 = 1 / (1 - m^2 Lambda^-2)^2.

    ``inv_lambda2`` is Lambda^-2 in GeV^-2.  Diverges at m = Lambda: use
    :func:`regularised_pole_ff2` where the decay's mass range reaches the pole.
    """
    m = np.asarray(m, dtype=float)
    return 1.0 / (1.0 - m**2 * inv_lambda2) ** 2


def regularised_pole_ff2(m: ArrayLike, inv_lambda2: float, gamma: float) -> np.ndarray:
    """Width-regularised pole |F|^2 = L2 (L2 + G^2) / ((L2 - m^2)^2 + L2 G^2), L2 = Lambda^2.

    Equal to 1 at m = 0 and to :func:`pole_ff2` as ``gamma`` -> 0; finite at
    the pole (the eta' Dalitz range contains it).
    """
    m = np.asarray(m, dtype=float)
    l2 = 1.0 / inv_lambda2
    return l2 * (l2 + gamma**2) / ((l2 - m**2) ** 2 + l2 * gamma**2)


@dataclass(frozen=True)
class FormFactorPoints:
    """Measured |F|^2 points of one process: mass, half bin width, value, total error."""

    process: str
    m: np.ndarray
    m_halfwidth: np.ndarray
    ff2: np.ndarray
    ff2_err: np.ndarray


def read_form_factor_points(path: str | Path) -> dict[str, FormFactorPoints]:
    """Read a table ``process,m,m_halfwidth,ff2,ff2_err`` ('#' lines are comments).

    Returns one :class:`FormFactorPoints` per process, e.g. the NA60 2016
    ``eta`` and ``omega`` points.
    """
    rows: dict[str, list[list[float]]] = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in reader:
            rows.setdefault(r["process"], []).append(
                [float(r["m"]), float(r["m_halfwidth"]), float(r["ff2"]), float(r["ff2_err"])]
            )
    out = {}
    for proc, vals in rows.items():
        a = np.array(vals)
        out[proc] = FormFactorPoints(proc, a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    return out


def fit_pole(points: FormFactorPoints) -> tuple[float, float, float]:
    """Weighted least-squares single-pole fit to measured points.

    Returns ``(inv_lambda2, error, chi2)`` with Lambda^-2 in GeV^-2.
    """
    from scipy.optimize import curve_fit

    popt, pcov = curve_fit(
        pole_ff2, points.m, points.ff2, p0=[1.8], sigma=points.ff2_err, absolute_sigma=True
    )
    chi2 = float(np.sum(((points.ff2 - pole_ff2(points.m, popt[0])) / points.ff2_err) ** 2))
    return float(popt[0]), float(np.sqrt(pcov[0, 0])), chi2
