"""Narrow vector resonances of dilepton spectra: where a local estimate stops being the A' yield.

N_V(m) is smooth except at the narrow vector mesons: omega (Gamma = 8.7 MeV),
phi (4.2 MeV), J/psi, psi(2S) and the Upsilons (tens of keV).  Near them the
local estimate of :mod:`gammastar.rates.spectrum` is N_V averaged over the
estimator's half-width h and over the detector's mass resolution, while the
A' yield at a mass is the *unsmeared* eps^2 N_V(m): at the peak the average
is far below it, beside the peak far above.  A mass within 3 h of such a
resonance is therefore flagged ``resolution_limited``.  Masses and widths
are the PDG's, from ``particle``.
"""

from __future__ import annotations

import numpy as np

from .pdg import mass, width

__all__ = ["NARROW", "nearest_narrow"]

#: the narrow vector resonances that decay to lepton pairs
NARROW = ("omega", "phi", "J/psi", "psi(2S)", "Upsilon(1S)", "Upsilon(2S)", "Upsilon(3S)")


def nearest_narrow(m: float, reach: float) -> str | None:
    """The narrow resonance whose peak lies within ``reach`` (GeV, plus its width) of ``m``, nearest first; or None."""
    best, best_d = None, np.inf
    for name in NARROW:
        d = abs(m - mass(name))
        if d <= reach + width(name) and d < best_d:
            best, best_d = name, d
    return best
