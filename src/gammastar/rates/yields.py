"""Data-driven yields: off-shell photon N_V(m), dark photon A', millicharged pairs.

All functions take any :class:`~gammastar.samples.Sample` (pairs in memory,
streamed, or a published table) and return small dataclasses of numpy arrays;
yields are per collision when the sample knows its ``n_collisions`` and per
sample otherwise (``normalization`` says which).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from ..errors import GammastarError
from ..io.subtract import warn_known_peaks
from ..physics.formulas import Spin, check_spin
from ..physics.pdg import Lepton
from ..physics.resonances import nearest_narrow
from ..results import MCP_REMEDIES, FailedMass, Normalization, PerMassResult, check_some, each_mass
from ..spectrum.estimator import MassSpectrum, SpectrumPoint
from ..spectrum.mcp import covered_from, mass_progress
from ..spectrum.resolution import MassResolution, parse_resolution

if TYPE_CHECKING:
    from ..samples import Sample

__all__ = ["PhotonYield", "AprimeYield", "McpYield", "photon_yield", "aprime_yield", "mcp_yield", "parse_mass_spec",
           "provenance_of"]


#: the most masses one request may ask for
MAX_MASSES = 1_000_000


def parse_mass_spec(spec: str | ArrayLike) -> np.ndarray:
    """Masses from ``"LO:HI:STEP"`` (HI included when on the grid), ``"a,b,c"`` or a sequence.

    Raises :class:`GammastarError` on malformed specs, non-finite values,
    non-positive steps, or more than :data:`MAX_MASSES` masses.
    """
    if isinstance(spec, str):
        text = spec.strip()
        try:
            parts = [float(x) for x in text.split(":" if ":" in text else ",") if x.strip()]
        except ValueError:
            parts = None
        if parts is None or (":" in text and len(parts) != 3):
            raise GammastarError(f"cannot parse mass spec {spec!r}: use LO:HI:STEP or a comma list")
        if ":" in text:
            lo, hi, step = parts
            if not all(np.isfinite(parts)):
                raise GammastarError(f"mass range {spec!r}: LO, HI and STEP must be finite numbers")
            if not step > 0 or hi < lo:
                raise GammastarError(f"mass range {spec!r}: need LO <= HI and STEP > 0")
            n = np.floor((hi - lo) / step + 1e-9) + 1
            if n > MAX_MASSES:
                raise GammastarError(f"mass range {spec!r} gives {n:.3g} masses; at most {MAX_MASSES:.0e} in one request")
            values = lo + step * np.arange(int(n))
        else:
            values = np.array(parts)
    else:
        values = np.atleast_1d(np.asarray(spec, dtype=float))
    if values.size > MAX_MASSES:
        raise GammastarError(f"{values.size} masses asked for; at most {MAX_MASSES:.0e} in one request")
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise GammastarError(f"mass spec {spec!r} gives no finite masses")
    if np.any(values <= 0):
        raise GammastarError(f"masses must be positive, got {spec!r}")
    return np.round(values, 12)


@dataclass(frozen=True)
class PhotonYield(PerMassResult):
    """Off-shell photon yield N_V(m) and the dilepton spectrum it implies.

    ``n_v`` is the number of unit-coupling vectors of mass m (dimensionless,
    per collision or per sample); ``dn_ll_dm`` is dN(l+l-)/dm in GeV^-1;
    ``bandwidth`` the estimator's half-width (GeV) at each mass.  ``resonance``
    names the narrow resonance within 3 half-widths of each mass (or None) and
    ``resolution_limited`` is True there: the value is N_V averaged over the
    window and the detector's resolution, not N_V at the mass
    (:mod:`gammastar.physics.resonances`).
    """

    value_field: ClassVar[str] = "n_v"
    error_field: ClassVar[str] = "n_v_err"

    mass: np.ndarray
    n_v: np.ndarray
    n_v_err: np.ndarray
    dn_ll_dm: np.ndarray
    dn_ll_dm_err: np.ndarray
    bandwidth: np.ndarray
    n_pairs: np.ndarray
    normalization: Normalization
    lepton: Lepton
    n_v_err_sys: np.ndarray | None = None
    failed: tuple[FailedMass, ...] = ()
    resonance: tuple[str | None, ...] = ()
    resolution_limited: np.ndarray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AprimeYield(PerMassResult):
    """Dark photons produced per collision (or per sample) for eps = 1, vs mass.

    Multiply ``n_per_eps2`` and ``n_err`` by eps^2.  ``bandwidth`` (GeV) is the
    mass resolution of the estimate at each point; ``resonance`` and
    ``resolution_limited`` as for :class:`PhotonYield`.
    """

    axis_label: ClassVar[str] = "m_A' [GeV]"
    value_field: ClassVar[str] = "n_per_eps2"
    error_field: ClassVar[str] = "n_err"

    mass: np.ndarray
    n_per_eps2: np.ndarray
    n_err: np.ndarray
    bandwidth: np.ndarray
    normalization: Normalization
    lepton: Lepton
    n_err_sys: np.ndarray | None = None
    failed: tuple[FailedMass, ...] = ()
    resonance: tuple[str | None, ...] = ()
    resolution_limited: np.ndarray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[float]:
        # Generator.aprime_yield(m) returned (value, error) in earlier releases: unpacking still works for one
        warnings.warn("Generator.aprime_yield now returns an AprimeYield: unpacking it as (value, error) goes in the "
                      "next release; use .n_per_eps2[0] and .n_err[0]", DeprecationWarning, stacklevel=2)
        if self.mass.size != 1:
            raise TypeError("only an AprimeYield at one mass unpacks as (value, error)")
        return iter((float(self.n_per_eps2[0]), float(self.n_err[0])))


@dataclass(frozen=True)
class McpYield(PerMassResult):
    """Millicharged chi-chibar pairs per collision (or per sample) for eps = 1, vs m_chi.

    Only pair masses m > ``m_min`` are seen by the data: 2 m_l when the data
    reach the pair threshold, else the lowest mass they hold (a table's first
    edge, a cut); where 2 m_chi < m_min the yield is the visible part only and
    ``incomplete`` is True at that point.
    """

    axis: ClassVar[str] = "m_chi"
    axis_label: ClassVar[str] = "m_chi [GeV]"
    value_field: ClassVar[str] = "n_pairs_per_eps2"
    error_field: ClassVar[str] = "n_err"

    m_chi: np.ndarray
    n_pairs_per_eps2: np.ndarray
    n_err: np.ndarray
    incomplete_at: np.ndarray
    m_min: float
    spin: Spin
    normalization: Normalization
    lepton: Lepton
    n_err_sys: np.ndarray | None = None
    failed: tuple[FailedMass, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def incomplete(self) -> bool:
        return bool(np.any(self.incomplete_at))

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        return {**{k: v for k, v in d.items() if k not in self.provenance}, "incomplete": self.incomplete,
                **self.provenance}


def provenance_of(data: Sample) -> dict[str, Any]:
    """Where a result comes from: the data, the collisions they stand for, their beams."""
    return {"n_collisions": data.n_collisions, "data": data.source,
            "beam": data.beam.to_text() if data.beam is not None else None}


def photon_yield(
    data: Sample,
    masses: ArrayLike | str,
    *,
    bandwidth: float | None = None,
    spectrum: MassSpectrum | None = None,
    progress: bool = False,
    mass_resolution: float | str | MassResolution | None = None,
) -> PhotonYield:
    """N_V(m) = (3 pi m / (2 alpha R_l)) dN_ll/dm at each mass, with 1-sigma errors.

    A mass that cannot be estimated (outside the data, too few pairs, no net
    yield) gets NaN values and an entry in ``failed`` (a
    :class:`~gammastar.results.FailedMass`: mass, reason); the others
    are estimated as usual.  Raises :class:`GammastarError` when no mass can be.

    Parameters
    ----------
    data : Sample
        Pairs in memory, streamed, or a published table (:func:`gammastar.open_sample`).
    masses : array or mass spec string (``"LO:HI:STEP"`` or ``"a,b"``), GeV
    bandwidth : float, optional
        Fixed estimator half-width in GeV; adaptive by default (see
        :mod:`gammastar.spectrum.estimator`).
    spectrum : MassSpectrum, optional
        A spectrum already built from ``data`` (saves re-binning).
    mass_resolution : float (GeV), CSV path or MassResolution, optional
        The detector's Gaussian mass resolution (default: the sample's): near
        a narrow resonance the estimate is then a forward-folded fit and the
        value the unsmeared N_V (:mod:`gammastar.spectrum.resolution`); without
        it such masses are flagged ``resolution_limited``.
    """
    masses = parse_mass_spec(masses)
    spec = spectrum if spectrum is not None else data.mass_spectrum()
    res = parse_resolution(mass_resolution) or data.mass_resolution

    def one(m: float) -> SpectrumPoint:
        return spec.estimate(m, bandwidth, resolution=None if res is None else res(m))

    points, failed = each_mass(mass_progress(masses, "rates", progress), one)
    check_some(failed, masses.size)

    def column(attr: str) -> np.ndarray:
        return np.array([np.nan if p is None else getattr(p, attr) for p in points])

    s = data.scale
    n_v = column("n_v") * s
    n_v_err = column("n_v_err") * s
    negative = masses[n_v < 0]
    if negative.size:
        warnings.warn(
            f"estimated yield is negative at {negative.size} mass(es) (first {negative[0]:.4g} GeV): "
            "consistent with zero only if within its error",
            stacklevel=2,
        )
    warn_known_peaks(masses, 3.0 * column("bandwidth"), data)
    phi = spec.phi(masses)
    sys = column("n_v_err_sys") * s if spec.w_sys is not None else None
    n_pairs = np.array([0 if p is None else p.n_pairs for p in points])
    h = column("bandwidth")
    resonance = tuple(None if p is None else nearest_narrow(float(m), p.bandwidth, None if res is None else res(m))
                      for m, p in zip(masses, points, strict=True))
    limited = np.array([r is not None and (p is None or r not in p.unfolded) for r, p in zip(resonance, points, strict=True)])
    return PhotonYield(
        masses, n_v, n_v_err, n_v * phi, n_v_err * phi, h, n_pairs,
        data.normalization, data.lepton, sys, tuple(failed), resonance, limited, provenance_of(data),
    )


def aprime_yield(
    data: Sample,
    masses: ArrayLike | str,
    *,
    bandwidth: float | None = None,
    spectrum: MassSpectrum | None = None,
    progress: bool = False,
    mass_resolution: float | str | MassResolution | None = None,
) -> AprimeYield:
    """Dark-photon yield per eps^2: N_A'(m) / eps^2 = N_V(m) (docs/physics.md section 1).

    Same arguments as :func:`photon_yield`, and the same treatment of masses
    that cannot be estimated.
    """
    ph = photon_yield(data, masses, bandwidth=bandwidth, spectrum=spectrum, progress=progress,
                      mass_resolution=mass_resolution)
    return AprimeYield(ph.mass, ph.n_v, ph.n_v_err, ph.bandwidth, ph.normalization, ph.lepton, ph.n_v_err_sys,
                       ph.failed, ph.resonance, ph.resolution_limited, ph.provenance)


def mcp_yield(
    data: Sample, m_chi: ArrayLike | str, *, spin: str = "fermion", min_pairs: int = 10,
    progress: bool = False,
) -> McpYield:
    """Millicharged pairs per eps^2: the integral of dN_ll/dm R_chi/R_l above 2 m_chi.

    On pairs in memory this is done exactly on the events, as the sum over
    pairs of w_i R_chi(m_i)/R_l(m_i) for m_i > 2 m_chi (no density estimate,
    no binning), with error sqrt(sum w_i^2 (R_chi/R_l)^2); on streamed samples
    over their fine bins, on published tables over their bins (with the
    correlated systematic error as ``n_err_sys``).  See :mod:`gammastar.spectrum.mcp`.

    An m_chi with fewer than ``min_pairs`` pairs above 2 m_chi (or 2 m_chi
    above the data) gets NaN values and an entry in ``failed``; raises
    :class:`GammastarError` for an unknown spin, non-positive m_chi, or when
    no m_chi can be estimated.
    """
    check_spin(spin)
    m_chi = parse_mass_spec(m_chi)
    vals, errs, sys_err, failed = data.mcp_sums(m_chi, spin, min_pairs=min_pairs, progress=progress)
    check_some(failed, m_chi.size, "m_chi", MCP_REMEDIES)
    s, m_min = data.scale, covered_from(data.lowest_mass, data.m_lepton)
    return McpYield(m_chi, vals * s, errs * s, 2.0 * m_chi < m_min, m_min, check_spin(spin), data.normalization,
                    data.lepton, None if sys_err is None else sys_err * s, tuple(failed), provenance_of(data))
