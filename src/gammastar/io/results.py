"""Yield tables out as CSV (``--csv``): one row per mass, the rest of the result in the sidecar.

Columns are the per-mass arrays of a result's ``to_dict()`` (``mass``,
``n_per_eps2``, ``n_err``, ...; ``m_chi`` for mCP), in the same names as the
JSON keys, plus ``failed``: empty, or why that mass could not be estimated
(its values are then empty too).  Everything else (normalisation, lepton,
n_collisions, the data) goes to ``NAME.meta.json`` (:mod:`gammastar.io.sidecar`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .atomic import atomic_path
from .readers.csv import CsvPairs

__all__ = ["write_yield_csv"]


def write_yield_csv(path: str | Path, result: dict[str, Any], key: str = "mass") -> Path:
    """Write ``result`` (a yield's ``to_dict()`` and extras) as CSV with a sidecar, atomically."""
    path = Path(path)
    n = len(result[key])
    reasons = {f[key]: f["reason"] for f in result.get("failed", [])}
    columns: dict[str, Any] = {}
    meta: dict[str, str] = {}
    for k, v in result.items():
        if k == "failed":
            continue
        if isinstance(v, list) and len(v) == n:  # NaN (a failed mass) and None become empty cells
            kinds = {type(x) for x in v if x is not None}
            if kinds <= {int, float}:
                columns[k] = pa.array(np.array([np.nan if x is None else x for x in v], dtype=float), from_pandas=True)
            else:
                columns[k] = pa.array(v)
        else:
            meta[f"gammastar.{k}"] = v if isinstance(v, str) else json.dumps(v)
    columns["failed"] = pa.array([reasons.get(m) for m in result[key]], type=pa.string())
    with atomic_path(path) as tmp:
        CsvPairs.write(tmp, columns, meta, path)
    return path
