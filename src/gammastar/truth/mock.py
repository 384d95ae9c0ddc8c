"""The built-in NA60-like p-A cocktail as a dilepton sample, with its truth record.

:func:`generate_mock` draws the pairs of every selected source
(:mod:`.cocktail`) with the kinematics of :mod:`.production`, boosts them to
the lab, and returns them as an :class:`~gammastar.samples.EventSample` that
stands for ``n_events / (pairs per collision)`` collisions, with a source id
per pair and the truth: multiplicities, branching ratios, pairs per
collision, and the direct A' and mCP yields (docs/physics.md section 3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..io.atomic import atomic_path
from ..io.jsontext import dumps
from ..io.pairs import BEAM_ENERGY_KEY, TRUTH_KEY, write_dileptons
from ..io.subtract import GAMMA_STAR_ONLY_KEY
from ..physics.beams import Beam
from ..physics.formulas import sqrt_s_fixed_target, y_beam
from ..physics.kinematics import boost_z
from ..samples import EventSample, check_lepton
from .cocktail import SOURCES, MockConfig, check_config, cocktail_sources, dilepton_yield
from .production import generate_source
from .sources import yield_truth

__all__ = ["generate_mock", "truth_record", "save_mock"]


def truth_record(cfg: MockConfig, counts: dict[str, int], n_collisions: float) -> dict[str, Any]:
    """The mock's truth: multiplicities, BRs and the direct A' and mCP yields."""
    pairs = dilepton_yield(cfg.lepton, cfg.sources)
    sources = cocktail_sources()
    return {
        "generator": "gammastar.mock",
        "seed": cfg.seed,
        "lepton": cfg.lepton,
        "beam_energy": cfg.beam_energy,
        "sqrt_s": float(sqrt_s_fixed_target(cfg.beam_energy)),
        "y_cm": float(y_beam(cfg.beam_energy) / 2.0),
        "temperature": cfg.temperature,
        "sigma_y": cfg.sigma_y,
        "n_events": cfg.n_events,
        "n_collisions": n_collisions,
        "sources": {
            s: {
                "kind": sources[s].kind,
                **({"multiplicity": sources[s].multiplicity, "br_ll": pairs[s] / sources[s].multiplicity}
                   if s != "continuum" else
                   {"multiplicity": None, "br_ll": None,
                    "note": "a smooth gamma* continuum: no parent meson, hence no multiplicity or branching ratio"}),
                "pairs_per_collision": pairs[s],
                "n_generated": counts[s],
                "source_id": SOURCES.index(s),
            }
            for s in cfg.sources
        },
        **yield_truth({s: sources[s] for s in cfg.sources}, cfg.lepton),
    }


def generate_mock(cfg: MockConfig, progress: bool = True) -> tuple[EventSample, np.ndarray, dict[str, Any]]:
    """Generate the cocktail: returns (EventSample, source_id array, truth dict).

    The same ``cfg`` (including the seed) gives the same events.
    """
    cfg = check_config(cfg)
    sources = cfg.sources
    pairs = dilepton_yield(cfg.lepton, sources)
    total = sum(pairs.values())
    rng = np.random.default_rng(cfg.seed)
    n_by = rng.multinomial(cfg.n_events, [pairs[s] / total for s in sources])
    counts = dict(zip(sources, (int(c) for c in n_by), strict=True))
    n_collisions = cfg.n_events / total

    pos = np.empty((cfg.n_events, 4))
    neg = np.empty((cfg.n_events, 4))
    sid = np.empty(cfg.n_events, dtype=np.int8)
    y_cm = float(y_beam(cfg.beam_energy) / 2.0)
    chunk = 500_000
    start = 0
    with tqdm(total=cfg.n_events, desc="mock", unit="pair", delay=1.0, disable=not progress) as bar:
        for s in sources:
            for j, c0 in enumerate(range(0, counts[s], chunk)):
                n = min(chunk, counts[s] - c0)
                sub = np.random.default_rng([cfg.seed, SOURCES.index(s), j])
                lp, lm = generate_source(cocktail_sources()[s], n, cfg, sub)
                pos[start : start + n] = boost_z(lp, y_cm)
                neg[start : start + n] = boost_z(lm, y_cm)
                sid[start : start + n] = SOURCES.index(s)
                start += n
                bar.update(n)
    order = rng.permutation(cfg.n_events)
    pos, neg, sid = pos[order], neg[order], sid[order]
    truth = truth_record(cfg, counts, n_collisions)
    data = EventSample(pos, neg, np.ones(cfg.n_events), check_lepton(cfg.lepton), n_collisions, "gammastar mock",
                       {TRUTH_KEY: dumps(truth, indent=None), BEAM_ENERGY_KEY: repr(cfg.beam_energy),
                        GAMMA_STAR_ONLY_KEY: "true"},
                       Beam.fixed_target(cfg.beam_energy))
    return data, sid, truth


def save_mock(path: str | Path, data: EventSample, sid: np.ndarray, truth: dict[str, Any],
              truth_path: str | Path | None = None) -> tuple[Path, Path]:
    """Write a generated sample (with its ``source_id`` column) and its truth as JSON (default ``PATH.truth.json``).

    Both or neither: the truth is written first (to its temporary file) and put in place only once the
    sample file is complete.
    """
    path = Path(path)
    truth_path = path.with_name(path.name + ".truth.json") if truth_path is None else Path(truth_path)
    with atomic_path(truth_path) as tmp:
        tmp.write_text(dumps(truth))
        write_dileptons(path, data, {"source_id": sid})
    return path, truth_path
