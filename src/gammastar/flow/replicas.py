"""Replicas: the flow refitted to resampled data, for the uncertainty the finite data leave on any acceptance.

A signal count is the A' yield times the share of A' that the detector sees.
The yield's statistical error comes from the spectrum estimator; the share's
comes from the flow, which learned the kinematics from a finite number of
pairs, and it can dominate where a detector sees a thin slice of phase
space (a far-forward detector sees 1e-4 of the A', whose kinematics rest on
a few hundred pairs).  It is estimated by the bootstrap: each replica r is a
new flow fitted, with its own seed, to the data with every pair's weight
multiplied by an independent Poisson(1) number (the resampling of a Poisson
process, which keeps signed and acceptance-corrected weights meaningful).
The spread of a quantity over the replicas is its uncertainty from the data
and from the fit itself (initialisation, mini-batches, early stopping).

Each replica is kept as its pair density on the model's own table (the same
mass nodes and cells, :class:`~.density.ReplicaTables`): an acceptance is
then evaluated for every replica on the model's own events, weighted by
p_r / p, so that the replicas differ by their densities alone and not by
Monte Carlo noise.

Replicas are fitted in parallel, one per worker process of a local Dask
cluster (one torch thread each), as many at a time as there are cores;
every replica is fitted with one thread wherever it runs, so the result does
not depend on the number of workers.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ..cluster import cluster
from ..errors import GammastarError
from .density import PairDensity, ReplicaTables
from .fit import TrainingPairs, fit_flow
from .model import TrainedModel
from .networks import FlowConfig, KinematicsFlow

__all__ = ["fit_replicas", "replica_seed"]


def replica_seed(seed: int, r: int) -> int:
    """The fit seed of replica ``r`` of a model trained with ``seed`` (its resampling is seeded by (seed, r))."""
    return int(seed) * 1_000 + 7_919 * (r + 1)


def _fit_one(config: FlowConfig, pair_features: list[str], norm: dict[str, Any], pairs: TrainingPairs,
             table: PairDensity, r: int) -> tuple[np.ndarray, dict[str, float]]:
    """Replica ``r``: resample, fit, tabulate on ``table``'s nodes and cells."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same arithmetic in a worker and here: the result does not depend on --workers
    try:
        counts = np.random.default_rng([int(config.seed), r, 2020]).poisson(1.0, pairs.w.size)
        cfg = dataclasses.replace(config, seed=replica_seed(config.seed, r))
        flow = KinematicsFlow(cfg, pair_features, norm)  # the model's standardisation: its table's coordinates
        fit = fit_flow(flow, pairs.reweighted(counts))
        prob = table.probabilities_of(lambda z, m: flow.log_prob_pair(z, flow.mass_context(m)))
    finally:
        torch.set_num_threads(threads)
    return prob, {"seed": float(cfg.seed), "epochs": float(len(fit.history)), "best_val_loss": fit.best_val_loss}


def fit_replicas(model: TrainedModel, pairs: TrainingPairs, count: int, workers: int | None = None,
                 progress: bool = True) -> ReplicaTables:
    """``count`` replicas of ``model`` fitted to bootstrap resamples of ``pairs`` (its training pairs).

    ``workers``: processes fitting at once (default: one per core, at most
    ``count``); 1 fits them here, one after the other.
    """
    from tqdm import tqdm

    if count < 1:
        raise GammastarError(f"the number of replicas must be at least 1, not {count}")
    if not model.tabulates_pairs:
        raise GammastarError("replicas need a model whose pair azimuth is uniform (tabulated): this one models it")
    table = model.pair_density()
    flow = model.flow
    norm = {k: v.tolist() for k, v in flow.norm.items()}
    workers = min(count, workers or os.cpu_count() or 1)
    if workers < 1:
        raise GammastarError(f"workers must be at least 1, not {workers}")
    results: dict[int, tuple[np.ndarray, dict[str, float]]] = {}
    with tqdm(total=count, desc="replicas", unit="fit", disable=not progress) as bar:
        if workers == 1:
            for r in range(count):
                results[r] = _fit_one(flow.config, flow.pair_features, norm, pairs, table, r)
                bar.update(1)
        else:
            from distributed import as_completed

            with cluster(workers=workers, torch_work=True) as client:
                shared = client.scatter([pairs, table], broadcast=True)
                futures = {client.submit(_fit_one, flow.config, flow.pair_features, norm, shared[0], shared[1], r,
                                         pure=False): r for r in range(count)}
                for fut in as_completed(futures):
                    results[futures[fut]] = fut.result()
                    bar.update(1)
    return ReplicaTables(np.stack([results[r][0] for r in range(count)]), [results[r][1] for r in range(count)])
