"""A' signal counts in an experiment, versus mass and coupling (``gammastar reach aprime``).

For an A' of mass m and coupling eps,

    n_signal = n_collisions x eps^2 N_V(m) x < P_decay > x BR(visible) x efficiency,

with N_V(m) the data-driven A' yield per eps^2 (the model's ``rates aprime``
number), < P_decay > the mean over generated A' events of the probability to
decay inside the decay volume (0 outside the acceptance; with
``daughters_in_acceptance``, times the probability that both daughters then
reach the detector plane inside its shape), BR(visible) the branching ratio
into the experiment's final states (:mod:`gammastar.physics.decays`).

One sample of A' momenta per mass serves every eps: along a line of flight
the decay length projected on z is L = (p_z/m) c tau(1)/eps^2, so with
a = m / (p_z c tau(1)) per event

    P_decay(eps) = exp(-z_start a eps^2) - exp(-z_end a eps^2).

Long-lived (a eps^2 z_end << 1): P ~ (z_end - z_start) a eps^2, so
n_signal ~ eps^4; short-lived: exponential fall.  With the daughters, the
decay point is integrated by Gauss-Legendre nodes in the decay-position
quantile (the decay point's distribution inside the volume is a truncated
exponential), and the daughters of the generated A' -> l l decay are carried
from each node to z_end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import GammastarError
from ..physics.decays import TABLES, AprimeDecay, aprime_decay, shipped_table
from .experiment import Experiment

__all__ = ["SignalGrid", "signal_grid", "decay_probability", "parse_eps_spec"]

_NODES, _NODE_W = np.polynomial.legendre.leggauss(8)


def decay_probability(a: np.ndarray, eps: np.ndarray, z_start: float, z_end: float) -> np.ndarray:
    """P(decay in [z_start, z_end]) for events with a = m/(p_z c tau(1)) (1/m) at couplings eps: (events, eps)."""
    k = np.multiply.outer(a, np.asarray(eps, dtype=float) ** 2)
    # exp(-z0 k) - exp(-z1 k) = exp(-z0 k) (-expm1(-(z1 - z0) k)): no cancellation when long-lived
    return np.exp(-z_start * k) * -np.expm1(-(z_end - z_start) * k)


@dataclass(frozen=True)
class SignalGrid:
    """Signal counts on a (mass, eps) grid: rows mass-major, as written to ``signal.parquet``."""

    mass: np.ndarray
    eps: np.ndarray
    n_signal: np.ndarray
    n_signal_err: np.ndarray
    p_decay: np.ndarray
    ctau_m: np.ndarray
    #: the Monte Carlo error of n_signal from the finite number of generated events (not in n_signal_err)
    n_signal_mc_err: np.ndarray
    #: n_signal with the other shipped decay table (the width-model spread), NaN where only one covers
    n_signal_alt: np.ndarray
    experiment: Experiment
    #: couplings per mass (the length of each mass's block of rows)
    n_eps: int
    #: masses whose yield could not be estimated ({"mass", "reason"}): their rows are NaN
    failed: tuple[dict[str, Any], ...] = ()

    def columns(self) -> dict[str, np.ndarray]:
        return {"mass": self.mass, "eps": self.eps, "n_signal": self.n_signal, "n_signal_err": self.n_signal_err,
                "p_decay": self.p_decay, "ctau_m": self.ctau_m, "n_signal_mc_err": self.n_signal_mc_err,
                "n_signal_width_alt": self.n_signal_alt}

    def reshaped(self, key: str) -> np.ndarray:
        """A column as (masses, eps) (a mass asked for twice has two rows)."""
        return np.asarray(getattr(self, key)).reshape(-1, self.n_eps)


def _in_shape_at(shape: Any, z: float, x0: np.ndarray, y0: np.ndarray, z0: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Whether lines from (x0, y0, z0) along p (..., 3) cross the plane z inside the shape (forward only)."""
    pz = p[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (z - z0) / pz
        ok = (pz > 0) & (t >= 0)
        return ok & shape.contains(x0 + t * p[..., 0], y0 + t * p[..., 1])


def _daughter_acceptance(ev: dict[str, np.ndarray], inside: np.ndarray, a: np.ndarray, eps: np.ndarray,
                         exp_: Experiment) -> np.ndarray:
    """Mean over the decay point (in the volume) of both daughters reaching z_end inside the shape: (events, eps)."""
    v = exp_.decay_volume
    out = np.zeros((a.size, eps.size))
    idx = np.flatnonzero(inside)
    if idx.size == 0:
        return out
    k = np.multiply.outer(a[idx], eps**2)  # (n, e): decay rate per metre along z
    span = -np.expm1(-(v.z_end - v.z_start) * k)
    p_a = np.column_stack([ev["px"][idx], ev["py"][idx], ev["pz"][idx]])
    legs = [np.column_stack([ev[f"p{c}_{s}"][idx] for c in "xyz"]) for s in ("pos", "neg")]
    for u, w in zip(0.5 * (_NODES + 1.0), 0.5 * _NODE_W, strict=True):
        # the decay point at quantile u of the truncated exponential in z
        with np.errstate(divide="ignore", invalid="ignore"):
            z = v.z_start - np.log1p(-u * span) / k
        z = np.where(np.isfinite(z), z, v.z_start + u * (v.z_end - v.z_start))  # k -> 0: uniform
        x = p_a[:, 0, None] * z / p_a[:, 2, None]
        y = p_a[:, 1, None] * z / p_a[:, 2, None]
        both = np.ones_like(z, dtype=bool)
        for leg in legs:
            both &= _in_shape_at(v.shape, v.z_end, x, y, z, leg[:, None, :])
        out[idx] += w * both
    return out


def _mean_decay_probability(ev: dict[str, np.ndarray], inside: np.ndarray, m: float, ctau1: float, eps: np.ndarray,
                            experiment: Experiment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per eps, means over the events (0 outside acceptance): P(decay in the volume) x the daughters' acceptance
    (when asked), its Monte Carlo error, and P(decay in the volume) alone (``p_decay``)."""
    v = experiment.decay_volume
    n = inside.size
    a = np.where(inside, m / (np.where(inside, ev["pz"], 1.0) * ctau1), 0.0)
    decay = decay_probability(a[inside], eps, v.z_start, v.z_end)  # events outside the acceptance add 0
    prob = decay
    if experiment.detection.daughters_in_acceptance:
        prob = decay * _daughter_acceptance(ev, inside, a, eps, experiment)[inside]
    mean = prob.sum(axis=0) / n
    var = np.maximum(np.einsum("ij,ij->j", prob, prob) / n - mean**2, 0.0)
    return mean, np.sqrt(var / n), decay.sum(axis=0) / n


def signal_grid(generator: Any, experiment: Experiment, masses: Any, eps: Any, n_events: int = 100_000,
                seed: int = 0, progress: bool = False) -> SignalGrid:
    """Expected A' signal events in ``experiment`` on the grid ``masses`` x ``eps`` (see the module docstring)."""
    masses = np.atleast_1d(np.asarray(masses, dtype=float))
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    if not (np.all(eps > 0) and np.all(np.isfinite(eps))):
        raise GammastarError("eps must be positive and finite")
    if n_events < 100:
        raise GammastarError(f"--n-events must be at least 100, not {n_events}")
    beam = getattr(generator, "beam", None)
    if beam is not None and (beam.kind != "fixed-target" or abs(beam.energy - experiment.beam_energy) > 1e-6 * beam.energy):
        raise GammastarError(f"the model's beams ({beam.describe()}) are not {experiment.name}'s "
                             f"({experiment.beam_energy:g} GeV on a fixed target): train on data from such beams")
    if getattr(getattr(generator, "model", None), "normalization", "per_collision") != "per_collision":
        raise GammastarError("the model's yields are per sample (trained without --n-collisions): signal counts need "
                             "yields per collision; retrain with --n-collisions N")
    states, efficiency = experiment.detection.final_states, experiment.detection.efficiency
    v = experiment.decay_volume
    daughters = experiment.detection.daughters_in_acceptance
    zero = np.zeros(n_events)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("n", "err", "p", "ctau", "mc", "alt")}
    failed: list[dict[str, Any]] = []
    for i, m in enumerate(tqdm(masses, desc="signal", unit="mass", delay=1.0, disable=not progress)):
        try:
            n_v, n_v_err = generator.aprime_yield(float(m))
            dec = aprime_decay([m])
        except GammastarError as exc:  # outside the data or the model: the others go on (as in rates scans)
            failed.append({"mass": float(m), "reason": str(exc)})
            for key in cols:
                cols[key].append(np.full(eps.size, np.nan))
            continue
        ev = generator.aprime(float(m), n_events, seed=seed + i, decay=daughters)
        p = np.column_stack([ev["px"], ev["py"], ev["pz"]])
        inside = _in_shape_at(v.shape, v.z_end, zero, zero, zero, p)
        p_mean, p_err, p_decay = _mean_decay_probability(ev, inside, float(m), float(dec.ctau_m_eps1[0]), eps,
                                                         experiment)
        scale = experiment.n_collisions * eps**2 * n_v * dec.br_visible(states)[0] * efficiency
        cols["n"].append(scale * p_mean)
        cols["err"].append(scale * p_mean * (n_v_err / n_v if n_v > 0 else np.inf))
        cols["mc"].append(scale * p_err)
        cols["p"].append(p_decay)
        cols["ctau"].append(dec.ctau_m_eps1[0] / eps**2)
        alt = _other_table(float(m), dec.table[0])
        if alt is not None:
            br_alt = alt.br_visible(states)[0] * efficiency
            cols["alt"].append(experiment.n_collisions * eps**2 * n_v * br_alt * _mean_decay_probability(
                ev, inside, float(m), float(alt.ctau_m_eps1[0]), eps, experiment)[0])
        else:
            cols["alt"].append(np.full(eps.size, np.nan))
    flat = {k: np.concatenate(v_) for k, v_ in cols.items()}
    return SignalGrid(np.repeat(masses, eps.size), np.tile(eps, masses.size), flat["n"], flat["err"], flat["p"],
                      flat["ctau"], flat["mc"], flat["alt"], experiment, eps.size, tuple(failed))


def _other_table(m: float, used: str) -> AprimeDecay | None:
    """The decays at ``m`` from the shipped table not ``used`` (foresee2025 <-> darkcast), None where it does not
    cover ``m`` or the widths are the exact leptonic ones."""
    other = [name for name in TABLES if name != used]
    if used == "leptonic" or not other or not shipped_table(other[0]).covers(np.array([m]))[0]:
        return None
    return aprime_decay([m], shipped_table(other[0]))


def parse_eps_spec(spec: str) -> np.ndarray:
    """Couplings from ``"LO:HI:N"`` (N points, log-spaced, both ends included) or a comma list."""
    text = str(spec).strip()
    try:
        parts = [float(x) for x in text.split(":" if ":" in text else ",") if x.strip()]
    except ValueError:
        raise GammastarError(f"cannot parse --eps {spec!r}: use LO:HI:N (N log-spaced points) or a comma list") from None
    if ":" in text:
        if len(parts) != 3:
            raise GammastarError(f"--eps {spec!r}: use LO:HI:N (N log-spaced points)")
        lo, hi, n = parts
        if not (0 < lo < hi < 1 and np.isfinite(hi) and n == int(n) and 2 <= n <= 10_000):
            raise GammastarError(f"--eps {spec!r}: need 0 < LO < HI < 1 and a whole N from 2 to 10000")
        return np.geomspace(lo, hi, int(n))
    values = np.sort(np.array(parts))
    if values.size == 0 or not np.all((values > 0) & (values < 1)):
        raise GammastarError(f"--eps {spec!r}: couplings must be in (0, 1)")
    return values
