"""The weighted maximum-likelihood fit of the flow, shared by a model and its replicas.

The loss is the weighted negative log-likelihood
``-sum_i w_i log q(x_i | c_i) / sum_i w_i`` of the pair kinematics and the
decay angles together.  Its minimiser is the flow closest (in KL divergence)
to the weighted density, which with signed weights (background subtraction)
is the subtracted density, as long as that is non-negative; each mini-batch
uses the training set's mean weight as normaliser, so batches with a net
negative weight still give unbiased gradients.  90/10 train/validation split,
Adam with the learning rate halved when the validation loss stalls, early
stopping keeping the best epoch; a fixed seed gives identical weights.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GammastarError
from ..physics.angular import direction
from ..rates.support import Support
from ..samples import EventSample
from .features import pair_variables, pt_scale, raw_pair_features
from .networks import FlowConfig, KinematicsFlow, angular_log_prob, h_from_raw

if TYPE_CHECKING:
    import torch

__all__ = ["TrainingPairs", "FitResult", "training_pairs", "new_flow", "fit_flow"]


@dataclass(frozen=True)
class TrainingPairs:
    """The pairs a flow is fitted to: their variables (:func:`~.features.pair_variables`), weights, lepton mass, and
    whether each was measured (False: its acceptance was below an acceptance map's floor; None: no map)."""

    v: dict[str, np.ndarray]
    w: np.ndarray
    m_lepton: float
    measured: np.ndarray | None = None

    def support(self) -> Support:
        """Where these pairs are (:mod:`gammastar.rates.support`)."""
        return Support.from_pairs(self.v["m"], self.v["pt"], self.v["y"], self.w, self.measured)

    def reweighted(self, factor: np.ndarray) -> TrainingPairs:
        """The pairs with weights times ``factor``, those with factor 0 left out (a resampled sample)."""
        keep = factor != 0
        return TrainingPairs({k: x[keep] for k, x in self.v.items()}, self.w[keep] * factor[keep], self.m_lepton,
                             None if self.measured is None else self.measured[keep])


@dataclass(frozen=True)
class FitResult:
    """What a fit ran: epochs (with losses), the best validation loss, training and validation pairs."""

    history: list[dict[str, Any]]
    best_val_loss: float
    n_train: int
    n_val: int


def training_pairs(data: EventSample, config: FlowConfig) -> TrainingPairs:
    """The pairs' variables and weights outside the held-out mass window."""
    v = pair_variables(data, config.beam)
    w = data.weight
    keep = np.ones(len(w), dtype=bool)
    if config.holdout_mass is not None:
        lo, hi = config.holdout_mass
        if not lo < hi:
            raise GammastarError(f"holdout mass window must have LO < HI, not {lo}:{hi}")
        keep = (v["m"] < lo) | (v["m"] > hi)
    if keep.sum() < 100:
        raise GammastarError(f"only {int(keep.sum())} pairs to train on; need at least 100")
    v = {k: x[keep] for k, x in v.items()}
    w = w[keep]
    if w.sum() <= 0:
        raise GammastarError("the training pairs have a non-positive net weight")
    return TrainingPairs(v, w, data.m_lepton, None if data.below_floor is None else ~data.below_floor[keep])


def new_flow(config: FlowConfig, pairs: TrainingPairs, modelled_phi: bool) -> KinematicsFlow:
    """A fresh network with the standardisation of these pairs' features."""
    v, w = pairs.v, pairs.w
    pair_features = ["pt_probit", "y"] + (["phi"] if modelled_phi else [])
    scale = pt_scale(v["pt"], w)
    if not (math.isfinite(scale) and scale > 0):
        raise GammastarError("the training pairs' weighted mean pT is not positive")
    raw_pair = raw_pair_features(v, pair_features, scale)
    pair_mean, pair_std = _weighted_mean_std(raw_pair, w)
    logm_mean, logm_std = _weighted_mean_std(np.log(v["m"])[:, None], w)
    norm = {"pair_mean": pair_mean.tolist(), "pair_std": pair_std.tolist(),
            "logm_mean": float(logm_mean[0]), "logm_std": float(logm_std[0]), "pt_scale": scale}
    return KinematicsFlow(config, pair_features, norm)


def fit_flow(flow: KinematicsFlow, pairs: TrainingPairs, progress: bool = False) -> FitResult:
    """Fit ``flow`` (its networks made now, from ``flow.config.seed``) to ``pairs``; leaves the best epoch's
    weights in it."""
    import torch

    config = flow.config
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    v, w = pairs.v, pairs.w
    z = flow.pair_to_features(v)
    beta2 = 1.0 - 4.0 * pairs.m_lepton**2 / v["m"] ** 2
    perm = rng.permutation(len(w))
    n_val = max(1, int(round(config.val_fraction * len(w))))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    t = {"m": flow.tensor(flow.mass_context(v["m"])), "z": flow.tensor(z),
         "n": flow.tensor(direction(v["cos_cs"], v["phi_cs"])), "b2": flow.tensor(beta2), "w": flow.tensor(w)}
    t["a"] = flow.angle_inputs(t["m"], t["z"])
    w_train_mean = float(w[train_idx].mean())
    w_val_sum = float(w[val_idx].sum())
    if w_train_mean <= 0 or w_val_sum <= 0:
        raise GammastarError("training or validation split has a non-positive net weight; use more pairs")
    history, best = _fit(flow, t, train_idx, val_idx, w_train_mean, w_val_sum, config, progress)
    return FitResult(history, best, len(train_idx), len(val_idx))


def _weighted_mean_std(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.sum(w[:, None] * x, axis=0) / w.sum()
    var = np.sum(w[:, None] * (x - mean) ** 2, axis=0) / w.sum()
    return mean, np.sqrt(np.maximum(var, 1e-12))


def _fit(
    flow: KinematicsFlow, t: dict[str, torch.Tensor], train_idx: np.ndarray, val_idx: np.ndarray, w_train_mean: float,
    w_val_sum: float, config: FlowConfig, progress: bool,
) -> tuple[list[dict[str, Any]], float]:
    """Mini-batch Adam with early stopping; leaves the best epoch's weights in ``flow``.

    ``w_train_mean`` normalises every batch's loss, ``w_val_sum`` the validation loss.
    """
    import torch
    from tqdm import tqdm

    params = list(flow.pair.parameters()) + list(flow.hnet.parameters())
    opt = torch.optim.Adam(params, lr=config.learning_rate)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    gen = torch.Generator().manual_seed(config.seed)
    train_t = torch.as_tensor(train_idx, device=flow.device)
    val_t = torch.as_tensor(val_idx, device=flow.device)

    def batch_nll(idx: torch.Tensor) -> torch.Tensor:
        lp = flow.pair(t["m"][idx]).log_prob(t["z"][idx]) + angular_log_prob(
            h_from_raw(flow.hnet(t["a"][idx])), t["n"][idx], t["b2"][idx])
        loss: torch.Tensor = -(t["w"][idx] * lp).sum()
        return loss

    def val_loss() -> float:
        with torch.no_grad():
            total = sum(float(batch_nll(val_t[i : i + 65536])) for i in range(0, len(val_t), 65536))
        return total / w_val_sum

    best, best_state, bad_epochs = math.inf, None, 0
    history: list[dict[str, Any]] = []
    n_batches = math.ceil(len(train_idx) / config.batch_size)
    t0 = time.time()
    bar = tqdm(total=config.epochs * n_batches, desc="train", unit="batch", disable=not progress, delay=1.0)
    for epoch in range(config.epochs):
        order = train_t[torch.randperm(len(train_t), generator=gen).to(flow.device)]
        # the running loss stays on the device (float64): reading it every batch would wait for the GPU every batch
        running_t = torch.zeros((), dtype=torch.float64, device=flow.device)
        for b in range(n_batches):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            loss = batch_nll(idx) / (w_train_mean * len(idx))
            opt.zero_grad()
            loss.backward()
            opt.step()
            lv = loss.detach().double()
            running_t = 0.98 * running_t + 0.02 * lv if b else lv
            bar.update(1)
            if b % 20 == 0 and progress:
                bar.set_postfix(epoch=epoch + 1, loss=f"{float(running_t):.4f}", best_val=f"{best:.4f}")
        running = float(running_t)
        vl = val_loss()
        sched.step(vl)
        history.append({"epoch": epoch + 1, "train_loss": running, "val_loss": vl,
                        "lr": opt.param_groups[0]["lr"], "seconds": time.time() - t0})
        if not math.isfinite(vl):
            raise GammastarError(f"training diverged at epoch {epoch + 1} (validation loss {vl})")
        if vl < best - 1e-5:
            best, best_state, bad_epochs = vl, copy.deepcopy(flow.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs >= config.patience:
                break
    bar.close()
    assert best_state is not None  # the first finite validation loss is always the best so far
    flow.load_state_dict(best_state)
    return history, best
