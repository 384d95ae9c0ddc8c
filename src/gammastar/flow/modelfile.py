"""The model file: one zip archive that generates *and* normalises.

Members (version 3):

* ``gammastar.json``: the format tag and version, the metadata (config,
  standardisation, ranges, lepton, n_collisions, provenance: source file and
  its SHA-256, pairs used, held-out window, training history), and the size
  and SHA-256 of every other member;
* ``spectrum/*.npy``: the fine-binned mass spectrum of the training data (for
  the normalisation), ``density/*.npy``: the flow's tabulated pair density
  (:mod:`.density`), plain numpy arrays;
* ``flow.pt``: the network weights, a ``torch.save`` dictionary of tensors
  read back with ``torch.load(weights_only=True)`` (no arbitrary unpickling);
* ``support/*.npy``: where the training pairs are (:mod:`gammastar.rates.support`);
* ``replicas/prob.npy`` (when trained with replicas): the replicas' pair
  densities on the model's table (:mod:`.replicas`).

Member names and sizes are checked against the archive's directory before
anything is read (a member that is not in the format, or larger than
declared, is refused unread), and each member's SHA-256 when it is read.
The network weights and the replicas are read only when needed: generating
A' (and chi-chibar pair kinematics) from the table imports no torch and
reads neither.  The values are checked too (finite weights, n_collisions > 0,
lepton e or mu, a consistent spectrum and table): a corrupt or foreign file
is a one-line error.  Version 2 files (pairs in log pT, one checksum over
all members) and version 1 files (one ``torch.save`` dictionary, without the
table) still load; files written before the checksum existed load with a
warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GammastarError, describe, first_line
from ..io.atomic import atomic_path
from ..physics.pdg import LEPTONS
from ..rates.support import Support
from .density import PairDensity, ReplicaTables
from .features import PT_FEATURES

__all__ = ["MODEL_FORMAT", "MODEL_VERSION", "ModelFile", "write_model_file", "read_model_file", "file_sha256"]

MODEL_FORMAT = "gammastar-model"
MODEL_VERSION = 3
#: zip versions this reader takes: 2 (pairs in log pT), 3 (pT as a probit, :mod:`.features`)
_READABLE = (2, 3)
_HEAD = "gammastar.json"
#: the members read only when needed: the network weights and the replicas' tables
WEIGHTS = "flow.pt"
REPLICAS = "replicas/prob.npy"
_LAZY = (WEIGHTS, REPLICAS)  # read when needed
_HEAD_MAX = 16 << 20  # bytes: the head is metadata; anything larger is not a gammastar model
#: bytes a member of a version-2 file may hold at most (its head declares no sizes): the largest, a pair-density
#: table of 400 x 400 cells at 200 mass nodes in float32, is 128 MB
_V2_MEMBER_MAX = 256 << 20


def npy_bytes(a: np.ndarray) -> bytes:
    """An array as the bytes of a ``.npy`` member (no pickles)."""
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


def write_model_file(path: str | Path, meta: dict[str, Any], members: dict[str, bytes]) -> Path:
    """Write a model file to ``path`` (atomically): the head (format, version, ``meta`` as JSON, each member's size
    and SHA-256) and the ``members`` (names of the format, see the module docstring)."""
    path = Path(path)
    meta_text = json.dumps(meta)
    head = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "meta": meta_text,
            "meta_sha256": hashlib.sha256(meta_text.encode()).hexdigest(),
            "members": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                        for name, data in members.items()}}
    with atomic_path(path) as tmp:
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                z.writestr(_HEAD, json.dumps(head))
                for name, data in members.items():
                    z.writestr(name, data)
        except OSError as exc:
            raise GammastarError(f"cannot write {path}: {exc.strerror or exc} (disk full?)") from None
    return path


@dataclass
class ModelFile:
    """What a model file holds, read and checked: its metadata (values checked), the network weights (read and
    checked when first asked for), the training spectrum's arrays, the pair-density table, the support and the
    replicas' tables (None where the file has none).  What is built from them is :mod:`.model`'s."""

    path: Path
    meta: dict[str, Any]
    weights: Callable[[], dict[str, Any]]
    spectrum: dict[str, np.ndarray]
    density: PairDensity | None = None
    support: Support | None = None
    replicas: ReplicaTables | None = None

    @contextmanager
    def damaged(self) -> Iterator[None]:
        """Errors of what is built from the file inside the block as one: ``PATH: damaged gammastar model (...)``."""
        try:
            yield
        except GammastarError as exc:
            raise GammastarError(f"{self.path}: damaged gammastar model ({exc})") from None
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise GammastarError(f"{self.path}: damaged gammastar model ({describe(exc)})") from None


def read_model_file(path: str | Path) -> ModelFile:
    """Read and check a model file written by :func:`write_model_file` (or by an earlier release): no arbitrary
    unpickling, torch only when the weights are asked for."""
    path = Path(path)
    if not path.is_file():
        raise GammastarError(f"{path}: no such model file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # both versions are zip archives
            raise GammastarError(f"{path}: not a readable gammastar model (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as z:
            infos = {i.filename: i for i in z.infolist()}
            if _HEAD not in infos:
                return _read_v1(path)
            if infos[_HEAD].file_size > _HEAD_MAX:
                raise GammastarError(f"{path}: not a gammastar model file (its head is {infos[_HEAD].file_size} bytes)")
            head = json.loads(z.read(_HEAD))
            if not isinstance(head, dict) or head.get("format") != MODEL_FORMAT:
                raise GammastarError(f"{path}: not a gammastar model file")
            if head.get("version") not in _READABLE:
                raise GammastarError(f"{path}: model format version {head.get('version')} is not supported "
                                     f"(this gammastar reads versions 1 to {MODEL_VERSION}; a newer one wrote it)")
            if head["version"] == 2:
                _check_version_2_members(path, infos)
                members = {n: z.read(n) for n in infos if n != _HEAD}
                if _members_digest(str(head.get("meta")), members) != head.get("sha256"):
                    raise GammastarError(f"{path}: damaged gammastar model (its checksum does not match: "
                                         "the file changed after it was written)")
                read = members.__getitem__
            else:
                declared = _declared_members(path, head, infos)
                members = {n: _read_member(z, path, n, declared[n]) for n in declared if n not in _LAZY}

                def read(name: str) -> bytes:
                    with zipfile.ZipFile(path) as again:
                        return _read_member(again, path, name, declared[name])
    except GammastarError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:  # json errors are ValueErrors
        raise GammastarError(f"{path}: not a readable gammastar model ({describe(exc)})") from None

    def group(prefix: str) -> dict[str, np.ndarray]:
        return {n[len(prefix) + 1 : -4]: np.load(io.BytesIO(b), allow_pickle=False)
                for n, b in members.items() if n.startswith(prefix + "/")}

    def weights() -> dict[str, Any]:
        import torch

        try:
            state: dict[str, Any] = torch.load(io.BytesIO(read(WEIGHTS)), map_location="cpu", weights_only=True)
            _check_weights(state)
        except GammastarError:
            raise
        except Exception as exc:  # torch raises many types for damaged data
            raise GammastarError(f"{path}: damaged gammastar model ({_why(exc)})") from None
        return state

    out = ModelFile(path, {}, weights, group("spectrum"))
    with out.damaged():
        density = group("density")
        out.density = PairDensity.from_arrays(density) if density else None
        out.meta = json.loads(head["meta"])
        _check_values(out.meta)
        support = group("support")
        out.support = Support.from_arrays(support) if support else None
        if "replicas" in out.meta:
            out.replicas = _replicas(path, out.meta["replicas"], read, out.density)
    return out


def _check_version_2_members(path: Path, infos: dict[str, zipfile.ZipInfo]) -> None:
    """A version-2 head declares no member sizes: before any is read, every member must be one of the format (the
    weights, spectrum, density and support arrays) and no larger than :data:`_V2_MEMBER_MAX`, so that a member that inflates
    to gigabytes is refused from the archive's directory, not discovered in memory."""
    for name, info in infos.items():
        if name == _HEAD:
            continue
        if not (name == WEIGHTS or (name.startswith(("spectrum/", "density/", "support/")) and name.endswith(".npy"))):
            raise GammastarError(f"{path}: damaged gammastar model (member {name!r} is not in the format)")
        if info.file_size > _V2_MEMBER_MAX:
            raise GammastarError(f"{path}: damaged gammastar model (member {name!r} is {info.file_size} bytes, more "
                                 f"than a version-2 model holds, {_V2_MEMBER_MAX} at most)")


def _declared_members(path: Path, head: dict[str, Any], infos: dict[str, zipfile.ZipInfo]) -> dict[str, dict[str, Any]]:
    """The members the head declares, checked against the archive's directory before any is read: the same
    names, each in the format and of its declared size (a member larger than declared is never inflated)."""
    declared = head.get("members")
    meta = head.get("meta")
    if not (isinstance(declared, dict) and isinstance(meta, str)
            and hashlib.sha256(meta.encode()).hexdigest() == head.get("meta_sha256")):
        raise GammastarError(f"{path}: damaged gammastar model (its head is not complete)")
    for name, entry in declared.items():
        known = name in _LAZY or (name.startswith(("spectrum/", "density/", "support/")) and name.endswith(".npy"))
        if not (known and isinstance(entry, dict) and isinstance(entry.get("size"), int)
                and isinstance(entry.get("sha256"), str)):
            raise GammastarError(f"{path}: damaged gammastar model (member {name!r} is not in the format)")
    found = set(infos) - {_HEAD}
    if found != set(declared):
        extra = sorted(found ^ set(declared))[0]
        raise GammastarError(f"{path}: damaged gammastar model (member {extra!r} is "
                             f"{'not declared' if extra in found else 'missing'})")
    for name, entry in declared.items():
        if infos[name].file_size != entry["size"]:
            raise GammastarError(f"{path}: damaged gammastar model (member {name!r} is {infos[name].file_size} bytes, "
                                 f"not the {entry['size']} declared)")
    return declared


def _read_member(z: zipfile.ZipFile, path: Path, name: str, entry: dict[str, Any]) -> bytes:
    """One member's bytes, checked against its declared SHA-256."""
    data = z.read(name)
    if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise GammastarError(f"{path}: damaged gammastar model (its checksum does not match for {name}: the file changed "
                             "after it was written)")
    return data


def _replicas(path: Path, fits: list[dict[str, float]], read: Any, table: PairDensity | None) -> ReplicaTables:
    """The replicas' tables, read when first used (they may be tens of MB)."""
    if table is None:
        raise ValueError("replicas without the model's table")
    expected = (len(fits), table.masses.size, table.grid * table.grid)

    def load() -> np.ndarray:
        prob = np.load(io.BytesIO(read(REPLICAS)), allow_pickle=False)
        if prob.shape != expected or not (np.all(np.isfinite(prob)) and np.all(prob >= 0)):
            raise GammastarError(f"{path}: damaged gammastar model (the replicas' tables are not consistent)")
        return np.asarray(prob)

    return ReplicaTables(None, list(fits), load)


def _read_v1(path: Path) -> ModelFile:
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
    out = ModelFile(path, {}, lambda: blob["state"], {})
    with out.damaged():
        out.meta = json.loads(blob["meta"])
        _check_weights(blob["state"])
        out.spectrum = {k: v.numpy() for k, v in blob["spectrum"].items()}
        _check_values(out.meta)
    return out


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
    features = meta["pair_features"]
    if not (isinstance(features, list) and len(features) in (2, 3) and features[0] in PT_FEATURES
            and features[1:] in (["y"], ["y", "phi"]) and len(meta["norm"]["pair_mean"]) == len(features)):
        raise ValueError(f"unknown pair features {features!r}")
    if features[0] == "pt_probit" and not (isinstance(meta["norm"].get("pt_scale"), (int, float))
                                           and math.isfinite(meta["norm"]["pt_scale"]) and meta["norm"]["pt_scale"] > 0):
        raise ValueError("the pT feature's scale is missing or not positive")


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
