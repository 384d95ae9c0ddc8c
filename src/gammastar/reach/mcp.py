"""Millicharged-particle signal counts in a downstream detector (``gammastar reach mcp``).

Every chi and chibar of a pair is counted:

    n_signal = n_collisions x eps^2 N_pairs(m_chi) x < a_chi P_detect(eps, E_chi) + a_chibar P_detect(eps, E_chibar) >,

with N_pairs the data-driven pairs per eps^2 (the model's ``rates mcp``
number), a = 1 when the particle's straight line from the target crosses the
plane z = z_m inside the detector's shape, and the mean taken over generated
pairs (signed weights kept).  Detection (PHYSICS.md section 4):

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
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import GammastarError
from ..physics.pdg import ALPHA, HBARC_GEV_M, mass
from .experiment import Experiment, McpDetector
from .signal import _in_shape_at

__all__ = ["McpSignalGrid", "mcp_signal_grid", "detection_probability", "electron_recoil_cross_section"]


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
    return np.multiply.outer(sigma_gev * HBARC_GEV_M**2, np.asarray(eps, dtype=float) ** 2)


def detection_probability(detector: McpDetector, energy: np.ndarray, m_chi: float, eps: np.ndarray) -> np.ndarray:
    """P(a chi of this energy crossing the detector is detected): (particles, eps)."""
    eps = np.asarray(eps, dtype=float)
    if detector.model == "scintillator":
        per_layer = -np.expm1(-eps**2 * detector.npe_per_layer)
        return np.broadcast_to(per_layer**detector.layers, (np.size(energy), eps.size))
    sigma = electron_recoil_cross_section(energy, m_chi, eps, detector.recoil_min, detector.recoil_max)
    return np.minimum(detector.electron_density * detector.length * sigma, 1.0)


@dataclass(frozen=True)
class McpSignalGrid:
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
    failed: tuple[dict[str, Any], ...] = ()

    def columns(self) -> dict[str, np.ndarray]:
        return {"m_chi": self.m_chi, "eps": self.eps, "n_signal": self.n_signal, "n_signal_err": self.n_signal_err,
                "p_detect": self.p_detect, "n_signal_mc_err": self.n_signal_mc_err}

    def reshaped(self, key: str) -> np.ndarray:
        """A column as (m_chi, eps) (a mass asked for twice has two rows)."""
        return np.asarray(getattr(self, key)).reshape(-1, self.n_eps)


def _relative_error(generator: Any, m_chi: float, spin: str) -> float:
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
    if getattr(generator.model, "normalization", "per_collision") != "per_collision":
        raise GammastarError("the model's yields are per sample (trained without --n-collisions): signal counts need "
                             "yields per collision; retrain with --n-collisions N")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("n", "err", "p", "mc")}
    failed: list[dict[str, Any]] = []
    for i, m in enumerate(tqdm(m_chi, desc="signal", unit="mass", delay=1.0, disable=not progress)):
        try:
            ev = generator.mcp(float(m), n_events, spin=spin, seed=seed + i)
            rel = _relative_error(generator, float(m), spin)
        except GammastarError as exc:  # outside the data or the model: the others go on
            failed.append({"m_chi": float(m), "reason": str(exc)})
            for key in cols:
                cols[key].append(np.full(eps.size, np.nan))
            continue
        w = ev["weight"]  # pairs per collision at eps = 1, per event (signed)
        per_event = np.zeros((w.size, eps.size))
        for leg in ("pos", "neg"):
            p = np.column_stack([ev[f"px_{leg}"], ev[f"py_{leg}"], ev[f"pz_{leg}"]])
            zero = np.zeros(w.size)
            hit = _in_shape_at(det.shape, det.z, zero, zero, zero, p)
            if hit.any():
                per_event[hit] += detection_probability(det, ev[f"e_{leg}"][hit], float(m), eps)
        detected = w @ per_event  # chi detected per collision per eps^2 (the weights are at eps = 1)
        n_sig = experiment.n_collisions * eps**2 * detected
        pairs = float(w.sum())
        second = (w**2) @ (per_event**2)
        cols["n"].append(n_sig)
        cols["err"].append(n_sig * rel)
        cols["p"].append(detected / pairs if pairs > 0 else np.full(eps.size, np.nan))
        cols["mc"].append(experiment.n_collisions * eps**2 * np.sqrt(np.maximum(second - detected**2 / w.size, 0.0)))
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    return McpSignalGrid(np.repeat(m_chi, eps.size), np.tile(eps, m_chi.size), flat["n"], flat["err"], flat["p"],
                         flat["mc"], spin, experiment, eps.size, tuple(failed))
