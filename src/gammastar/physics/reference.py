"""A data-independent reference for pair kinematics: what is assumed where the data hold no pairs.

The method's kinematics are measured: the flow learns where the dileptons
are.  Where the data hold no pairs (outside a spectrometer's rapidity
window, below its pT threshold, beyond its statistics) nothing is measured,
and a flow's density there is an extrapolation.  To say how much of what an
experiment accepts lies there (``data_coverage``), that region is weighed
with a density that does not come from the data:

    d^2N / (dpT dy)  ~  pT exp(-m_T / T) exp(-y_cm^2 / (2 sigma_y^2)),    |y_cm| < arccosh(sqrt(s) / (2 m_T)),

with m_T = sqrt(m^2 + pT^2) and y_cm the rapidity in the centre of mass of
the collision: m_T scaling with T = 0.2 GeV (the slope of hadron spectra at
SPS energies and above) and Landau's rapidity width
sigma_y^2 = ln(sqrt(s) / (2 m_p)) (1.64 at 400 GeV on a fixed target, 2.97 at
sqrt(s) = 13 TeV), wider than the measured widths of meson spectra, so that
it does not understate the forward region where beam-dump detectors look.
Its density per d^2pT is finite at pT = 0, as every physical spectrum's is.
Only its shape matters: it is normalised to the data where both are present.
"""

from __future__ import annotations

import math

import numpy as np

from .beams import Beam
from .formulas import y_beam
from .pdg import mass

__all__ = ["T_REFERENCE", "rapidity_width", "centre_of_mass_rapidity", "reference_log_density", "reference_cells",
           "sample_reference"]

#: m_T slope of the reference (GeV)
T_REFERENCE = 0.2
PT_LOW = 1e-4  # GeV: the reference table's lowest pT (below, a share ~ (pT/T)^2 < 1e-6)


def rapidity_width(beam: Beam) -> float:
    """Landau's rapidity width, sqrt(ln(sqrt(s) / (2 m_p)))."""
    return math.sqrt(math.log(beam.sqrt_s / (2.0 * mass("p"))))


def centre_of_mass_rapidity(beam: Beam) -> float:
    """Lab rapidity of the centre of mass: y_beam / 2 on a fixed target, 0 at a symmetric collider."""
    return float(y_beam(beam.energy)) / 2.0 if beam.kind == "fixed-target" else 0.0


def reference_log_density(pt: np.ndarray, y: np.ndarray, m: np.ndarray | float, beam: Beam) -> np.ndarray:
    """log of the reference d^2N/(dlog pT dy) (unnormalised) at lab rapidity ``y``; -inf beyond the kinematic limit."""
    pt = np.asarray(pt, dtype=float)
    mt = np.sqrt(np.asarray(m, dtype=float) ** 2 + pt**2)
    y_cm = np.asarray(y, dtype=float) - centre_of_mass_rapidity(beam)
    inside = np.abs(y_cm) < np.arccosh(np.maximum(0.5 * beam.sqrt_s / mt, 1.0))
    with np.errstate(divide="ignore"):
        logp = 2.0 * np.log(pt) - mt / T_REFERENCE - 0.5 * (y_cm / rapidity_width(beam)) ** 2
    return np.where(inside, logp, -np.inf)


def reference_cells(m: float, beam: Beam, grid: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference at pair mass ``m`` on ``grid`` x ``grid`` cells in (log pT, lab y) spanning everything it
    reaches: (log pT edges, y edges, cell probabilities (grid * grid,), row-major, summing to 1)."""
    pt_max = min(math.sqrt((m + 30.0 * T_REFERENCE) ** 2 - m * m), 0.5 * beam.sqrt_s)
    y_max = math.acosh(max(0.5 * beam.sqrt_s / m, 1.0 + 1e-12))
    y0 = centre_of_mass_rapidity(beam)
    ex = np.linspace(math.log(PT_LOW), math.log(pt_max), grid + 1)
    ey = np.linspace(y0 - y_max, y0 + y_max, grid + 1)
    cx, cy = 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1])
    logp = reference_log_density(np.exp(np.repeat(cx, grid)), np.tile(cy, grid), m, beam)
    p = np.exp(logp - logp[np.isfinite(logp)].max())
    return ex, ey, p / p.sum()


def sample_reference(m: np.ndarray, beam: Beam, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(pT, lab y) of one pair per mass in ``m`` from the reference: m_T from m_T exp(-m_T/T) above m (a mixture of
    an exponential and a Gamma(2) law), y_cm Gaussian of Landau's width, redrawn beyond the kinematic limit."""
    m = np.asarray(m, dtype=float)
    exp_part = rng.random(m.size) < m / (m + T_REFERENCE)
    mt = m + np.where(exp_part, rng.exponential(T_REFERENCE, m.size), rng.gamma(2.0, T_REFERENCE, m.size))
    limit = np.arccosh(np.maximum(0.5 * beam.sqrt_s / mt, 1.0))
    y = rng.normal(0.0, rapidity_width(beam), m.size)
    bad = np.flatnonzero(np.abs(y) >= limit)
    for _ in range(1000):
        if bad.size == 0:
            break
        y[bad] = rng.normal(0.0, rapidity_width(beam), bad.size)
        bad = bad[np.abs(y[bad]) >= limit[bad]]
    y[bad] = 0.0  # (a pair at the edge of what the beams make: not reached in practice)
    return np.sqrt(np.maximum(mt**2 - m**2, 0.0)), y + centre_of_mass_rapidity(beam)
