"""Narrow vector resonances of dilepton spectra: where a local estimate stops being the A' yield.

N_V(m) is smooth except at the narrow vector mesons: omega (Gamma = 8.7 MeV),
phi (4.2 MeV), J/psi, psi(2S) and the Upsilons (tens of keV).  Near them the
local estimate of :mod:`gammastar.spectrum.estimator` is N_V averaged over the
estimator's half-width h and over the detector's mass resolution, while the
A' yield at a mass is the *unsmeared* eps^2 N_V(m): at the peak the average
is far below it, beside the peak far above.  A mass whose estimate such a
resonance reaches (:func:`narrow_near`) is therefore flagged
``resolution_limited`` unless the resolution was given and the resonance
unfolded (:mod:`gammastar.spectrum.resolution`).  Masses and widths
are the PDG's, from ``particle``.
"""

from __future__ import annotations

from .pdg import mass, width

__all__ = ["NARROW", "nearest_narrow", "narrow_near"]

#: the narrow vector resonances that decay to lepton pairs
NARROW = ("omega", "phi", "J/psi", "psi(2S)", "Upsilon(1S)", "Upsilon(2S)", "Upsilon(3S)")


def narrow_near(m0: float, h: float, sigma: float | None) -> list[str]:
    """The narrow resonances that reach an estimate at ``m0`` with half-width ``h``, nearest first.

    With the resolution ``sigma`` known: those whose smeared peak reaches the window,
    |M - m0| <= h + 3 sigma + 3 Gamma (the ones a forward-folded fit must model).
    Without: |M - m0| <= 3 h + 3 Gamma (the resolution, unknown, may carry them further).
    """
    reach = h + 3.0 * sigma if sigma is not None else 3.0 * h
    near = [(abs(m0 - mass(n)), n) for n in NARROW if abs(m0 - mass(n)) <= reach + 3.0 * width(n)]
    return [n for _, n in sorted(near)]


def nearest_narrow(m0: float, h: float, sigma: float | None = None) -> str | None:
    """The nearest of :func:`narrow_near`, or None."""
    near = narrow_near(m0, h, sigma)
    return near[0] if near else None
