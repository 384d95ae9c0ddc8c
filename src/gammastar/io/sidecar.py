"""Metadata beside files that cannot hold it: ``NAME.meta.json`` next to a CSV (or ``.csv.gz``) file.

CSV has no place for key-value metadata (n_collisions, lepton, beam, what a
table holds), so writers put it in a sidecar named after the whole file name
(``pairs.csv`` -> ``pairs.csv.meta.json``)::

    {"file": "pairs.csv", "sha256": "...", "metadata": {"gammastar.n_collisions": "1e9", ...}}

The checksum ties the sidecar to the bytes it describes: readers take its
metadata only when the file matches, so a sidecar left beside a file that was
since replaced (or by a write that was interrupted) is ignored, with a note.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from .atomic import write_text
from .jsontext import dumps

__all__ = ["sidecar_path", "write_sidecar", "read_sidecar"]

log = logging.getLogger("gammastar")


def sidecar_path(path: str | Path) -> Path:
    """``NAME.meta.json`` beside ``NAME``."""
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def write_sidecar(written: str | Path, target: str | Path, metadata: dict[str, Any]) -> Path:
    """Write the sidecar of ``target`` (atomically) for the bytes now at ``written`` (the file's temporary name)."""
    target = Path(target)
    return write_text(sidecar_path(target), dumps({"file": target.name, "sha256": _sha256(Path(written)),
                                                   "metadata": metadata}) + "\n")


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """The metadata of ``path``'s sidecar; {} when there is none or it describes other bytes."""
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        record = json.loads(side.read_text())
        meta, digest = record["metadata"], record["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        log.info(f"{side}: not a gammastar sidecar; its metadata are ignored")
        return {}
    if not isinstance(meta, dict) or digest != _sha256(Path(path)):
        log.info(f"{side} describes another version of {Path(path).name}; its metadata are ignored")
        return {}
    return meta
