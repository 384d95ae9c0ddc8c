"""Millicharged-particle signal counts in a downstream detector (``gammastar reach mcp``).

Every chi and chibar of a pair is counted:

    n_signal = n_collisions x eps^2 N_pairs(m_chi) x < a_chi P_detect(eps, E_chi) + a_chibar P_detect(eps, E_chibar) >,

with N_pairs the data-driven pairs per eps^2 (the model's ``rates mcp``
number), a = 1 when the particle's straight line from the target crosses the
plane z = z_m inside the detector's shape, and the mean taken over generated
pairs (signed weights kept).  Detection (docs/physics.md section 4):

* ``scintillator``: P = (1 - exp(-eps^2 N_pe))^layers, N_pe the mean
  photo-electrons a unit charge leaves in one layer (milliQan-type); at small
  eps P ~ (eps^2 N_pe)^layers, so n_signal ~ eps^(2 + 2 layers);
* ``electron-recoil``: a thin target of electron density n_e and length L,
  P = n_e L sigma(E), sigma the chi e -> chi e cross-section by photon exchange
  with the recoil energy in [recoil_min, recoil_max] (Magill, Plestid,
  Pospelov, Tsai, PRL 122 (2019) 071801):

      dsigma/dE_r = pi alpha^2 eps^2 [2 E^2 m_e + E_r^2 m_e - E_r (m_e^2 + 2 m_e E + m_chi^2)]
                    / [E_r^2 (E^2 - m_chi^2) m_e^2],

  integrated analytically; at E_r << E it is the Rutherford-like 2 pi alpha^2 eps^2 / (m_e E_r^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from tqdm import tqdm

from ..errors import GammastarError
from ..physics.kinematics import boost, from_pt_y_phi, isotropic_directions, two_body_momentum
from ..physics.pdg import ALPHA, HBARC_GEV_M, mass
from ..physics.reference import sample_reference
from ..rates.support import Support, coverage
from ..results import FailedMass
from .coverage import MassCoverage, weighted_range
from .experiment import Experiment, McpDetector
from .signal import CountGrid, check_generator, error_and_coverage_columns, replica_spread

__all__ = ["McpSignalGrid", "mcp_signal_grid", "detection_probability", "electron_recoil_cross_section", "pair_yield_rel_err",
           "detected_chi"]

_REFERENCE_PAIRS = 20_000  # reference pairs an m_chi, at least (for data_coverage)


def electron_recoil_cross_section(energy: np.ndarray, m_chi: float, eps: np.ndarray, e_min: float, e_max: float
                                  ) -> np.ndarray:
    """sigma(chi e -> chi e) in m^2 with the recoil energy in [e_min, e_max] (and below its kinematic maximum):
    (particles, eps)."""
    m_e = mass("e")
    energy = np.asarray(energy, dtype=float)
    p2 = np.maximum(energy**2 - m_chi**2, 1e-300)
    e_kin_max = 2 * m_e * p2 / (m_e**2 + m_chi**2 + 2 * m_e * energy)
    hi = np.minimum(e_max, e_kin_max)
    lo = np.full_like(hi, e_min)
    ok = hi > lo
    hi = np.where(ok, hi, lo)
    integral = (2 * energy**2 * m_e * (1 / lo - 1 / hi) + m_e * (hi - lo)
                - (m_e**2 + 2 * m_e * energy + m_chi**2) * np.log(hi / lo))
    sigma_gev = np.pi * ALPHA**2 * np.where(ok, integral, 0.0) / (p2 * m_e**2)  # at eps = 1, GeV^-2
    return np.asarray(np.multiply.outer(sigma_gev * HBARC_GEV_M**2, np.asarray(eps, dtype=float) ** 2))


def detection_probability(detector: McpDetector, energy: np.ndarray, m_chi: float, eps: np.ndarray) -> np.ndarray:
    """P(a chi of this energy crossing the detector is detected): (particles, eps)."""
    eps = np.asarray(eps, dtype=float)
    if detector.model == "scintillator":
        per_layer = -np.expm1(-eps**2 * detector.npe_per_layer)
        return np.broadcast_to(per_layer**detector.layers, (np.size(energy), eps.size))
    sigma = electron_recoil_cross_section(energy, m_chi, eps, detector.recoil_min, detector.recoil_max)
    return np.minimum(detector.electron_density * detector.length * sigma, 1.0)


@dataclass(frozen=True)
class McpSignalGrid(CountGrid):
    """chi signal counts on an (m_chi, eps) grid, rows m_chi-major (``signal.parquet``)."""

    m_chi: np.ndarray
    eps: np.ndarray
    n_signal: np.ndarray
    n_signal_err: np.ndarray
    p_detect: np.ndarray
    n_signal_mc_err: np.ndarray
    spin: str
    experiment: Experiment
    #: charges per mass (the length of each mass's block of rows)
    n_eps: int
    failed: tuple[FailedMass, ...] = ()
    #: the part of n_signal_err from the kinematics the finite data leave uncertain (the replicas' spread)
    n_signal_kin_err: np.ndarray | None = None
    #: how many replicas that spread is taken over (0: the model has none, and n_signal_err lacks that part)
    replicas: int = 0
    #: per row, the share of the detected chi whose pairs lie where the data have pairs (NaN where unknown)
    data_coverage: np.ndarray | None = None
    #: per m_chi, the coverage's details (None where unknown)
    coverage: tuple[MassCoverage | None, ...] = ()

    axis: ClassVar[str] = "m_chi"

    def columns(self) -> dict[str, np.ndarray]:
        out = {"m_chi": self.m_chi, "eps": self.eps, "n_signal": self.n_signal, "n_signal_err": self.n_signal_err,
               "p_detect": self.p_detect, "n_signal_mc_err": self.n_signal_mc_err}
        return {**out, **error_and_coverage_columns(self.n_signal_kin_err, self.data_coverage)}


def pair_yield_rel_err(generator: Any, m_chi: float, spin: str) -> float:
    """The data's relative statistical error on the pairs per eps^2 above 2 m_chi (as ``rates mcp``)."""
    s = generator.model.spectrum
    c, c2 = s.mcp_contributions(m_chi, spin)
    total = float(c.sum())
    return float(np.sqrt(c2.sum())) / total if total > 0 else np.inf


def mcp_signal_grid(generator: Any, experiment: Experiment, m_chi: Any, eps: Any, spin: str = "fermion",
                    n_events: int = 100_000, seed: int = 0, progress: bool = False) -> McpSignalGrid:
    """Expected detected chi (both of each pair) in ``experiment``'s mCP detector on the grid ``m_chi`` x ``eps``."""
    det = experiment.mcp_detector
    if det is None:
        raise GammastarError(f"experiment {experiment.origin or experiment.name} has no [mcp_detector] table")
    m_chi = np.atleast_1d(np.asarray(m_chi, dtype=float))
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    if not (np.all(eps > 0) and np.all(np.isfinite(eps))):
        raise GammastarError("eps must be positive and finite")
    check_generator(generator, experiment, "signal counts", beams=False)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("n", "err", "p", "mc", "kin", "cov")}
    coverages: list[MassCoverage | None] = []
    crossed: list[bool] = []  # whether any chi crosses the detector, per m_chi
    failed: list[FailedMass] = []
    for i, m in enumerate(tqdm(m_chi, desc="signal", unit="mass", delay=1.0, disable=not progress)):
        try:
            ev = generator.mcp(float(m), n_events, spin=spin, seed=seed + i)
            rel = pair_yield_rel_err(generator, float(m), spin)
        except GammastarError as exc:  # outside the data or the model: the others go on
            failed.append(FailedMass.of(float(m), exc))
            for key in cols:
                cols[key].append(np.full(eps.size, np.nan))
            coverages.append(None)
            continue
        w = ev["weight"]  # pairs per collision at eps = 1, per event (signed)
        legs = [np.column_stack([ev[f"{c}_{leg}"] for c in ("px", "py", "pz", "e")]) for leg in ("pos", "neg")]
        per_event, hits = detected_chi(det, legs, float(m), eps)
        crossed.append(bool(np.any(hits)))
        detected = w @ per_event  # chi detected per collision per eps^2 (the weights are at eps = 1)
        n_sig = experiment.n_collisions * eps**2 * detected
        pairs = float(w.sum())
        second = (w**2) @ (per_event**2)
        pair = legs[0] + legs[1]
        m_pair = np.sqrt(np.maximum(pair[:, 3] ** 2 - np.sum(pair[:, :3] ** 2, axis=1), 0))
        ratios = generator.replica_ratios(pair, m_pair)
        kin = replica_spread(None if ratios is None else (ratios * w) @ per_event, detected)
        support = getattr(generator, "support", None)
        cov = None if support is None else _coverage(generator, support, det, float(m), eps, w, pair, m_pair, per_event,
                                                     max(_REFERENCE_PAIRS, n_events // 5), seed + i)
        coverages.append(cov)
        cols["cov"].append(np.full(eps.size, np.nan) if cov is None else cov.per_eps)
        cols["n"].append(n_sig)
        cols["err"].append(n_sig * np.hypot(rel, kin))
        cols["kin"].append(n_sig * kin)
        cols["p"].append(detected / pairs if pairs > 0 else np.full(eps.size, np.nan))
        cols["mc"].append(experiment.n_collisions * eps**2 * np.sqrt(np.maximum(second - detected**2 / w.size, 0.0)))
    if len(failed) < m_chi.size and not any(crossed):
        raise GammastarError(f"no chi of the model crosses {experiment.name}'s mCP detector at any of these masses "
                             f"(z = {det.z:g} m, {det.shape.describe()}): an empty acceptance; is the geometry right?")
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    return McpSignalGrid(np.repeat(m_chi, eps.size), np.tile(eps, m_chi.size), flat["n"], flat["err"], flat["p"],
                         flat["mc"], spin, experiment, eps.size, tuple(failed), flat["kin"], int(generator.replicas),
                         flat["cov"], tuple(coverages))


def detected_chi(det: McpDetector, legs: list[np.ndarray], m_chi: float, eps: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, eps) chi detected per pair -- each leg (N, 4) that crosses the detector, times its probability -- and
    (legs, pairs) whether each leg crosses it."""
    out = np.zeros((legs[0].shape[0], eps.size))
    hits = np.stack([det.shape.crossed_at(det.z, leg[:, :3]) for leg in legs])
    for leg, hit in zip(legs, hits, strict=True):
        if hit.any():
            out[hit] += detection_probability(det, leg[hit, 3], m_chi, eps)
    return out, hits


def _coverage(generator: Any, support: Support, det: McpDetector, m_chi: float, eps: np.ndarray, w: np.ndarray,
              pair: np.ndarray, m_pair: np.ndarray, per_event: np.ndarray, n_ref: int, seed: int) -> MassCoverage:
    """data_coverage of the detected chi (:mod:`.coverage`): the model's pairs where the data have support, against
    reference pairs at the same pair masses (reference kinematics, isotropic decays) where they have none."""
    rng = np.random.default_rng([seed, 37])
    pt = np.hypot(pair[:, 0], pair[:, 1])
    y = 0.5 * np.log((pair[:, 3] + pair[:, 2]) / (pair[:, 3] - pair[:, 2]))
    inside = support.contains(m_pair, pt, y)
    supported = ((w * inside) @ per_event) / w.sum()
    size = np.abs(w) / np.abs(w).sum()
    m_ref = m_pair[rng.choice(w.size, n_ref, p=size)]
    pt_ref, y_ref = sample_reference(m_ref, generator.beam, rng)
    parent = from_pt_y_phi(pt_ref, y_ref, rng.uniform(-np.pi, np.pi, n_ref), m_ref)
    k = two_body_momentum(m_ref, m_chi, m_chi)[:, None] * isotropic_directions(n_ref, rng)
    e = np.sqrt(np.sum(k**2, axis=1) + m_chi**2)[:, None]
    beta = parent[:, :3] / parent[:, 3:4]
    ref, _ = detected_chi(det, [boost(np.column_stack([k, e]), beta), boost(np.column_stack([-k, e]), beta)], m_chi, eps)
    ref_inside = support.contains(m_ref, pt_ref, y_ref)
    rows, rows_ref = support.row(y), support.row(y_ref)
    first = int(min(rows.min(), rows_ref.min()))
    n_rows = int(max(rows.max(), rows_ref.max())) - first + 1
    model_rows = np.bincount(rows[inside] - first, size[inside], n_rows)
    ref_rows = np.bincount(rows_ref[ref_inside] - first, None, n_rows) / n_ref
    unsupported = np.zeros((n_rows, eps.size))
    np.add.at(unsupported, rows_ref[~ref_inside] - first, ref[~ref_inside] / n_ref)
    needs = None
    if ref[:, 0].sum() > 0:
        needs = {"y": weighted_range(y_ref, ref[:, 0]), "pt": weighted_range(pt_ref, ref[:, 0])}
    return MassCoverage(coverage(supported, model_rows, ref_rows, unsupported), needs,
                        support.ranges(float(np.median(m_pair))))
