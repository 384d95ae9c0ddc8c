"""Samples: what the rates, the flow and the CLI consume, whatever the input was.

A :class:`Sample` is a set of opposite-sign lepton pairs of one flavour with
its normalisation (``n_collisions``: the collisions, or protons on target, it
stands for; ``None`` means per sample).  Everything downstream needs one of
three things from it, and each kind of sample provides them its own way:

==================  ===============================  ==========================  ====================
                    :class:`EventSample`             :class:`SpectrumSample`     :class:`PublishedSpectrum`
                    (pairs in memory)                (pairs streamed into bins)  (a published table)
==================  ===============================  ==========================  ====================
``mass_spectrum``   fine bins of the pairs           the accumulated fine bins   the table's bins
``mcp_sums``        exact sum over pairs             sum over the fine bins      bin integrals
``events``          itself                           error: needs memory         error: a table
==================  ===============================  ==========================  ====================

so that :func:`gammastar.photon_yield`, :func:`~gammastar.aprime_yield`,
:func:`~gammastar.mcp_yield` and :func:`~gammastar.train` take any sample.
Open one with :func:`gammastar.open_sample`.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from .errors import GammastarError
from .physics.beams import Beam
from .physics.kinematics import pair_mass
from .physics.pdg import LEPTONS, Lepton, mass
from .results import FailedMass, Normalization
from .spectrum import mcp as mcp_sums
from .spectrum.estimator import MassSpectrum
from .spectrum.resolution import MassResolution

__all__ = ["Sample", "EventSample", "SpectrumSample", "PublishedSpectrum", "Normalised", "check_n_collisions",
           "check_lepton"]

#: (pair yields, statistical errors, correlated systematic errors or None, the m_chi that failed) per eps^2,
#: before normalisation; NaN where an m_chi failed
McpSums = tuple[np.ndarray, np.ndarray, np.ndarray | None, list[FailedMass]]


def check_n_collisions(value: object) -> float:
    """``value`` as a positive finite float, else a :class:`GammastarError` (the one check of n_collisions)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GammastarError(f"n_collisions must be a number, not {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise GammastarError(f"n_collisions must be positive and finite, not {value!r}")
    if not math.isfinite(1.0 / v):  # yields are weights / n_collisions: they must stay finite
        raise GammastarError(f"n_collisions = {value!r} is too small to divide by")
    return v


def check_lepton(lepton: str, what: str = "lepton") -> Lepton:
    """``lepton`` if gammastar knows the flavour (e or mu), else a :class:`GammastarError`."""
    if lepton not in LEPTONS:
        raise GammastarError(f"`{what}` must be one of {', '.join(LEPTONS)}, not {lepton!r}")
    return lepton


class Normalised:
    """Mixin for anything with ``lepton`` and ``n_collisions``: lepton mass and normalisation.

    Dataclasses that use it get ``n_collisions`` checked on construction.
    """

    lepton: Lepton
    n_collisions: float | None

    def __post_init__(self) -> None:
        if self.n_collisions is not None:
            self.n_collisions = check_n_collisions(self.n_collisions)

    @property
    def m_lepton(self) -> float:
        """Lepton mass in GeV."""
        return mass(self.lepton)

    @property
    def normalization(self) -> Normalization:
        """``"per_collision"`` when n_collisions is known, else ``"per_sample"``."""
        return "per_sample" if self.n_collisions is None else "per_collision"

    @property
    def scale(self) -> float:
        """Factor turning summed weights into yields: 1/n_collisions, or 1 per sample."""
        return 1.0 if self.n_collisions is None else 1.0 / self.n_collisions


class Sample(Normalised, ABC):
    """Lepton pairs of one flavour with their normalisation, however they are held.

    Attributes every sample has: ``lepton`` ("e" or "mu"), ``n_collisions``
    (float or None), ``source`` (where the pairs came from), ``beam`` (the
    :class:`~gammastar.physics.beams.Beam` the pairs come from, or None when
    not known).
    """

    source: str
    beam: Beam | None
    subtracted: tuple[str, ...]
    mass_resolution: MassResolution | None

    @abstractmethod
    def __len__(self) -> int:
        """Number of pairs (for a table: its effective number of pairs is not known; bins)."""

    @abstractmethod
    def mass_spectrum(self) -> MassSpectrum:
        """The binned pair-mass spectrum the N_V estimator works on."""

    @abstractmethod
    def mcp_sums(self, m_chi: np.ndarray, spin: str, *, min_pairs: int = 10, progress: bool = False) -> McpSums:
        """Sum of w R_chi/R_l over the pairs above 2 m_chi, per m_chi: (values, stat, sys or None), unnormalised."""

    @abstractmethod
    def describe(self) -> str:
        """What the sample holds, in a few words (``"400000 mumu pairs"``)."""

    @property
    @abstractmethod
    def lowest_mass(self) -> float:
        """The lowest pair mass the sample holds (GeV): its lowest pair, bin edge or table edge."""

    @abstractmethod
    def events(self) -> EventSample:
        """The pairs themselves, for what needs every pair (training, validation); binned samples refuse."""


@dataclass
class EventSample(Sample):
    """Opposite-sign lepton pairs in memory, with weights and their normalisation.

    Attributes
    ----------
    pos, neg : (N, 4) float arrays
        Four-momenta (px, py, pz, E) of the positive and negative lepton, GeV.
    weight : (N,) float array
        Per-pair weights (may be negative, e.g. after background subtraction).
    lepton : {"e", "mu"}
        Lepton flavour.
    n_collisions : float or None
        Number of collisions (or protons on target) the sample stands for;
        ``None`` means yields are per sample.
    source : str
        Where the pairs came from (a path or a description).
    metadata : dict
        ``gammastar.*`` key-value metadata of the file (truth, beam energy, ...).
    beam : Beam or None
        The beams the pairs come from (:func:`gammastar.open_sample` always sets them).
    subtracted : tuple of str
        Simulated non-gamma* sources whose pairs were added with negative weights (:mod:`gammastar.io.subtract`).
    mass_resolution : MassResolution or None
        The detector's mass resolution, when known: the rates unfold it at narrow resonances
        (:mod:`gammastar.spectrum.resolution`).
    below_floor : bool array or None
        Per pair, whether its acceptance was below the acceptance map's floor (its weight then only scaled, its
        region not measured; None without a map).
    """

    pos: np.ndarray
    neg: np.ndarray
    weight: np.ndarray
    lepton: Lepton
    n_collisions: float | None = None
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    beam: Beam | None = None
    subtracted: tuple[str, ...] = ()
    mass_resolution: MassResolution | None = None
    below_floor: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_lepton(self.lepton)
        super().__post_init__()
        self._mass: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.weight)

    def select(self, keep: np.ndarray) -> EventSample:
        """The pairs where ``keep`` is True (a boolean mask), with everything else of this sample."""
        return dataclasses.replace(self, pos=self.pos[keep], neg=self.neg[keep], weight=self.weight[keep],
                                   below_floor=None if self.below_floor is None else self.below_floor[keep])

    @property
    def mass(self) -> np.ndarray:
        """Pair invariant mass (GeV), computed once."""
        if self._mass is None:
            self._mass = pair_mass(self.pos, self.neg, self.m_lepton)
        return self._mass

    def mass_spectrum(self) -> MassSpectrum:
        """The fine-binned :class:`~gammastar.spectrum.estimator.MassSpectrum` of the pairs."""
        return MassSpectrum.from_pairs(self.mass, self.weight, self.m_lepton, lepton=self.lepton)

    def mcp_sums(self, m_chi: np.ndarray, spin: str, *, min_pairs: int = 10, progress: bool = False) -> McpSums:
        """Exact sums over the pairs (see :func:`gammastar.spectrum.mcp.pair_sums`)."""
        vals, errs, failed = mcp_sums.pair_sums(self.mass, self.weight, self.m_lepton, m_chi, spin, min_pairs, progress)
        return vals, errs, None, failed

    def describe(self) -> str:
        return f"{len(self)} {self.lepton}{self.lepton} pairs"

    @property
    def lowest_mass(self) -> float:
        return float(self.mass[self.weight != 0].min()) if np.any(self.weight != 0) else float(self.mass.min())

    def events(self) -> EventSample:
        return self


@dataclass
class SpectrumSample(Sample):
    """A pair sample known through its fine-binned spectrum (large inputs streamed in chunks)."""

    spectrum: MassSpectrum
    lepton: Lepton
    n_collisions: float | None
    source: str
    n_pairs: int
    beam: Beam | None = None
    subtracted: tuple[str, ...] = ()
    mass_resolution: MassResolution | None = None

    def __len__(self) -> int:
        return self.n_pairs

    def mass_spectrum(self) -> MassSpectrum:
        return self.spectrum

    @property
    def m_max(self) -> float:
        return self.spectrum.m_max

    def mcp_sums(self, m_chi: np.ndarray, spin: str, *, min_pairs: int = 10, progress: bool = False) -> McpSums:
        """Sums over the 1e-4-relative fine bins (see :meth:`MassSpectrum.mcp_contributions`)."""
        return mcp_sums.binned_sums(self.spectrum, m_chi, spin)

    def describe(self) -> str:
        return f"{len(self)} {self.lepton}{self.lepton} pairs"

    @property
    def lowest_mass(self) -> float:
        return self.spectrum.m_min

    def events(self) -> EventSample:
        raise GammastarError(streamed_needs_memory(self.source))


def streamed_needs_memory(source: str) -> str:
    """The message for a command that needs in memory the pairs of an input that is streamed."""
    return (f"{source}: this command needs the pairs in memory; give it a single file "
            f"(directories and files over 2e7 pairs are for the rates)")


def table_needs_events(source: str) -> str:
    """The message for a command that needs events but was given a binned table."""
    return (f"{source} is a binned spectrum table, and this needs events: "
            "tables are read with `spectrum=True`")


@dataclass
class PublishedSpectrum(Sample):
    """A binned dN_ll/dm table (bin edges, values, statistical and systematic errors) ready for the rates.

    ``value`` is dN/dm in the table's own normalisation; ``n_collisions``
    divides further.  Read one with :func:`gammastar.io.readers.tables.read_spectrum`.
    """

    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray
    stat: np.ndarray
    sys: np.ndarray
    lepton: Lepton
    n_collisions: float | None
    source: str
    beam: Beam | None = None
    subtracted: tuple[str, ...] = ()
    mass_resolution: MassResolution | None = None

    def __len__(self) -> int:
        return len(self.lo)

    @property
    def m_max(self) -> float:
        return float(self.hi.max())

    def mass_spectrum(self) -> MassSpectrum:
        """The table as a :class:`MassSpectrum` (gaps become empty bins)."""
        edges, idx = _contiguous_edges(self.lo, self.hi)
        k = len(edges) - 1
        width = self.hi - self.lo
        w, w2, wsys, cnt, wm = (np.zeros(k) for _ in range(5))
        w[idx] = self.value * width
        w2[idx] = (self.stat * width) ** 2
        wsys[idx] = self.sys * width
        with np.errstate(divide="ignore", invalid="ignore"):
            cnt[idx] = np.where(self.stat > 0, (self.value / self.stat) ** 2, 0.0)  # effective pairs per bin
        wm[idx] = w[idx] * 0.5 * (self.lo + self.hi)
        return MassSpectrum(edges, w, w2, np.round(cnt).astype(np.int64), wm, self.m_lepton, 0.0, self.lepton,
                            float(self.hi.max()), w_sys=wsys)

    def mcp_sums(self, m_chi: np.ndarray, spin: str, *, min_pairs: int = 10, progress: bool = False) -> McpSums:
        """Bin integrals with N_V constant within each bin (see :func:`gammastar.spectrum.mcp.table_sums`)."""
        return mcp_sums.table_sums(self.lo, self.hi, self.value, self.stat, self.sys, self.m_lepton, m_chi, spin)

    def describe(self) -> str:
        return f"published {self.lepton}{self.lepton} spectrum, {len(self.lo)} bins"

    @property
    def lowest_mass(self) -> float:
        return float(self.lo.min())

    def events(self) -> EventSample:
        raise GammastarError(table_needs_events(self.source))


def _contiguous_edges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges covering all bins, with empty bins in the gaps; indices of the table's bins among them."""
    edges, idx = [lo[0]], []
    for a, b in zip(lo, hi, strict=True):
        if a > edges[-1] + 1e-12:
            edges.append(a)  # a gap: an empty bin
        idx.append(len(edges) - 1)
        edges.append(b)
    return np.array(edges), np.array(idx)
