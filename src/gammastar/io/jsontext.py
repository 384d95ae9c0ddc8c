"""Strict JSON out: what ``--json``, truth files and summaries print, readable by any JSON parser.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON; here
every non-finite number becomes ``null`` (the producers give the reason
beside it where one can occur), numpy scalars and arrays become plain
numbers and lists, and anything else non-serialisable is an error.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["dumps", "strict"]


def strict(obj: Any) -> Any:
    """``obj`` with non-finite floats as None and numpy values as Python ones, recursively."""
    if isinstance(obj, dict):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict(obj.tolist())
    if isinstance(obj, np.generic):
        return strict(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any, indent: int | None = 1) -> str:
    """Strict JSON text of ``obj`` (see the module docstring)."""
    return json.dumps(strict(obj), indent=indent, allow_nan=False)
