"""The conditional normalizing flow: what it learns, how it is trained, how it is stored.

What is learned, per pair (lab frame, beam along +z):

* the pair kinematics given the pair mass, p(log pT, y [, phi] | m): a
  ``zuko`` neural spline flow with coupling layers (``passes=2``, so density
  and sampling are each one network pass per transform), on standardised
  log pT and y with the standardised log m as context;
* the decay angles of the positive lepton in the Collins-Soper frame given
  the pair, p(cos theta_CS, phi_CS | m, pT, y).  Current conservation fixes
  their law to dN/dOmega ~ 1 - beta_l^2 n.H.n with H a real, symmetric,
  positive semi-definite 3x3 matrix of unit trace (PHYSICS.md section 2), so
  instead of a generic flow a network predicts H(m, pT, y) (as L L^T / tr,
  L lower-triangular: positive and unit-trace by construction) and is trained
  by the same likelihood.  This is exact where a generic density estimator
  is only approximate, and it matters: the scalar-mCP law n.H.n is the
  *anisotropy* of the lepton law divided by beta_l^2, so any error of a
  generic angular density would be amplified several-fold.  With H known,
  every spin's law is exact (isotropic proposals accepted with probability
  1 - beta^2 n.H.n or n.H.n).

The pair azimuth phi is modelled as uniform only if the data say so: a chi2
test of the weighted phi histogram is made at training time (p > 1e-3) and
stored with the model; otherwise phi becomes a third flow feature.

Weighted training: the loss is the weighted negative log-likelihood
``-sum_i w_i log q(x_i | c_i) / sum_i w_i``.  Its minimiser is the flow
closest (in KL divergence) to the weighted density, which with signed
weights (background subtraction) is the subtracted density, as long as that
is non-negative; each mini-batch uses the training set's mean weight as
normaliser, so batches with a net negative weight still give unbiased
gradients.

Model files are ``torch.save`` dictionaries of tensors, numbers and strings
only, read back with ``torch.load(weights_only=True)``: config, weights, the
mass spectrum (for normalisation) and the data provenance in one file.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from . import __version__
from .data import DileptonDataset, Normalised
from .errors import GammastarError
from .kinematics import collins_soper_angles, pair_kinematics
from .spectrum import MassSpectrum

__all__ = [
    "FlowConfig",
    "KinematicsFlow",
    "TrainedModel",
    "pair_variables",
    "train",
    "load_model",
    "direction",
    "sample_law",
]

MODEL_FORMAT = "gammastar-model"
MODEL_VERSION = 1
_SHRINK = 1.0 - 1e-7  # keeps atanh finite at cos theta = +-1, phi = +-pi


@dataclass
class FlowConfig:
    """Training settings (defaults: the configuration the bench measures)."""

    transforms: int = 3
    hidden: tuple[int, ...] = (64, 64)
    bins: int = 8
    epochs: int = 30
    batch_size: int = 4096
    learning_rate: float = 2e-3
    patience: int = 4
    val_fraction: float = 0.1
    seed: int = 1
    device: str = "cpu"
    beam_energy: float = 400.0
    holdout_mass: tuple[float, float] | None = None


def pair_variables(data: DileptonDataset, beam_energy: float) -> dict[str, np.ndarray]:
    """Per-pair m, log pT, y, phi and the Collins-Soper angles (cos theta, phi) of the positive lepton."""
    k = pair_kinematics(data.pos, data.neg)
    cos_t, phi_cs = collins_soper_angles(data.pos, data.neg, beam_energy)
    return {
        "m": data.mass,
        "log_pt": np.log(np.maximum(k.pt, 1e-6)),
        "y": k.y,
        "phi": k.phi,
        "cos_cs": cos_t,
        "phi_cs": phi_cs,
    }


def direction(cos_t: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(N, 3) unit vectors from polar angle cosine and azimuth."""
    sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, None))
    return np.column_stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])


def n_h_n(h: np.ndarray, n: np.ndarray) -> np.ndarray:
    """n.H.n for (N, 3, 3) matrices and (N, 3) unit vectors."""
    return np.einsum("ni,nij,nj->n", n, h, n)


def sample_law(h: np.ndarray, law, rng: np.random.Generator, max_rounds: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(cos theta, phi) from an angular law given per event as ``law(nhn, index) -> weight in [0, 1]``.

    Isotropic proposals accepted with that weight (accept-reject is exact
    because every law here, 1 - beta^2 n.H.n or n.H.n, is bounded by 1).
    """
    n_ev = h.shape[0]
    cos_t, phi = np.empty(n_ev), np.empty(n_ev)
    todo = np.arange(n_ev)
    for _ in range(max_rounds):
        c, f = rng.uniform(-1.0, 1.0, todo.size), rng.uniform(-np.pi, np.pi, todo.size)
        ok = rng.random(todo.size) < law(n_h_n(h[todo], direction(c, f)), todo)
        cos_t[todo[ok]], phi[todo[ok]] = c[ok], f[ok]
        todo = todo[~ok]
        if not todo.size:
            return cos_t, phi
    raise GammastarError("angular sampling did not converge (the law vanishes almost everywhere)")


def phi_uniformity_pvalue(phi: np.ndarray, weight: np.ndarray, bins: int = 36) -> float:
    """p-value of a flat azimuth: chi2 of the weighted phi histogram against its mean."""
    h, _ = np.histogram(phi, bins=bins, range=(-np.pi, np.pi), weights=weight)
    v, _ = np.histogram(phi, bins=bins, range=(-np.pi, np.pi), weights=weight**2)
    mean = h.sum() / bins
    chi2 = float(np.sum((h - mean) ** 2 / np.maximum(v, 1e-300)))
    return float(stats.chi2.sf(chi2, bins - 1))


def _weighted_mean_std(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.sum(w[:, None] * x, axis=0) / w.sum()
    var = np.sum(w[:, None] * (x - mean) ** 2, axis=0) / w.sum()
    return mean, np.sqrt(np.maximum(var, 1e-12))


def _torch():
    import torch

    return torch


def _h_from_raw(raw):
    """(N, 6) network outputs -> (N, 3, 3) H = L L^T / tr(L L^T), L lower-triangular (torch)."""
    torch = _torch()
    n = raw.shape[0]
    ell = torch.zeros(n, 3, 3, dtype=raw.dtype, device=raw.device)
    rows, cols = torch.tril_indices(3, 3, device=raw.device)
    ell[:, rows, cols] = raw
    h = ell @ ell.transpose(1, 2)
    return h / (torch.diagonal(h, dim1=1, dim2=2).sum(-1)[:, None, None] + 1e-12)


class KinematicsFlow:
    """The pair flow, the angular (H-tensor) network, and their input standardisation.

    Holds two torch modules (``pair``, ``hnet``) and the numbers that map
    physics variables to network inputs and back.
    """

    def __init__(self, config: FlowConfig, pair_features: list[str], norm: dict[str, list[float]]) -> None:
        import zuko

        torch = _torch()
        self.config = config
        self.pair_features = list(pair_features)
        self.norm = {k: np.asarray(v, dtype=float) for k, v in norm.items()}
        self.pair = zuko.flows.NSF(features=len(pair_features), context=1, transforms=config.transforms,
                                   hidden_features=tuple(config.hidden), bins=config.bins, passes=2)
        layers, width_in = [], 3
        for width in config.hidden:
            layers += [torch.nn.Linear(width_in, width), torch.nn.SiLU()]
            width_in = width
        last = torch.nn.Linear(width_in, 6)
        with torch.no_grad():  # start at H = 1/3 (isotropic), so training begins from the unpolarised law
            last.weight.mul_(0.01)
            last.bias.copy_(torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0]))
        self.hnet = torch.nn.Sequential(*layers, last)
        self.device = torch.device(config.device)
        self.pair.to(self.device)
        self.hnet.to(self.device)

    # -- feature maps -------------------------------------------------------

    def mass_context(self, m: np.ndarray) -> np.ndarray:
        return ((np.log(m) - self.norm["logm_mean"]) / self.norm["logm_std"])[:, None]

    def pair_to_features(self, v: dict[str, np.ndarray]) -> np.ndarray:
        cols = [v["log_pt"], v["y"]] + ([np.arctanh(v["phi"] / np.pi * _SHRINK)] if "phi" in self.pair_features else [])
        return (np.column_stack(cols) - self.norm["pair_mean"]) / self.norm["pair_std"]

    def features_to_pair(self, z: np.ndarray) -> dict[str, np.ndarray]:
        x = z * self.norm["pair_std"] + self.norm["pair_mean"]
        out = {"pt": np.exp(x[:, 0]), "y": x[:, 1]}
        if "phi" in self.pair_features:
            out["phi"] = np.pi * np.tanh(x[:, 2]) / _SHRINK
        return out

    @staticmethod
    def angle_context(mass_ctx: np.ndarray, pair_z: np.ndarray) -> np.ndarray:
        """Inputs of the H network: standardised log m, log pT, y."""
        return np.column_stack([mass_ctx, pair_z[:, :2]])

    # -- torch helpers -------------------------------------------------------

    def tensor(self, x: np.ndarray):
        torch = _torch()
        return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=self.device)

    def log_prob_pair(self, z: np.ndarray, mass_ctx: np.ndarray) -> np.ndarray:
        """log density of the standardised pair features (no Jacobian to physics variables)."""
        torch = _torch()
        with torch.no_grad():
            return self.pair(self.tensor(mass_ctx)).log_prob(self.tensor(z)).double().cpu().numpy()

    def h_tensor(self, ctx: np.ndarray, chunk: int = 262_144) -> np.ndarray:
        """(N, 3, 3) H(m, pT, y) in the Collins-Soper frame (float64)."""
        torch = _torch()
        with torch.no_grad():
            return np.concatenate([_h_from_raw(self.hnet(self.tensor(ctx[i : i + chunk]))).double().cpu().numpy()
                                   for i in range(0, len(ctx), chunk)])

    def sample_pair(self, mass_ctx: np.ndarray, seed: int) -> np.ndarray:
        torch = _torch()
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            with torch.no_grad():
                return self.pair(self.tensor(mass_ctx)).sample().double().cpu().numpy()
        finally:
            torch.random.set_rng_state(gen_state)

    def state_dict(self) -> dict:
        return {
            **{f"pair.{k}": v.detach().cpu() for k, v in self.pair.state_dict().items()},
            **{f"hnet.{k}": v.detach().cpu() for k, v in self.hnet.state_dict().items()},
        }

    def load_state_dict(self, state: dict) -> None:
        self.pair.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("pair.")})
        self.hnet.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("hnet.")})


def angular_log_prob(h, n, beta2):
    """log of the lepton law (1 - beta^2 n.H.n) / (4 pi (1 - beta^2/3)) per steradian (torch)."""
    torch = _torch()
    nhn = torch.einsum("ni,nij,nj->n", n, h, n)
    return torch.log(torch.clamp(1.0 - beta2 * nhn, min=1e-12)) - torch.log(4.0 * math.pi * (1.0 - beta2 / 3.0))


@dataclass
class TrainedModel(Normalised):
    """A trained flow with everything needed to generate and normalise."""

    flow: KinematicsFlow
    spectrum: MassSpectrum
    lepton: str
    n_collisions: float | None
    mass_range: tuple[float, float]
    pair_range: tuple[list[float], list[float]]
    phi_uniform_pvalue: float
    provenance: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)

    @property
    def config(self) -> FlowConfig:
        return self.flow.config

    def save(self, path: str | Path) -> Path:
        """Write the one self-describing model file (atomically)."""
        torch = _torch()
        path = Path(path)
        meta = {
            "config": {**dataclasses.asdict(self.config), "device": "cpu"},
            "pair_features": self.flow.pair_features,
            "norm": {k: v.tolist() for k, v in self.flow.norm.items()},
            "lepton": self.lepton,
            "n_collisions": self.n_collisions,
            "mass_range": list(self.mass_range),
            "pair_range": [list(self.pair_range[0]), list(self.pair_range[1])],
            "phi_uniform_pvalue": self.phi_uniform_pvalue,
            "spectrum": {"m_lepton": self.spectrum.m_lepton, "rel_bin": self.spectrum.rel_bin},
            "provenance": self.provenance,
            "history": self.history,
        }
        s = self.spectrum
        blob = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "meta": json.dumps(meta),
            "state": self.flow.state_dict(),
            "spectrum": {k: torch.as_tensor(v) for k, v in s.to_arrays().items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.partial")
        try:
            torch.save(blob, tmp)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


def load_model(path: str | Path, device: str = "cpu") -> TrainedModel:
    """Read a model file written by :meth:`TrainedModel.save` (no arbitrary unpickling)."""
    torch = _torch()
    path = Path(path)
    if not path.is_file():
        raise GammastarError(f"{path}: no such model file")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GammastarError(f"{path}: not a readable gammastar model ({first[:160]})") from None
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        raise GammastarError(f"{path}: not a gammastar model file")
    if blob.get("version") != MODEL_VERSION:
        raise GammastarError(f"{path}: model format version {blob.get('version')} is not supported (need {MODEL_VERSION})")
    try:
        meta = json.loads(blob["meta"])
        cfg = dict(meta["config"])
        cfg["hidden"] = tuple(cfg["hidden"])
        cfg["holdout_mass"] = tuple(cfg["holdout_mass"]) if cfg.get("holdout_mass") else None
        cfg["device"] = device
        config = FlowConfig(**cfg)
        _check_device(device)
        flow = KinematicsFlow(config, meta["pair_features"], meta["norm"])
        flow.load_state_dict(blob["state"])
        arrays = {k: v.numpy() for k, v in blob["spectrum"].items()}
        spectrum = MassSpectrum.from_arrays(arrays, meta["spectrum"]["m_lepton"], meta["spectrum"]["rel_bin"], meta["lepton"])
    except GammastarError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise GammastarError(f"{path}: damaged gammastar model ({type(exc).__name__}: {str(exc)[:160]})") from None
    return TrainedModel(
        flow, spectrum, meta["lepton"], meta["n_collisions"], tuple(meta["mass_range"]),
        (meta["pair_range"][0], meta["pair_range"][1]), meta["phi_uniform_pvalue"], meta["provenance"], meta["history"],
    )


def _check_device(device: str) -> None:
    torch = _torch()
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GammastarError(f"device {device!r} asked for, but no CUDA device is available here")
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise GammastarError(f"unknown device {device!r} (use cpu, cuda or cuda:N)") from None


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train(data: DileptonDataset, config: FlowConfig | None = None, progress: bool = True) -> TrainedModel:
    """Train the pair flow and the angular network on ``data``; returns the best model on the validation split.

    Reproducible: the same data and ``config.seed`` give the same weights on
    the same device and thread count.
    """
    from tqdm import tqdm

    torch = _torch()
    config = config or FlowConfig()
    _check_device(config.device)
    if config.epochs < 1 or config.batch_size < 1:
        raise GammastarError("epochs and batch size must be at least 1")
    if not 0.0 < config.val_fraction < 0.5:
        raise GammastarError(f"validation fraction must be in (0, 0.5), not {config.val_fraction}")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    v = pair_variables(data, config.beam_energy)
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

    p_phi = phi_uniformity_pvalue(v["phi"], w)
    pair_features = ["log_pt", "y"] + ([] if p_phi > 1e-3 else ["phi"])
    raw_pair = np.column_stack(
        [v["log_pt"], v["y"]] + ([np.arctanh(v["phi"] / np.pi * _SHRINK)] if "phi" in pair_features else [])
    )
    pair_mean, pair_std = _weighted_mean_std(raw_pair, w)
    logm_mean, logm_std = _weighted_mean_std(np.log(v["m"])[:, None], w)
    norm = {"pair_mean": pair_mean.tolist(), "pair_std": pair_std.tolist(),
            "logm_mean": float(logm_mean[0]), "logm_std": float(logm_std[0])}
    flow = KinematicsFlow(config, pair_features, norm)

    mctx = flow.mass_context(v["m"])
    z = flow.pair_to_features(v)
    nvec = direction(v["cos_cs"], v["phi_cs"])
    beta2 = 1.0 - 4.0 * data.m_lepton**2 / v["m"] ** 2
    actx = flow.angle_context(mctx, z)
    n = len(w)
    perm = rng.permutation(n)
    n_val = max(1, int(round(config.val_fraction * n)))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    t = {name: flow.tensor(arr) for name, arr in
         (("m", mctx), ("z", z), ("n", nvec), ("b2", beta2), ("a", actx), ("w", w))}
    w_train_mean = float(w[train_idx].mean())
    w_val_sum = float(w[val_idx].sum())
    if w_train_mean <= 0 or w_val_sum <= 0:
        raise GammastarError("training or validation split has a non-positive net weight; use more pairs")

    params = list(flow.pair.parameters()) + list(flow.hnet.parameters())
    opt = torch.optim.Adam(params, lr=config.learning_rate)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    gen = torch.Generator().manual_seed(config.seed)
    train_t = torch.as_tensor(train_idx, device=flow.device)
    val_t = torch.as_tensor(val_idx, device=flow.device)

    def batch_nll(idx):
        lp = flow.pair(t["m"][idx]).log_prob(t["z"][idx]) + angular_log_prob(
            _h_from_raw(flow.hnet(t["a"][idx])), t["n"][idx], t["b2"][idx])
        return -(t["w"][idx] * lp).sum()

    def val_loss() -> float:
        with torch.no_grad():
            total = sum(float(batch_nll(val_t[i : i + 65536])) for i in range(0, len(val_t), 65536))
        return total / w_val_sum

    best, best_state, bad_epochs, history = math.inf, None, 0, []
    n_batches = math.ceil(len(train_idx) / config.batch_size)
    t0 = time.time()
    bar = tqdm(total=config.epochs * n_batches, desc="train", unit="batch", disable=not progress, delay=1.0)
    for epoch in range(config.epochs):
        order = train_t[torch.randperm(len(train_t), generator=gen).to(flow.device)]
        running = 0.0
        for b in range(n_batches):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            loss = batch_nll(idx) / (w_train_mean * len(idx))
            opt.zero_grad()
            loss.backward()
            opt.step()
            lv = float(loss.detach())
            running = 0.98 * running + 0.02 * lv if b else lv
            bar.update(1)
            if b % 20 == 0:
                bar.set_postfix(epoch=epoch + 1, loss=f"{running:.4f}", best_val=f"{best:.4f}")
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
    flow.load_state_dict(best_state)

    spectrum = MassSpectrum.from_dataset(data)
    provenance = {
        "source": data.source,
        "n_pairs": int(len(data)),
        "n_train": int(len(train_idx)),
        "n_val": int(len(val_idx)),
        "holdout_mass": list(config.holdout_mass) if config.holdout_mass else None,
        "gammastar_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "best_val_loss": best,
    }
    if Path(data.source).is_file():
        provenance["source_sha256"] = file_sha256(data.source)
    return TrainedModel(
        flow, spectrum, data.lepton, data.n_collisions, (float(v["m"].min()), float(v["m"].max())),
        (z.min(axis=0).tolist(), z.max(axis=0).tolist()), p_phi, provenance, history,
    )
