"""The data-driven prediction against the spread of model-based ones: what the method buys, on your data.

A model-based A' (or chi-pair) yield multiplies meson multiplicities by
direct decay formulas with transition form factors
(:mod:`gammastar.physics.mesons`); both inputs vary by factors between
reasonable choices.  The data-driven yield (``rates aprime|mcp``) needs
neither.  :func:`aprime_comparison` and :func:`mcp_comparison` put the two side by
side under named variants, ``MULT-FF``: multiplicities ``na27`` or
``pythia8`` times form factors ``pointlike``, ``vmd`` or ``na60`` (built in,
p-p at 400 GeV), or a user's own (:func:`read_variants`, a TOML file).

The model side covers the meson decays only.  Where the data also hold
vector mesons mixing into the photon (rho, omega and phi two-body: within
3 widths of omega and phi, and the whole rho region above 0.6 GeV) or a
continuum, the data-driven yield is larger by construction:
``model_incomplete`` marks those masses.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import GammastarError, renamed
from ..physics.beams import Beam
from ..physics.kinematics import pair_kinematics
from ..physics.mesons import CHANNELS, FORM_FACTORS, MULTIPLICITIES, meson_aprime, meson_chi_pairs
from ..physics.pdg import mass, width
from ..results import FailedMass, PerMassResult
from ..samples import EventSample, Sample
from .support import Support
from .yields import aprime_yield, mcp_yield

__all__ = ["Variant", "BUILTIN_VARIANTS", "read_variants", "variants_for", "model_incomplete", "YieldComparison", "AprimeComparison", "McpComparison",
           "aprime_comparison", "mcp_comparison", "RHO_REGION", "INCOMPLETE_SHARE"]

#: above this pair mass the rho's two-body decays fill the data (and the meson decays end near it)
RHO_REGION = 0.6
#: an m_chi is model_incomplete when more than this share of its data-driven yield comes from such masses
INCOMPLETE_SHARE = 0.05
_BUILTIN_BEAM = 400.0


@dataclass(frozen=True)
class Variant:
    """A model-based prediction: parents per collision, a form-factor set, and the beam energy it is for."""

    name: str
    multiplicity: dict[str, float]
    form_factors: str
    beam_energy: float | None = _BUILTIN_BEAM  # GeV on a fixed target; None: not said

    def aprime(self, masses: Any) -> np.ndarray:
        """A' per collision per eps^2 at ``masses`` (the meson decays only)."""
        return meson_aprime(masses, self.multiplicity, self.form_factors)

    def mcp(self, m_chi: Any, spin: str, m_min: float) -> np.ndarray:
        """chi-chibar pairs per collision per eps^2 with pair masses above max(2 m_chi, ``m_min``)."""
        return meson_chi_pairs(m_chi, self.multiplicity, self.form_factors, spin, m_min)

    def to_dict(self) -> dict[str, Any]:
        return {"multiplicity": dict(self.multiplicity), "form_factors": self.form_factors,
                "beam_energy": self.beam_energy}


#: multiplicities x form factors, p-p at 400 GeV
BUILTIN_VARIANTS: dict[str, Variant] = {
    f"{mult}-{ffs}": Variant(f"{mult}-{ffs}", dict(MULTIPLICITIES[mult]), ffs)
    for mult in MULTIPLICITIES for ffs in FORM_FACTORS
}


def read_variants(path: str | Path) -> dict[str, Variant]:
    """Variants from a TOML file: a table per variant under ``[variants.NAME]``::

        [variants.my-158gev]
        beam_energy = 158              # GeV, fixed target (optional)
        form_factors = "na60"          # pointlike, vmd or na60
        multiplicity = { pi0 = 3.0, eta = 0.25, etap = 0.03, omega = 0.3, phi = 0.012 }
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise GammastarError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise GammastarError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(doc) - {"variants"}
    if unknown or not isinstance(doc.get("variants"), dict) or not doc["variants"]:
        raise GammastarError(f"{path}: expected only [variants.NAME] tables" +
                             (f", not {sorted(unknown)[0]!r}" if unknown else ""))
    out = {}
    for name, table in doc["variants"].items():
        where = f"{path}: [variants.{name}]"
        if not isinstance(table, dict):
            raise GammastarError(f"{where} must be a table")
        extra = set(table) - {"beam_energy", "form_factors", "multiplicity"}
        if extra:
            raise GammastarError(f"{where}: unknown key {sorted(extra)[0]!r} (beam_energy, form_factors, multiplicity)")
        ffs = table.get("form_factors")
        if ffs not in FORM_FACTORS:
            raise GammastarError(f"{where}: form_factors must be one of {', '.join(FORM_FACTORS)}, not {ffs!r}")
        mult = table.get("multiplicity")
        if not isinstance(mult, dict) or not mult:
            raise GammastarError(f"{where}: give multiplicity = {{ {', '.join(f'{p} = N' for p in CHANNELS)} }}")
        for parent, n in mult.items():
            if parent not in CHANNELS:
                raise GammastarError(f"{where}: unknown meson {parent!r} in multiplicity; choose from {', '.join(CHANNELS)}")
            if isinstance(n, bool) or not isinstance(n, (int, float)) or not (math.isfinite(n) and n >= 0):
                raise GammastarError(f"{where}: multiplicity.{parent} must be a number >= 0, not {n!r}")
        beam = table.get("beam_energy")
        if beam is not None and (isinstance(beam, bool) or not isinstance(beam, (int, float)) or not beam > 0):
            raise GammastarError(f"{where}: beam_energy must be a positive number of GeV, not {beam!r}")
        out[name] = Variant(name, {p: float(n) for p, n in mult.items()}, ffs, None if beam is None else float(beam))
    return out


def variants_for(sample: Sample, user: dict[str, Variant] | None) -> tuple[dict[str, Variant], list[str]]:
    """The variants to compare ``sample`` with, and notes on the choice.

    The built-in variants describe p-p at 400 GeV on a fixed target: they are
    used for such data (or data that do not say their beams) and left out
    otherwise; a user's variants are always used.
    """
    notes = []
    beam = sample.beam
    at_400 = beam is None or (beam.kind == "fixed-target" and abs(beam.energy - _BUILTIN_BEAM) < 1e-6 * _BUILTIN_BEAM)
    out: dict[str, Variant] = dict(BUILTIN_VARIANTS) if at_400 else {}
    if not at_400:
        notes.append(f"the built-in variants are for p-p at 400 GeV, not {beam.describe() if beam else ''}: only the "
                     "variants given are compared" + ("" if user else " (none given)"))
    for name, v in (user or {}).items():
        if beam is not None and v.beam_energy is not None and beam.kind == "fixed-target" \
                and abs(v.beam_energy - beam.energy) > 1e-6 * beam.energy:
            notes.append(f"variant {name} is for {v.beam_energy:g} GeV, the data for {beam.describe()}")
        out[name] = v
    return out, notes


def model_incomplete(masses: Any) -> np.ndarray:
    """Where the data hold more than the meson decays: the rho region above :data:`RHO_REGION`, and within 3
    widths of the omega and the phi (their two-body decays)."""
    m = np.asarray(masses, dtype=float)
    near = np.zeros(m.shape, dtype=bool)
    for v in ("omega", "phi"):
        near |= np.abs(m - mass(v)) < 3.0 * width(v)
    return near | (m > RHO_REGION)


@dataclass
class YieldComparison(PerMassResult):
    """The data-driven yields next to model-based ones, per mass (``key`` "mass" for A', "m_chi" for mCP: an
    :class:`AprimeComparison` or an :class:`McpComparison`)."""

    mass_field: ClassVar[str | None] = "x"
    value_field: ClassVar[str] = "data_driven"
    error_field: ClassVar[str] = "data_driven_err"

    key: str
    x: np.ndarray
    data_driven: np.ndarray
    data_driven_err: np.ndarray
    models: dict[str, np.ndarray]
    variants: dict[str, Variant]
    model_incomplete: np.ndarray
    normalization: str
    lepton: str
    notes: list[str] = field(default_factory=list)
    spin: str | None = None
    #: per point, the share of all pairs (of the A' mass, or of the pair masses an mCP yield sums) that lies where
    #: the data have pairs (:meth:`gammastar.rates.support.Support.phase_space_coverage`; None: not known for a
    #: spectrum or a table)
    data_coverage: np.ndarray | None = None
    #: the masses the data-driven yield could not estimate (their values are NaN)
    failed: tuple[FailedMass, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def model_spread(self) -> np.ndarray:
        """max/min over the variants per point (NaN where a variant predicts nothing)."""
        if not self.models:
            return np.full(self.x.size, np.nan)
        stack = np.vstack(list(self.models.values()))
        lo, hi = stack.min(axis=0), stack.max(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(lo > 0, hi / np.where(lo > 0, lo, 1.0), np.nan)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            self.key: self.x.tolist(), "data_driven": self.data_driven.tolist(),
            "data_driven_err": self.data_driven_err.tolist(),
            "models": {k: v.tolist() for k, v in self.models.items()}, "model_spread": self.model_spread.tolist(),
            "normalization": self.normalization, "lepton": self.lepton,
            "model_incomplete": self.model_incomplete.tolist(),
            "variants": {k: v.to_dict() for k, v in self.variants.items()}, "notes": list(self.notes),
            "data_coverage": None if self.data_coverage is None
            else [float(c) if np.isfinite(c) else None for c in self.data_coverage]}
        if self.spin is not None:
            out["spin"] = self.spin
        return {**out, "failed": [f.to_dict(self.axis) for f in self.failed], **self.provenance}


@dataclass
class AprimeComparison(YieldComparison):
    """The data-driven A' yields per eps^2 next to the meson-decay ones, vs mass."""

    axis_label: ClassVar[str] = "m_A' [GeV]"


@dataclass
class McpComparison(YieldComparison):
    """The data-driven chi-chibar pairs per eps^2 next to the meson-decay ones, vs m_chi."""

    axis: ClassVar[str] = "m_chi"
    axis_label: ClassVar[str] = "m_chi [GeV]"


def _per_collision(sample: Sample) -> None:
    if sample.n_collisions is None:
        raise GammastarError("the model-based yields are per collision: give the data's `n_collisions` (or "
                             "gammastar.n_collisions metadata) to compare with them")


def aprime_comparison(sample: Sample, masses: Any, variants: dict[str, Variant] | None = None,
                      **rates_options: Any) -> AprimeComparison:
    """``rates aprime`` on ``sample`` at ``masses`` next to the variants' meson-decay A' yields."""
    _per_collision(sample)
    chosen, notes = variants_for(sample, variants)
    res = aprime_yield(sample, masses, **rates_options)
    support = _support(sample)
    coverage = None if support is None else np.array([support.phase_space_coverage(float(m), sample.beam or Beam())
                                                      for m in res.mass])
    return AprimeComparison("mass", res.mass, res.n_per_eps2, res.n_err, {k: v.aprime(res.mass) for k, v in chosen.items()},
                            chosen, model_incomplete(res.mass), res.normalization, res.lepton, notes, None, coverage,
                            res.failed, res.provenance)


def mcp_comparison(sample: Sample, m_chi: Any, spin: str = "fermion", variants: dict[str, Variant] | None = None,
                   **rates_options: Any) -> McpComparison:
    """``rates mcp`` on ``sample`` next to the variants' Dalitz chi pairs over the same pair masses (above
    max(2 m_chi, the data's lowest mass)); ``model_incomplete`` where more than :data:`INCOMPLETE_SHARE` of the
    data-driven yield comes from pair masses beyond the meson decays (:func:`model_incomplete`)."""
    _per_collision(sample)
    chosen, notes = variants_for(sample, variants)
    res = mcp_yield(sample, m_chi, spin=spin, **rates_options)
    models = {k: v.mcp(res.m_chi, spin, res.m_min) for k, v in chosen.items()}
    # where more than INCOMPLETE_SHARE of the data's pairs (weighted as the yield weights them) sit at masses
    # beyond the meson decays
    spec = sample.mass_spectrum()
    beyond = model_incomplete(spec.centres)
    share = np.zeros(res.m_chi.size)
    support = _support(sample)
    coverage = None if support is None else np.full(res.m_chi.size, np.nan)
    if support is not None:  # the pair masses' coverage, on a grid of 2% steps, at the fine bins' centres
        grid = np.geomspace(spec.centres[0], spec.centres[-1], max(2, int(np.log(spec.centres[-1] / spec.centres[0]) / 0.02)))
        at_grid = np.array([support.phase_space_coverage(float(m), sample.beam or Beam()) for m in grid])
        ok = np.isfinite(at_grid)
        per_bin = np.interp(spec.centres, grid[ok], at_grid[ok]) if ok.any() else np.full(spec.centres.size, np.nan)
    for i, mc in enumerate(res.m_chi):
        contrib, _ = spec.mcp_contributions(float(mc), spin)
        total = contrib.sum()
        share[i] = contrib[beyond].sum() / total if total > 0 else 1.0
        if coverage is not None and total > 0:
            positive = np.maximum(contrib, 0.0)
            coverage[i] = np.sum(positive * per_bin) / positive.sum()
    return McpComparison("m_chi", res.m_chi, res.n_pairs_per_eps2, res.n_err, models, chosen, share > INCOMPLETE_SHARE,
                         res.normalization, res.lepton, notes, spin, coverage, res.failed, res.provenance)


def _support(sample: Sample) -> Support | None:
    """Where the sample's pairs are (None for a spectrum or a table: their kinematics are not at hand)."""
    if not isinstance(sample, EventSample):
        return None
    k = pair_kinematics(sample.pos, sample.neg)
    measured = None if sample.below_floor is None else ~sample.below_floor
    return Support.from_pairs(sample.mass, k.pt, k.y, sample.weight, measured)


#: the names of earlier releases (they warn)
__getattr__ = renamed(__name__, {"compare_aprime": "aprime_comparison", "compare_mcp": "mcp_comparison",
                                 "Comparison": "YieldComparison"}, lambda name: globals()[name])
