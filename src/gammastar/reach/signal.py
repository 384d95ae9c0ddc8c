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
n_signal ~ eps^4; short-lived: exponential fall.  With the daughters (of the
generated A' -> l l decay), P is that of decaying where both then reach the
end plane inside the shape: along the A' line that is one interval
[z_lo, z_hi] of decay positions (:func:`daughter_window`), so
P = exp(-z_lo a eps^2) - exp(-z_hi a eps^2), exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from tqdm import tqdm

from ..errors import GammastarError
from ..physics.channels import channel_shares, decay_mixture
from ..physics.decays import TABLES, AprimeDecay, aprime_decay, shipped_table
from ..results import FailedMass
from .coverage import EXTRAPOLATED_BELOW, MassCoverage, mass_coverage, reference_toward
from .experiment import Experiment

__all__ = ["SignalGrid", "signal_grid", "decay_probability", "daughter_window", "parse_eps_spec", "replica_spread",
           "error_and_coverage_columns", "check_generator"]

_REFERENCE_EVENTS = 20_000  # reference A' a mass, at least (for data_coverage)


def decay_probability(a: np.ndarray, eps: np.ndarray, z_start: float | np.ndarray, z_end: float | np.ndarray
                      ) -> np.ndarray:
    """P(decay in [z_start, z_end]) for events with a = m/(p_z c tau(1)) (1/m) at couplings eps: (events, eps);
    the bounds may be per event ((events, 1) arrays)."""
    k = np.multiply.outer(a, np.asarray(eps, dtype=float) ** 2)
    # exp(-z0 k) - exp(-z1 k) = exp(-z0 k) (-expm1(-(z1 - z0) k)): no cancellation when long-lived.  Exponents are
    # clipped at -700 (e^-700 = 1e-304: nothing left to count), which keeps numpy's vectorised exp on its fast path
    # (6 times faster than underflowing); in place, as the (events, eps) arrays are the largest of a reach
    first = np.multiply(k, -np.asarray(z_start, dtype=float))
    np.exp(np.maximum(first, -700.0, out=first), out=first)
    np.multiply(k, -(np.asarray(z_end, dtype=float) - z_start), out=k)
    np.expm1(np.maximum(k, -700.0, out=k), out=k)
    np.multiply(first, k, out=k)
    return np.asarray(np.negative(k, out=k))


class CountGrid:
    """What the signal grids (A': :class:`SignalGrid`, chi: :class:`~.mcp.McpSignalGrid`) share: rows of counts,
    mass-major, ``n_eps`` couplings per mass; their ``columns()`` as a table, a dict or one column as a matrix."""

    #: the name of the mass column (and of the failures' mass)
    axis: ClassVar[str]
    n_eps: int
    failed: tuple[FailedMass, ...]
    replicas: int

    def columns(self) -> dict[str, np.ndarray]:
        """The columns of ``signal.parquet``, in its order."""
        raise NotImplementedError

    def to_table(self) -> Any:
        """The counts as a ``pyarrow.Table``, one row per (mass, eps), mass-major (``signal.parquet``)."""
        import pyarrow as pa  # here: generating events to HepMC3 or LHE needs this module, not pyarrow

        return pa.table(self.columns())

    def to_dict(self) -> dict[str, Any]:
        """The columns as lists (NaN rows where a mass failed), the failures and the replicas."""
        return {**{k: v.tolist() for k, v in self.columns().items()},
                "failed": [f.to_dict(self.axis) for f in self.failed], "replicas": self.replicas}

    def reshaped(self, key: str) -> np.ndarray:
        """A column as (masses, eps) (a mass asked for twice has two rows)."""
        return np.asarray(getattr(self, key)).reshape(-1, self.n_eps)


@dataclass(frozen=True)
class SignalGrid(CountGrid):
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
    n_signal_width_alt: np.ndarray
    experiment: Experiment
    #: couplings per mass (the length of each mass's block of rows)
    n_eps: int
    #: masses whose yield could not be estimated: their rows are NaN
    failed: tuple[FailedMass, ...] = ()
    #: the part of n_signal_err from the kinematics the finite data leave uncertain (the replicas' spread)
    n_signal_kin_err: np.ndarray | None = None
    #: how many replicas that spread is taken over (0: the model has none, and n_signal_err lacks that part)
    replicas: int = 0
    #: per row, the share of what the experiment accepts that lies where the data have pairs (:mod:`.coverage`;
    #: NaN where the model records no support)
    data_coverage: np.ndarray | None = None
    #: per mass, the coverage's details (None for failed masses and models without a support map)
    coverage: tuple[MassCoverage | None, ...] = ()

    axis: ClassVar[str] = "mass"

    def columns(self) -> dict[str, np.ndarray]:
        out = {"mass": self.mass, "eps": self.eps, "n_signal": self.n_signal, "n_signal_err": self.n_signal_err,
               "p_decay": self.p_decay, "ctau_m": self.ctau_m, "n_signal_mc_err": self.n_signal_mc_err,
               "n_signal_width_alt": self.n_signal_width_alt}
        return {**out, **error_and_coverage_columns(self.n_signal_kin_err, self.data_coverage)}

    @property
    def n_signal_alt(self) -> np.ndarray:
        """The name of :attr:`n_signal_width_alt` in earlier releases (it warns)."""
        warnings.warn("SignalGrid.n_signal_alt is now n_signal_width_alt, as signal.parquet names it; the old name "
                      "goes in the next release", DeprecationWarning, stacklevel=2)
        return self.n_signal_width_alt


def check_generator(generator: Any, experiment: Experiment, what: str, beams: bool = True) -> None:
    """Refuse a generator whose model cannot serve ``experiment``: yields per sample rather than per collision
    (``what`` needs them), or, with ``beams``, other beams than the experiment's."""
    beam = getattr(generator, "beam", None)
    if beams and beam is not None and (beam.kind != "fixed-target"
                                       or abs(beam.energy - experiment.beam_energy) > 1e-6 * beam.energy):
        raise GammastarError(f"the model's beams ({beam.describe()}) are not {experiment.name}'s "
                             f"({experiment.beam_energy:g} GeV on a fixed target): train on data from such beams")
    if getattr(getattr(generator, "model", None), "normalization", "per_collision") != "per_collision":
        raise GammastarError(f"the model's yields are per sample (trained without `n_collisions`): {what} "
                             "need yields per collision; train it again with `n_collisions=N`")


def error_and_coverage_columns(kin_err: np.ndarray | None, data_coverage: np.ndarray | None) -> dict[str, np.ndarray]:
    """The signal tables' columns n_signal_kin_err, data_coverage and extrapolated (those known)."""
    out = {} if kin_err is None else {"n_signal_kin_err": kin_err}
    if data_coverage is not None:
        out.update(data_coverage=data_coverage, extrapolated=data_coverage < EXTRAPOLATED_BELOW)
    return out


def daughter_window(aprime: np.ndarray, daughters: list[np.ndarray], volume: Any, present: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For A' of momenta ``aprime`` (N, 3 or 4) decaying to ``daughters`` (a list of (N, 3 or 4) momenta; ``present``
    (N, len(daughters)) says which slots hold one, default all), the decay positions z in the volume from which every
    daughter reaches its end plane inside the shape: (z_lo, z_hi), empty where z_lo >= z_hi.

    Along the A' line the decay point is s z (s = p_T/p_z of the A'), and a daughter of direction q = d_T/d_z
    leaving it crosses the end plane at s z + (z_end - z) q, a point *linear* in z: each daughter hits the shape on
    one interval of z (a quadratic inequality for a circle, linear ones for a rectangle), and all on their
    intersection.
    """
    z0, z1 = volume.z_start, volume.z_end
    n = aprime.shape[0]
    lo, hi = np.full(n, z0), np.full(n, z1)
    s = aprime[:, :2] / aprime[:, 2:3]
    for k, d in enumerate(daughters):
        dz = d[:, 2]
        forward = dz > 0
        q = d[:, :2] / np.where(forward, dz, 1.0)[:, None]
        a, b = volume.shape.line_interval(z1 * q, s - q)
        there = np.ones(n, dtype=bool) if present is None else present[:, k]
        lo = np.where(there, np.where(forward, np.maximum(lo, a), np.inf), lo)
        hi = np.where(there, np.where(forward, np.minimum(hi, b), -np.inf), hi)
    return lo, hi


@dataclass(frozen=True)
class _Means:
    """Per eps, means over all A' (0 outside acceptance) of P(decay in the volume) x the daughters' acceptance
    (``p``), its Monte Carlo error, P(decay in the volume) alone, ``p`` under each replica (K, eps), and P(decay in
    the volume) of the A' where the data have support."""

    p: np.ndarray
    mc_err: np.ndarray
    p_decay: np.ndarray
    replicas: np.ndarray | None
    p_decay_supported: np.ndarray


def _mean_decay_probability(ev: dict[str, np.ndarray], inside: np.ndarray, m: float, ctau1: float, eps: np.ndarray,
                            experiment: Experiment, share: float = 1.0, ratios: np.ndarray | None = None,
                            supported: np.ndarray | None = None,
                            seen_from: tuple[np.ndarray, np.ndarray] | None = None) -> _Means:
    """The means of :class:`_Means`; the events are drawn from ``share`` of the A' (those that can fly toward the
    volume; the rest never reach it), ``ratios`` (K, events) their replicas' importance weights, ``supported``
    whether each lies where the data have pairs (None: every one), ``seen_from`` the decay positions (z_lo, z_hi)
    of the A' ``inside`` from which their daughters reach the detector (:func:`daughter_window`; None: any)."""
    v = experiment.decay_volume
    n = inside.size
    a = np.where(inside, m / (np.where(inside, ev["pz"], 1.0) * ctau1), 0.0)
    decay = decay_probability(a[inside], eps, v.z_start, v.z_end)  # events outside the acceptance add 0
    prob = decay
    if seen_from is not None:  # decays where every daughter reaches the end inside the shape
        lo, hi = seen_from
        seen = lo < hi
        prob = np.zeros_like(decay)
        prob[seen] = decay_probability(a[inside][seen], eps, lo[seen, None], hi[seen, None])
    mean = prob.sum(axis=0) / n
    var = np.maximum(np.einsum("ij,ij->j", prob, prob) / n - mean**2, 0.0)
    replicas = None if ratios is None else share * (ratios[:, inside] @ prob) / n
    in_support = decay if supported is None else decay[supported[inside]]
    return _Means(share * mean, share * np.sqrt(var / n), share * decay.sum(axis=0) / n, replicas,
                  share * in_support.sum(axis=0) / n)


def replica_spread(replicas: np.ndarray | None, nominal: np.ndarray) -> np.ndarray:
    """Relative standard deviation over the replicas (K, eps) of a mean (eps); 0 without replicas."""
    if replicas is None or replicas.shape[0] < 2:
        return np.zeros_like(nominal)
    return np.asarray(np.divide(replicas.std(axis=0, ddof=1), nominal, out=np.zeros_like(nominal), where=nominal > 0))


def signal_grid(generator: Any, experiment: Experiment, masses: Any, eps: Any, n_events: int = 100_000,
                seed: int = 0, progress: bool = False) -> SignalGrid:
    """Expected A' signal events in ``experiment`` on the grid ``masses`` x ``eps`` (see the module docstring)."""
    masses = np.atleast_1d(np.asarray(masses, dtype=float))
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    if not (np.all(eps > 0) and np.all(np.isfinite(eps))):
        raise GammastarError("eps must be positive and finite")
    if n_events < 100:
        raise GammastarError(f"`n_events` must be at least 100, not {n_events}")
    check_generator(generator, experiment, "signal counts")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("n", "err", "p", "ctau", "mc", "alt", "kin", "cov")}
    failed: list[FailedMass] = []
    coverages: list[MassCoverage | None] = []
    entered: list[bool] = []  # whether any A' enters the volume, per mass (estimated)
    for i, m in enumerate(tqdm(masses, desc="signal", unit="mass", delay=1.0, disable=not progress)):
        try:
            y = generator.aprime_yield(float(m))
            n_v, n_v_err = float(y.n_per_eps2[0]), float(y.n_err[0])
            dec = aprime_decay([m])
            row, cov = _one_mass(generator, experiment, float(m), eps, n_events, seed + i, n_v, n_v_err, dec)
        except GammastarError as exc:  # outside the data, the model or the decay tables: the others go on
            failed.append(FailedMass.of(float(m), exc))
            for key in cols:
                cols[key].append(np.full(eps.size, np.nan))
            coverages.append(None)
            continue
        entered.append(bool(row.pop("entered")))
        for key, value in row.items():
            cols[key].append(value)
        coverages.append(cov)
    opened = [m for m, f in zip(masses, cols["n"], strict=True) if np.isfinite(f).all()]
    if opened and not np.any(aprime_decay(opened).br_visible(experiment.detection.final_states) > 0):
        raise GammastarError(f"none of the final states of {experiment.name} ({', '.join(experiment.detection.final_states)}) "
                             f"is open at these masses ({min(opened):g}-{max(opened):g} GeV): it accepts nothing there")
    if len(failed) < masses.size and not any(entered):
        w = experiment.decay_volume.shape.angular_window(experiment.decay_volume.z_end)
        raise GammastarError(f"no A' of the model reaches {experiment.name}'s decay volume at any of these masses: it "
                             f"subtends {1e3 * w.theta_min:.4g}-{1e3 * w.theta_max:.4g} mrad from the target (an empty "
                             "acceptance; is the geometry right?)")
    flat = {k: np.concatenate(v_) for k, v_ in cols.items()}
    return SignalGrid(np.repeat(masses, eps.size), np.tile(eps, masses.size), flat["n"], flat["err"], flat["p"],
                      flat["ctau"], flat["mc"], flat["alt"], experiment, eps.size, tuple(failed), flat["kin"],
                      int(generator.replicas), flat["cov"], tuple(coverages))


def _one_mass(generator: Any, experiment: Experiment, m: float, eps: np.ndarray, n_events: int, seed: int, n_v: float,
              n_v_err: float, dec: AprimeDecay) -> tuple[dict[str, np.ndarray], MassCoverage | None]:
    """The signal table's columns at one mass, and its coverage (None where the model records no support)."""
    v = experiment.decay_volume
    states, efficiency = experiment.detection.final_states, experiment.detection.efficiency
    window = v.shape.angular_window(v.z_end)
    support = getattr(generator, "support", None)
    # only A' that can fly toward the volume are drawn: every event counts, however small the volume looks
    share = generator.window_share(m, window)
    ratios, supported, seen_from = None, None, None
    if share > 0:
        daughters = experiment.detection.daughters_in_acceptance  # then every channel's own daughters
        p, h = generator.aprime_pairs(m, n_events, np.random.default_rng([seed, 43]), seed, window, polarisation=daughters)
        inside = v.shape.crossed_at(v.z_end, p[:, :3])
        if daughters:
            assert h is not None
            if dec.br_visible(states)[0] > 0:
                d = decay_mixture(p[inside], h[inside], channel_shares(m, states), np.random.default_rng([seed, 47]),
                                  generator.beam)
                seen_from = daughter_window(p[inside], d.p4, v, d.present)
            else:  # nothing to see: no daughters to follow
                seen_from = np.full(int(inside.sum()), np.inf), np.full(int(inside.sum()), -np.inf)
        ratios = generator.replica_ratios(p, m)
        if support is not None:
            supported = support.contains(m, np.hypot(p[:, 0], p[:, 1]), _rapidity(p))
    else:  # no pair of the table can reach it
        p, inside = np.zeros((n_events, 4)), np.zeros(n_events, dtype=bool)
    ev = {"pz": p[:, 2]}
    ctau1 = float(dec.ctau_m_eps1[0])
    means = _mean_decay_probability(ev, inside, m, ctau1, eps, experiment, share, ratios, supported, seen_from)
    scale = experiment.n_collisions * eps**2 * n_v * dec.br_visible(states)[0] * efficiency
    n_sig = scale * means.p
    kin = replica_spread(means.replicas, means.p)
    row = {"n": n_sig, "err": n_sig * np.hypot(n_v_err / n_v if n_v > 0 else np.inf, kin), "kin": n_sig * kin,
           "mc": scale * means.mc_err, "p": means.p_decay, "ctau": ctau1 / eps**2, "alt": np.full(eps.size, np.nan),
           "cov": np.full(eps.size, np.nan), "entered": np.array(bool(inside.any()))}
    alt = _other_table(m, dec.table[0])
    if alt is not None:
        br_alt = alt.br_visible(states)[0] * efficiency
        row["alt"] = experiment.n_collisions * eps**2 * n_v * br_alt * _mean_decay_probability(
            ev, inside, m, float(alt.ctau_m_eps1[0]), eps, experiment, share, seen_from=seen_from).p
    cov = None
    if support is not None:
        ref = reference_toward(m, generator.beam, window, max(_REFERENCE_EVENTS, n_events // 5),
                               np.random.default_rng([seed, 31]), support)
        accepted = np.zeros((ref.p4.shape[0], eps.size))
        if ref.p4.shape[0]:
            hit = v.shape.crossed_at(v.z_end, ref.p4[:, :3])
            accepted[hit] = decay_probability(m / (ref.p4[hit, 2] * ctau1), eps, v.z_start, v.z_end)
        cov = mass_coverage(generator, m, means.p_decay_supported, ref, accepted, support)
        row["cov"] = cov.per_eps
    return row, cov


def _rapidity(p4: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * np.log((p4[:, 3] + p4[:, 2]) / (p4[:, 3] - p4[:, 2])))


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
        raise GammastarError(f"cannot parse `eps` {spec!r}: use LO:HI:N (N log-spaced points) or a comma list") from None
    if ":" in text:
        if len(parts) != 3:
            raise GammastarError(f"`eps` {spec!r}: use LO:HI:N (N log-spaced points)")
        lo, hi, n = parts
        if not (0 < lo < hi < 1 and np.isfinite(hi) and n == int(n) and 2 <= n <= 10_000):
            raise GammastarError(f"`eps` {spec!r}: need 0 < LO < HI < 1 and a whole N from 2 to 10000")
        return np.geomspace(lo, hi, int(n))
    values = np.sort(np.array(parts))
    if values.size == 0 or not np.all((values > 0) & (values < 1)):
        raise GammastarError(f"`eps` {spec!r}: couplings must be in (0, 1)")
    return values

