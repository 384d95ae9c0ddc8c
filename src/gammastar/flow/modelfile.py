"""The model file: one zip archive that generates *and* normalises.

Members (version 2):

* ``gammastar.json``: the format tag and version, the metadata (config,
  standardisation, ranges, lepton, n_collisions, provenance: source file and
  its SHA-256, pairs used, held-out window, training history) and ``sha256``,
  a SHA-256 of the metadata and of every other member, checked on load;
* ``spectrum/*.npy``: the fine-binned mass spectrum of the training data (for
  the normalisation), ``density/*.npy``: the flow's tabulated pair density
  (:mod:`.density`), plain numpy arrays;
* ``flow.pt``: the network weights, a ``torch.save`` dictionary of tensors
  read back with ``torch.load(weights_only=True)`` (no arbitrary unpickling),
  and only when a network is needed: generating A' (and chi-chibar pair
  kinematics) from the table imports no torch at all.

The values are checked too (finite weights, n_collisions > 0, lepton e or mu,
a consistent spectrum and table): a corrupt or foreign file is a one-line
error.  Version 1 files (one ``torch.save`` dictionary, without the table)
still load; their table is made when first needed.  Files written before the
checksum existed load with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GammastarError, describe, first_line
from ..io.atomic import atomic_path
from ..physics.pdg import LEPTONS
from ..rates.spectrum import MassSpectrum
from .density import PairDensity
from .model import FlowConfig, KinematicsFlow, TrainedModel, check_device

__all__ = ["MODEL_FORMAT", "MODEL_VERSION", "save_model", "load_model", "file_sha256"]

MODEL_FORMAT = "gammastar-model"
MODEL_VERSION = 2
_HEAD = "gammastar.json"
_WEIGHTS = "flow.pt"


def _meta(model: TrainedModel) -> dict[str, Any]:
    return {
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


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _members_digest(meta_text: str, members: dict[str, bytes]) -> str:
    """SHA-256 of the metadata text and of every member (name, length, bytes), in name order."""
    h = hashlib.sha256(meta_text.encode())
    for name in sorted(members):
        h.update(f"{name}/{len(members[name])}".encode())
        h.update(members[name])
    return h.hexdigest()


def save_model(model: TrainedModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (atomically)."""
    import torch

    path = Path(path)
    members = {f"spectrum/{k}.npy": _npy(v) for k, v in model.spectrum.to_arrays().items()}
    if model.tabulates_pairs:
        members.update({f"density/{k}.npy": _npy(v) for k, v in model.pair_density().to_arrays().items()})
    weights = io.BytesIO()
    torch.save(model.flow.state_dict(), weights)
    members[_WEIGHTS] = weights.getvalue()
    meta_text = json.dumps(_meta(model))
    head = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "meta": meta_text,
            "sha256": _members_digest(meta_text, members)}
    with atomic_path(path) as tmp:
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                z.writestr(_HEAD, json.dumps(head))
                for name, data in members.items():
                    z.writestr(name, data)
        except OSError as exc:
            raise GammastarError(f"cannot write {path}: {exc.strerror or exc} (disk full?)") from None
    return path


def load_model(path: str | Path, device: str = "cpu") -> TrainedModel:
    """Read a model file written by :func:`save_model` (no arbitrary unpickling; torch only when needed)."""
    path = Path(path)
    if not path.is_file():
        raise GammastarError(f"{path}: no such model file")
    check_device(device)
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # both versions are zip archives
            raise GammastarError(f"{path}: not a readable gammastar model (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if _HEAD not in names:
                return _load_v1(path, device)
            head = json.loads(z.read(_HEAD))
            if not isinstance(head, dict) or head.get("format") != MODEL_FORMAT:
                raise GammastarError(f"{path}: not a gammastar model file")
            if head.get("version") != MODEL_VERSION:
                raise GammastarError(f"{path}: model format version {head.get('version')} is not supported "
                                     f"(need {MODEL_VERSION})")
            members = {n: z.read(n) for n in names if n != _HEAD}
    except GammastarError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:  # json errors are ValueErrors
        raise GammastarError(f"{path}: not a readable gammastar model ({describe(exc)})") from None
    if _members_digest(str(head.get("meta")), members) != head.get("sha256"):
        raise GammastarError(f"{path}: damaged gammastar model (its checksum does not match: "
                             "the file changed after it was written)")

    def group(prefix: str) -> dict[str, np.ndarray]:
        return {n[len(prefix) + 1 : -4]: np.load(io.BytesIO(b), allow_pickle=False)
                for n, b in members.items() if n.startswith(prefix + "/")}

    def weights() -> dict[str, Any]:
        import torch

        try:
            state = torch.load(io.BytesIO(members[_WEIGHTS]), map_location="cpu", weights_only=True)
            _check_weights(state)
        except Exception as exc:  # torch raises many types for damaged data
            raise GammastarError(f"{path}: damaged gammastar model ({_why(exc)})") from None
        return state

    try:
        meta = json.loads(head["meta"])
        density = group("density")
        return _model(meta, device, weights, group("spectrum"), PairDensity.from_arrays(density) if density else None)
    except GammastarError as exc:
        raise GammastarError(f"{path}: damaged gammastar model ({exc})") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise GammastarError(f"{path}: damaged gammastar model ({describe(exc)})") from None


def _model(meta: dict[str, Any], device: str, weights: Any, spectrum: dict[str, np.ndarray],
           density: PairDensity | None) -> TrainedModel:
    """The model from its metadata, a function giving its weights, the spectrum's arrays and its table."""
    _check_values(meta)
    cfg = dict(meta["config"])
    cfg["hidden"] = tuple(cfg["hidden"])
    cfg["holdout_mass"] = tuple(cfg["holdout_mass"]) if cfg.get("holdout_mass") else None
    if cfg.get("mass_resolution"):
        cfg["mass_resolution"] = tuple((float(m), float(s)) for m, s in cfg["mass_resolution"])
    cfg["device"] = device
    config = FlowConfig(**cfg)
    flow = KinematicsFlow(config, meta["pair_features"], meta["norm"], state=weights)
    spec = MassSpectrum.from_arrays(spectrum, meta["spectrum"]["m_lepton"], meta["spectrum"]["rel_bin"], meta["lepton"])
    return TrainedModel(
        flow, spec, meta["lepton"], meta["n_collisions"], tuple(meta["mass_range"]),
        (meta["pair_range"][0], meta["pair_range"][1]), meta["phi_uniform_pvalue"], meta["provenance"], meta["history"],
        density,
    )


def _load_v1(path: Path, device: str) -> TrainedModel:
    """A version-1 file: one ``torch.save`` dictionary (no pair-density table)."""
    import torch

    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise GammastarError(f"{path}: not a readable gammastar model ({_why(exc)})") from None
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        raise GammastarError(f"{path}: not a gammastar model file")
    if blob.get("version") != 1:
        raise GammastarError(f"{path}: model format version {blob.get('version')} is not supported (need {MODEL_VERSION})")
    if "sha256" not in blob:
        warnings.warn(f"{path}: written before model files carried a checksum; its integrity cannot be checked "
                      "(train it again to add one)", stacklevel=3)
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
        _check_weights(blob["state"])
        return _model(meta, device, lambda: blob["state"], {k: v.numpy() for k, v in blob["spectrum"].items()}, None)
    except GammastarError as exc:
        raise GammastarError(f"{path}: damaged gammastar model ({exc})") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise GammastarError(f"{path}: damaged gammastar model ({describe(exc)})") from None


def _digest(blob: dict[str, Any]) -> str:
    """SHA-256 of the metadata text and of every tensor (name, dtype, shape, bytes), in a fixed order."""
    h = hashlib.sha256(blob["meta"].encode())
    for group in ("state", "spectrum"):
        for name in sorted(blob[group]):
            t = blob[group][name].detach().cpu().contiguous()
            h.update(f"{group}/{name}/{t.dtype}/{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes())
    return h.hexdigest()


def _check_weights(state: dict[str, Any]) -> None:
    """ValueError unless every network weight is a finite tensor."""
    import torch

    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise ValueError("the network weights are not a dictionary of tensors")
    bad = [k for k, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ValueError(f"non-finite network weights in {bad[0]}")


def _check_values(meta: dict[str, Any]) -> None:
    """ValueError unless the numbers are what a trained model has (a known lepton, finite ranges, ...)."""
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
