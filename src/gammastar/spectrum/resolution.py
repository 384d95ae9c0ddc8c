"""The detector's mass resolution, and the narrow resonances it hides (``--mass-resolution``).

A detector measures a pair mass m with a spread sigma(m) (Gaussian here):
the measured spectrum is the true one convolved with that resolution.  Away
from narrow structure this changes nothing the local estimator can see, but
a resonance narrower than sigma (omega, phi, J/psi, ...) is measured as a
peak of width ~sigma and of height far below the true one.  The A' yield at
a mass is the *unsmeared* eps^2 N_V(m).  With the resolution known, the
estimate is a forward-folded local fit
(:meth:`gammastar.spectrum.estimator.MassSpectrum.folded_estimate`): a smooth
quadratic N_V plus, near such a resonance, its Breit-Wigner with a free
amplitude and skew, all times phi_l and convolved with the resolution, fitted
to the pairs in the window; the value reported is the unsmeared model at the
mass.  (Folding the smooth part as well removes the sigma^2 N_V''/2 bias a
resolution leaves at the threshold and at Dalitz edges.)

``--mass-resolution SIGMA`` (GeV; 0 for a perfect detector) or
``--mass-resolution FILE.csv`` (columns ``mass, sigma``, interpolated).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GammastarError

__all__ = ["MassResolution", "parse_resolution"]


@dataclass(frozen=True)
class MassResolution:
    """Gaussian mass resolution sigma(m): one value, or a table of (mass, sigma) interpolated linearly."""

    mass: np.ndarray
    sigma: np.ndarray
    source: str = ""

    def __call__(self, m: float) -> float:
        return float(np.interp(m, self.mass, self.sigma))

    def points(self) -> tuple[tuple[float, float], ...]:
        """(mass, sigma) pairs: how model files keep it (:meth:`from_points` reads them back)."""
        return tuple(zip(self.mass.tolist(), self.sigma.tolist(), strict=True))

    @classmethod
    def from_points(cls, points: tuple[tuple[float, float], ...], source: str = "") -> MassResolution:
        m, s = zip(*points, strict=True)
        return cls(np.array(m, dtype=float), np.array(s, dtype=float), source)

    @classmethod
    def constant(cls, sigma: float) -> MassResolution:
        if not (np.isfinite(sigma) and sigma >= 0):
            raise GammastarError(f"mass resolution must be a finite number of GeV >= 0, not {sigma}")
        return cls(np.array([0.0]), np.array([float(sigma)]), f"{sigma:g} GeV")


def parse_resolution(spec: float | str | Path | MassResolution | None) -> MassResolution | None:
    """``--mass-resolution``: a number of GeV, or a CSV file with columns ``mass, sigma``."""
    if spec is None or isinstance(spec, MassResolution):
        return spec
    try:
        sigma = float(spec)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass
    else:
        return MassResolution.constant(sigma)
    path = Path(str(spec))
    if not path.is_file():
        raise GammastarError(f"`mass_resolution` {spec!r}: neither a number of GeV nor a CSV file (mass, sigma)")
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(path)
        m = table.column("mass").to_numpy().astype(float)
        s = table.column("sigma").to_numpy().astype(float)
    except Exception as exc:  # pyarrow raises several types for bad CSV
        raise GammastarError(f"{path}: cannot read a mass resolution table with columns mass, sigma ({exc})") from None
    order = np.argsort(m)
    m, s = m[order], s[order]
    if m.size == 0 or not (np.all(np.isfinite(m)) and np.all(np.isfinite(s)) and np.all(s >= 0)):
        raise GammastarError(f"{path}: the resolution table needs finite masses and sigma >= 0")
    return MassResolution(m, s, str(path))
