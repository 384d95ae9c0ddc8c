"""The model file: one ``torch.save`` dictionary that generates *and* normalises.

It holds tensors, numbers and strings only, read back with
``torch.load(weights_only=True)`` (no arbitrary unpickling): a format tag and
version, the config, the flow weights, the fine-binned mass spectrum of the
training data (for normalisation), and the provenance (source file and its
SHA-256, n_collisions, lepton, pairs used, held-out window, training
history).  A SHA-256 of all of that (``sha256``) is checked on load, and the
values are checked too (finite weights, n_collisions > 0, lepton e or mu, a
consistent spectrum): a corrupt or foreign file is a one-line error.  Files
written before the checksum existed still load, with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import Any

from ..errors import GammastarError, describe, first_line
from ..io.atomic import atomic_path
from ..physics.pdg import LEPTONS
from ..rates.spectrum import MassSpectrum
from .model import FlowConfig, KinematicsFlow, TrainedModel, check_device

__all__ = ["MODEL_FORMAT", "MODEL_VERSION", "save_model", "load_model", "file_sha256"]

MODEL_FORMAT = "gammastar-model"
MODEL_VERSION = 1


def save_model(model: TrainedModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (atomically)."""
    import torch

    path = Path(path)
    meta = {
        "config": {**dataclasses.asdict(model.config), "device": "cpu"},
        "pair_features": model.flow.pair_features,
        "norm": {k: v.tolist() for k, v in model.flow.norm.items()},
        "lepton": model.lepton,
        "n_collisions": model.n_collisions,
        "mass_range": list(model.mass_range),
        "pair_range": [list(model.pair_range[0]), list(model.pair_range[1])],
        "phi_uniform_pvalue": model.phi_uniform_pvalue,
        "spectrum": {"m_lepton": model.spectrum.m_lepton, "rel_bin": model.spectrum.rel_bin},
        "provenance": model.provenance,
        "history": model.history,
    }
    blob: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "meta": json.dumps(meta),
        "state": model.flow.state_dict(),
        "spectrum": {k: torch.as_tensor(v) for k, v in model.spectrum.to_arrays().items()},
    }
    blob["sha256"] = _digest(blob)
    with atomic_path(path) as tmp:
        try:
            torch.save(blob, tmp)
        except RuntimeError as exc:  # torch's stream errors (a full disk) are RuntimeErrors
            raise GammastarError(f"cannot write {path}: {_why(exc)} (disk full?)") from None
    return path


def load_model(path: str | Path, device: str = "cpu") -> TrainedModel:
    """Read a model file written by :func:`save_model` (no arbitrary unpickling)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise GammastarError(f"{path}: no such model file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # torch.save writes a zip archive
            raise GammastarError(f"{path}: not a readable gammastar model (not a torch.save archive)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise GammastarError(f"{path}: not a readable gammastar model ({_why(exc)})") from None
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        raise GammastarError(f"{path}: not a gammastar model file")
    if blob.get("version") != MODEL_VERSION:
        raise GammastarError(f"{path}: model format version {blob.get('version')} is not supported (need {MODEL_VERSION})")
    if "sha256" not in blob:
        warnings.warn(f"{path}: written before model files carried a checksum; its integrity cannot be checked "
                      "(train it again to add one)", stacklevel=2)
    else:
        try:
            intact = _digest(blob) == blob["sha256"]
        except (KeyError, TypeError, AttributeError, RuntimeError, ValueError):
            intact = False
        if not intact:
            raise GammastarError(f"{path}: damaged gammastar model (its checksum does not match: "
                                 "the file changed after it was written)")
    try:
        meta = json.loads(blob["meta"])
        _check_values(meta, blob["state"])
        cfg = dict(meta["config"])
        cfg["hidden"] = tuple(cfg["hidden"])
        cfg["holdout_mass"] = tuple(cfg["holdout_mass"]) if cfg.get("holdout_mass") else None
        if cfg.get("mass_resolution"):
            cfg["mass_resolution"] = tuple((float(m), float(s)) for m, s in cfg["mass_resolution"])
        cfg["device"] = device
        config = FlowConfig(**cfg)
        check_device(device)
        flow = KinematicsFlow(config, meta["pair_features"], meta["norm"])
        flow.load_state_dict(blob["state"])
        arrays = {k: v.numpy() for k, v in blob["spectrum"].items()}
        spectrum = MassSpectrum.from_arrays(arrays, meta["spectrum"]["m_lepton"], meta["spectrum"]["rel_bin"], meta["lepton"])
    except GammastarError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise GammastarError(f"{path}: damaged gammastar model ({describe(exc)})") from None
    try:
        return TrainedModel(
            flow, spectrum, meta["lepton"], meta["n_collisions"], tuple(meta["mass_range"]),
            (meta["pair_range"][0], meta["pair_range"][1]), meta["phi_uniform_pvalue"], meta["provenance"], meta["history"],
        )
    except GammastarError as exc:  # the sample checks (n_collisions) apply to the stored normalisation too
        raise GammastarError(f"{path}: damaged gammastar model ({exc})") from None


def _digest(blob: dict[str, Any]) -> str:
    """SHA-256 of the metadata text and of every tensor (name, dtype, shape, bytes), in a fixed order."""
    h = hashlib.sha256(blob["meta"].encode())
    for group in ("state", "spectrum"):
        for name in sorted(blob[group]):
            t = blob[group][name].detach().cpu().contiguous()
            h.update(f"{group}/{name}/{t.dtype}/{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes())
    return h.hexdigest()


def _check_values(meta: dict[str, Any], state: dict[str, Any]) -> None:
    """ValueError unless the numbers are what a trained model has (finite weights, a known lepton, ...)."""
    import torch

    bad = [k for k, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ValueError(f"non-finite network weights in {bad[0]}")
    if meta["lepton"] not in LEPTONS:
        raise ValueError(f"lepton {meta['lepton']!r} is neither e nor mu")
    numbers = [*meta["mass_range"], *meta["pair_range"][0], *meta["pair_range"][1], meta["phi_uniform_pvalue"],
               *meta["norm"]["pair_mean"], *meta["norm"]["pair_std"], meta["norm"]["logm_mean"], meta["norm"]["logm_std"]]
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in numbers):
        raise ValueError("non-finite numbers in the model's ranges or standardisation")
    if not 0 < meta["mass_range"][0] < meta["mass_range"][1] or min(meta["norm"]["pair_std"]) <= 0 \
            or meta["norm"]["logm_std"] <= 0:
        raise ValueError("the model's mass range or standardisation is not possible")


def _why(exc: Exception) -> str:
    """A one-line reason from torch's error, without its advice to load unsafely."""
    text = str(exc).strip()
    if "weights_only" in text or "Weights only" in text:
        return "it holds objects other than tensors, numbers and strings; gammastar does not load those"
    return first_line(exc)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
