"""Events for a detector simulation: A' decaying inside an experiment's volume, chi crossing its mCP detector.

A' (``gammastar generate aprime --experiment``)
-----------------------------------------------
Every event is an A' whose straight line from the target crosses the decay
volume's end plane inside its shape (with ``daughters_in_acceptance``: and
from some point of which every daughter reaches it, see below).  It decays
along its own line of flight at a point drawn from the exponential decay law
truncated to the volume,

    F(z) = (1 - exp(-(z - z_lo)/l_z)) / (1 - exp(-(z_hi - z_lo)/l_z)),   l_z = (p_z/m) c tau(m, eps),

[z_lo, z_hi] = [z_start, z_end], or with ``daughters_in_acceptance`` the
decay positions from which every daughter crosses z_end inside the shape
(one interval, :func:`~.signal.daughter_window`); the point is
(p_x, p_y) z/p_z at time t = z E/(p_z c).  The decay channel is drawn among
the experiment's final states with its share of their branching ratio, the
daughters' angles from the A' polarisation H the model carries
(:mod:`gammastar.physics.channels`).

Each event's weight is its expected number of signal events in the run::

    w = n_collisions eps^2 N_V(m) x s f / n x P(decay in [z_lo, z_hi]) x B x efficiency,

with s the share of the A' the draws come from (those flying toward the
volume, as ``reach`` draws them), f the share of the draws that are kept,
n the number of events, and B the branching ratio of the channels generated
(drawn with probabilities BR_c / B, so B times a channel's indicator is BR_c
on average).  f is measured once, on a pilot sample of :data:`PILOT` draws
with a seed of its own, and is the same for every chunk: chunks stay
independent, in any order, on any worker.  The weights then add up to
``reach aprime``'s n_signal at the same mass and coupling (the same formula
with the mean over events), times B / BR(visible): hadronic decays the
table does not split into channels (4 pi, eta gamma, ... above ~1 GeV) are
not generated, and said so (``br_untabulated``).

chi (``gammastar generate mcp --experiment``)
---------------------------------------------
Every event is a chi-chibar pair of which at least one crosses the mCP
detector's plane inside its shape; its crossing points are columns
(``x_pos_m, y_pos_m, x_neg_m, y_neg_m``, NaN for a chi that misses), its
weight the expected number of detected chi in the run,
n_collisions x (the pair's share of the yield) x f x (a_chi P_chi +
a_chibar P_chibar), as ``reach mcp`` counts them (signed where the data's
weights are).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .. import __version__
from ..errors import GammastarError
from ..flow.generate import check_request
from ..io.events.base import C_M_PER_NS, Chunk, EventInfo, EventStream, concat_chunks, p4_columns
from ..io.events.base import p4 as momenta
from ..physics.channels import CHANNELS, MAX_DAUGHTERS, ChannelShares, channel_shares, decay_mixture
from ..physics.decays import aprime_decay, decay_positions
from ..physics.kinematics import AngularWindow
from ..spectrum.mcp import covered_from
from .experiment import Experiment
from .mcp import detected_chi, pair_yield_rel_err
from .signal import check_generator, daughter_window, decay_probability

__all__ = ["APRIME_DETECTOR_COLUMNS", "MCP_DETECTOR_COLUMNS", "PILOT", "aprime_detector_events",
           "aprime_detector_tasks", "aprime_at_detector", "mcp_detector_events", "mcp_detector_tasks", "mcp_at_detector"]

#: draws of the pilot sample that measures the share of draws kept
PILOT = 200_000
#: a decay probability below which no A' counts as reaching the volume (at the most boosted A' of the pilot)
NEGLIGIBLE = 1e-20
#: events a chunk holds at most (and a shard of a distributed run)
CHUNK = 262_144
#: the pilot's random stream, apart from the chunks' (seed, j, ...)
_PILOT_STREAM = 0x9E3779B9
#: draws a chunk makes at once: its memory, whatever the chunk's size.  Small enough that the decays' working arrays
#: stay near a core's cache (one thread: 32768 took 20% less CPU an event than 131072), large enough that the two
#: making threads seldom wait for each other's numpy calls to hand the GIL over (end to end, 5e6 events at
#: 0.78 GeV, four runs each: 65536 3.27-3.55 s, 32768 3.46-3.64 s, 131072 3.38-3.74 s)
BATCH = 65_536
_DAUGHTER = ("pid", "px", "py", "pz", "e")
APRIME_DETECTOR_COLUMNS = ("px", "py", "pz", "e", "vx_m", "vy_m", "vz_m", "vt_ns", "channel",
                           *(f"{c}_d{k}" for k in range(1, MAX_DAUGHTERS + 1) for c in _DAUGHTER), "weight")
MCP_DETECTOR_COLUMNS = ("px_pos", "py_pos", "pz_pos", "e_pos", "px_neg", "py_neg", "pz_neg", "e_neg",
                        "x_pos_m", "y_pos_m", "x_neg_m", "y_neg_m", "weight")


@dataclass(frozen=True)
class _AprimePlan:
    """What every chunk of a run needs, fixed before the first: the request, the channels, the pilot's share."""

    m: float
    eps: float
    experiment: Experiment
    window: AngularWindow
    shares: ChannelShares
    ctau: float  # c tau at eps, m
    #: weight of an event before its decay probability: n_coll eps^2 N_V s f B efficiency / n (per event, n = 1)
    scale: float
    kept: float  # f: the share of draws kept


def _draw_aprime(gen: Any, plan: _AprimePlan, n_draw: int, rng: np.random.Generator, seed: int,
                 pilot: bool = False) -> Chunk:
    """Of ``n_draw`` A' drawn toward the volume, those kept: columns without ``weight`` but with ``p_decay`` (for the
    ``pilot``, only the A' and ``p_decay``: the decays are drawn only where they decide which A' are kept)."""
    v = plan.experiment.decay_volume
    daughters = plan.experiment.detection.daughters_in_acceptance
    p4, h = gen.aprime_pairs(plan.m, n_draw, rng, seed, plan.window,
                             keep=lambda p: v.shape.crossed_at(v.z_end, p[:, :3]),
                             polarisation=daughters or not pilot)
    lo, hi = np.full(len(p4), v.z_start), np.full(len(p4), v.z_end)
    if pilot and not daughters:
        a = plan.m / (p4[:, 2] * plan.ctau)
        return {"pz": p4[:, 2], "p_decay": decay_probability(a, np.ones(1), lo[:, None], hi[:, None])[:, 0]}
    assert h is not None
    d = decay_mixture(p4, h, plan.shares, rng, gen.beam)
    if daughters:
        lo, hi = daughter_window(p4, d.p4, v, d.present)
        seen = lo < hi
        p4, lo, hi = p4[seen], lo[seen], hi[seen]
        d = type(d)([x.T[:, seen].T for x in d.p4], d.pid[seen], d.channel[seen])  # still contiguous per column
    a = plan.m / (p4[:, 2] * plan.ctau)  # 1 / l_z at this eps
    z = decay_positions(1.0 / a, lo, hi, rng.random(len(p4)))
    out = p4_columns(p4)
    slope = z / p4[:, 2]
    out.update(vx_m=p4[:, 0] * slope, vy_m=p4[:, 1] * slope, vz_m=z, vt_ns=p4[:, 3] * slope / C_M_PER_NS,
               channel=d.channel)
    for k in range(MAX_DAUGHTERS):
        out[f"pid_d{k + 1}"] = np.ascontiguousarray(d.pid[:, k])
        for i, c in enumerate(_DAUGHTER[1:]):
            out[f"{c}_d{k + 1}"] = d.p4[k].T[i]  # a contiguous row of the slot's (4, N) storage
    out["p_decay"] = decay_probability(a, np.ones(1), lo[:, None], hi[:, None])[:, 0]
    return out


def _aprime_plan(gen: Any, experiment: Experiment, m: float, eps: float, seed: int
                 ) -> tuple[_AprimePlan, dict[str, Any]]:
    """The plan of a run at (``m``, ``eps``), with its pilot sample's summary (for the metadata)."""
    check_generator(gen, experiment, "events per run")
    y = gen.aprime_yield(m)
    n_v, n_v_err = float(y.n_per_eps2[0]), float(y.n_err[0])
    dec = aprime_decay([m])
    states = experiment.detection.final_states
    shares = channel_shares(m, states)
    v = experiment.decay_volume
    window = v.shape.angular_window(v.z_end)
    share = gen.window_share(m, window)
    if not share > 0:
        raise GammastarError(f"no A' of mass {m:.4g} GeV reaches {experiment.name}'s decay volume (it subtends "
                             f"{1e3 * window.theta_min:.4g}-{1e3 * window.theta_max:.4g} mrad from the target)")
    ctau = float(dec.ctau_m_eps1[0]) / eps**2
    plan = _AprimePlan(m, eps, experiment, window, shares, ctau, 0.0, 1.0)
    pilot = _draw_aprime(gen, plan, PILOT, np.random.default_rng([seed, _PILOT_STREAM]), _PILOT_STREAM + seed, pilot=True)
    kept = len(pilot["pz"]) / PILOT
    if kept == 0:
        raise GammastarError(f"none of {PILOT} A' of mass {m:.4g} GeV drawn toward {experiment.name}'s decay volume "
                             "enters it" + (" with daughters that can reach its end" if
                                            experiment.detection.daughters_in_acceptance else "")
                             + ": an acceptance too small to generate in")
    b = float(shares.br.sum())
    scale = experiment.n_collisions * eps**2 * n_v * share * kept * b * experiment.detection.efficiency
    p = pilot["p_decay"]
    if not p.max() > NEGLIGIBLE:
        # P <= exp(-z_start m/(p_z c tau)): the most boosted A' of the pilot decides which eps can reach the volume
        a_min = m / (float(pilot["pz"].max()) * float(dec.ctau_m_eps1[0]))
        top = math.sqrt(-math.log(NEGLIGIBLE) / (a_min * max(v.z_start, 1e-300)))
        raise GammastarError(f"at eps = {eps:g} no A' of mass {m:.4g} GeV reaches {experiment.name}'s volume before "
                             f"decaying (P < {NEGLIGIBLE:g}): the longest decay length among them is "
                             f"{1.0 / (a_min * eps**2):.3g} m and the volume starts at z = {v.z_start:g} m; eps below "
                             f"{top:.3g} can")
    n_signal = scale * float(p.mean())
    # the pilot's Monte Carlo error: of the mean P over the A' kept, and of the share kept (binomial)
    mc_err = n_signal * math.hypot(float(p.std()) / float(p.mean()) / math.sqrt(len(p)), math.sqrt((1 - kept) / len(p)))
    summary = {"n_signal": n_signal, "max_p_decay": float(p.max()), "n_signal_mc_err": mc_err,
               "n_signal_yield_err": n_signal * n_v_err / n_v if n_v > 0 else math.inf,
               "br_visible": shares.br_visible, "br_generated": b, "br_untabulated": shares.untabulated,
               "kept_share": kept, "window_share": share, "ctau_m": ctau,
               "channels": {c.name: float(f) for c, f in zip(shares.channels, shares.probabilities, strict=True)},
               "scale": scale}
    return _AprimePlan(m, eps, experiment, window, shares, ctau, scale, kept), summary


def _fill(k: int, kept: float, most: int, draw: Callable[[int, int], Chunk]) -> Chunk:
    """``k`` kept events from ``draw(size, attempt)`` (the events kept of ``size`` drawn, as columns), asked for in
    draws of at most ``most`` at the share ``kept``: the chunk's columns filled batch by batch."""
    out: Chunk = {}
    have, attempt = 0, 0
    while have < k:
        part = draw(min(int((k - have) / kept * 1.05) + 64, most), attempt)
        if not out:
            out = {c: np.empty(k, dtype=v.dtype) for c, v in part.items()}
        take = min(len(next(iter(part.values()))), k - have)
        for c, v in part.items():
            out[c][have : have + take] = v[:take]
        have += take
        attempt += 1
    return out


def _chunk_seed(seed: int, j: int, attempt: int) -> int:
    return int(np.random.SeedSequence([seed, j, attempt]).generate_state(1)[0])


def _aprime_chunk(gen: Any, plan: _AprimePlan, k: int, n: int, seed: int, j: int) -> Chunk:
    """Chunk ``j``: ``k`` kept A' events, each of weight scale x P / n."""
    rng = np.random.default_rng([seed, j, 21])
    out = _fill(k, plan.kept, BATCH, lambda size, attempt: _draw_aprime(gen, plan, size, rng, _chunk_seed(seed, j, attempt)))
    out["weight"] = out.pop("p_decay") * (plan.scale / n)
    return {c: out[c] for c in APRIME_DETECTOR_COLUMNS}


def aprime_detector_tasks(gen: Any, experiment: Experiment, m_aprime: float, n: int, eps: float, seed: int = 0,
                          chunk: int = CHUNK) -> tuple[list[Callable[[], Chunk]], dict[str, Any]]:
    """The chunks of an A' detector-level run as independent tasks, and the run's summary (pilot estimates)."""
    _check_request(n, eps, chunk)
    plan, summary = _aprime_plan(gen, experiment, float(m_aprime), float(eps), seed)
    tasks: list[Callable[[], Chunk]] = [partial(_aprime_chunk, gen, plan, min(chunk, n - start), n, seed, j)
                                        for j, start in enumerate(range(0, n, chunk))]
    return tasks, summary


def aprime_detector_events(gen: Any, experiment: Experiment, m_aprime: float, n: int, eps: float, seed: int = 0
                           ) -> EventStream:
    """``n`` A' events decaying in ``experiment``'s volume, for :func:`~gammastar.io.events.write_events`: columns
    :data:`APRIME_DETECTOR_COLUMNS` (the A', its decay point, its channel and up to three daughters), weights the
    expected signal events each stands for (see the module docstring)."""
    tasks, summary = aprime_detector_tasks(gen, experiment, m_aprime, n, eps, seed)
    meta: dict[str, Any] = {
        "kind": "aprime", "mass": float(m_aprime), "eps": float(eps), "seed": seed, "n_events": n,
        "experiment": experiment.name, "experiment_source": experiment.origin, "n_collisions": experiment.n_collisions,
        "final_states": list(experiment.detection.final_states),
        "expected_signal": summary["n_signal"], "expected_signal_err": math.hypot(summary["n_signal_mc_err"],
                                                                                 summary["n_signal_yield_err"]),
        **{k: v for k, v in summary.items() if k not in ("n_signal", "max_p_decay", "scale")},
        # the sum of the weights (as the other event files call it; LHE's XSECUP) and the largest weight seen
        "expected_yield": summary["n_signal"], "max_abs_weight": summary["max_p_decay"] * summary["scale"] / n,
        "expected_yield_err": math.hypot(summary["n_signal_mc_err"], summary["n_signal_yield_err"]),
        "channel_codes": [c.name for c in CHANNELS], "beam": gen.beam.to_text(),
        "normalization": "per_run", "model": gen.source, "version": __version__}
    info = EventInfo("aprime", float(m_aprime), gen.model.lepton, gen.beam)
    return EventStream(info, n, (t() for t in tasks), meta, tasks)


def aprime_at_detector(gen: Any, experiment: Experiment, m_aprime: float, n: int, eps: float, seed: int = 0
                       ) -> dict[str, np.ndarray]:
    """``n`` A' detector-level events at once (see :func:`aprime_detector_events`)."""
    tasks, _ = aprime_detector_tasks(gen, experiment, m_aprime, n, eps, seed)
    return concat_chunks(t() for t in tasks)


# ---------------------------------------------------------------------------------------------------------- mCP


@dataclass(frozen=True)
class _McpPlan:
    m_chi: float
    spin: str
    eps: float
    experiment: Experiment
    scale: float  # n_coll x |weight| per drawn pair x f x n: an event's weight is scale x sign x D / n
    kept: float


def _draw_mcp(gen: Any, plan: _McpPlan, n_draw: int, seed: int) -> Chunk:
    """Of ``n_draw`` chi-chibar pairs, those with a chi crossing the detector: columns without ``weight``, with the
    pair's sign and ``detected`` (a_chi P_chi + a_chibar P_chibar)."""
    det = plan.experiment.mcp_detector
    assert det is not None
    ev = gen.mcp(plan.m_chi, n_draw, spin=plan.spin, eps=plan.eps, seed=seed)
    detected, hits = detected_chi(det, [momenta(ev, "_pos"), momenta(ev, "_neg")], plan.m_chi, np.array([plan.eps]))
    keep = hits.any(axis=0)
    out = {c: ev[c][keep] for c in MCP_DETECTOR_COLUMNS[:8]}
    for leg, hit in zip(("pos", "neg"), hits, strict=True):
        slope = np.where(hit[keep], det.z / out[f"pz_{leg}"], np.nan)
        out[f"x_{leg}_m"], out[f"y_{leg}_m"] = out[f"px_{leg}"] * slope, out[f"py_{leg}"] * slope
    out["sign"] = np.sign(ev["weight"][keep])
    out["detected"] = detected[keep, 0]
    return out


def _mcp_plan(gen: Any, experiment: Experiment, m_chi: float, spin: str, eps: float, seed: int
              ) -> tuple[_McpPlan, dict[str, Any]]:
    check_generator(gen, experiment, "events per run")
    det = experiment.mcp_detector
    if det is None:
        raise GammastarError(f"experiment {experiment.origin or experiment.name} has no [mcp_detector] table")
    plan = _McpPlan(m_chi, spin, eps, experiment, 0.0, 1.0)
    pilot = _draw_mcp(gen, plan, PILOT, _chunk_seed(seed, _PILOT_STREAM, 0))
    kept = len(pilot["sign"]) / PILOT
    if kept == 0:
        raise GammastarError(f"none of {PILOT} chi-chibar pairs of m_chi = {m_chi:.4g} GeV crosses {experiment.name}'s "
                             f"mCP detector (z = {det.z:g} m, {det.shape.describe()}): an acceptance too small to "
                             "generate in")
    w_abs = gen.mcp_abs_weight(m_chi, spin) * eps**2  # |weight| per pair times the pairs drawn
    scale = experiment.n_collisions * w_abs * kept
    d = pilot["sign"] * pilot["detected"]
    n_signal = scale * float(d.mean())
    # the pilot's Monte Carlo error: of the mean over the pairs kept, and of the share kept (binomial)
    mc_err = math.hypot(scale * float(d.std()) / math.sqrt(len(d)), abs(n_signal) * math.sqrt((1 - kept) / len(d)))
    summary = {"n_signal": n_signal, "n_signal_mc_err": mc_err,
               "n_signal_yield_err": abs(n_signal) * pair_yield_rel_err(gen, m_chi, spin),
               "kept_share": kept, "max_detected": float(np.abs(d).max()), "scale": scale}
    return _McpPlan(m_chi, spin, eps, experiment, scale, kept), summary


def _mcp_chunk(gen: Any, plan: _McpPlan, k: int, n: int, seed: int, j: int) -> Chunk:
    """Chunk ``j``: ``k`` pairs with a chi crossing the detector, each of weight scale x sign x detected / n."""
    out = _fill(k, plan.kept, 2 * BATCH, lambda size, attempt: _draw_mcp(gen, plan, size, _chunk_seed(seed, j, attempt)))
    out["weight"] = out.pop("sign") * out.pop("detected") * (plan.scale / n)
    return {c: out[c] for c in MCP_DETECTOR_COLUMNS}


def mcp_detector_tasks(gen: Any, experiment: Experiment, m_chi: float, n: int, spin: str, eps: float, seed: int = 0,
                       chunk: int = CHUNK) -> tuple[list[Callable[[], Chunk]], dict[str, Any]]:
    """The chunks of an mCP detector-level run as independent tasks, and the run's summary (pilot estimates)."""
    _check_request(n, eps, chunk)
    plan, summary = _mcp_plan(gen, experiment, float(m_chi), spin, float(eps), seed)
    tasks: list[Callable[[], Chunk]] = [partial(_mcp_chunk, gen, plan, min(chunk, n - start), n, seed, j)
                                        for j, start in enumerate(range(0, n, chunk))]
    return tasks, summary


def mcp_detector_events(gen: Any, experiment: Experiment, m_chi: float, n: int, spin: str, eps: float, seed: int = 0
                        ) -> EventStream:
    """``n`` chi-chibar pairs with a chi crossing ``experiment``'s mCP detector (columns :data:`MCP_DETECTOR_COLUMNS`),
    weights the expected detected chi each stands for."""
    tasks, summary = mcp_detector_tasks(gen, experiment, m_chi, n, spin, eps, seed)
    meta: dict[str, Any] = {
        "kind": "mcp", "m_chi": float(m_chi), "spin": spin, "eps": float(eps), "seed": seed, "n_events": n,
        "experiment": experiment.name, "experiment_source": experiment.origin, "n_collisions": experiment.n_collisions,
        "expected_signal": summary["n_signal"],
        "expected_signal_err": math.hypot(summary["n_signal_mc_err"], summary["n_signal_yield_err"]),
        **{k: v for k, v in summary.items() if k not in ("n_signal", "max_detected", "scale")},
        "expected_yield": summary["n_signal"], "max_abs_weight": summary["max_detected"] * summary["scale"] / n,
        "expected_yield_err": math.hypot(summary["n_signal_mc_err"], summary["n_signal_yield_err"]),
        "incomplete": gen.mcp_incomplete(m_chi), "covered_from": covered_from(gen.model.spectrum.m_min, gen.m_lepton),
        "beam": gen.beam.to_text(), "normalization": "per_run",
        "model": gen.source, "version": __version__}
    info = EventInfo("mcp", float(m_chi), gen.model.lepton, gen.beam)
    return EventStream(info, n, (t() for t in tasks), meta, tasks)


def mcp_at_detector(gen: Any, experiment: Experiment, m_chi: float, n: int, spin: str, eps: float, seed: int = 0
                    ) -> dict[str, np.ndarray]:
    """``n`` mCP detector-level events at once (see :func:`mcp_detector_events`)."""
    tasks, _ = mcp_detector_tasks(gen, experiment, m_chi, n, spin, eps, seed)
    return concat_chunks(t() for t in tasks)


# ---------------------------------------------------------------------------------------------------------- shared


def _check_request(n: int, eps: float, chunk: int) -> None:
    """A request for events in an experiment: eps is a coupling or charge in (0, 1], the rest as any generation."""
    if not (math.isfinite(eps) and 0 < eps <= 1):
        raise GammastarError(f"eps must be in (0, 1], not {eps}")
    check_request(n, eps, chunk)
