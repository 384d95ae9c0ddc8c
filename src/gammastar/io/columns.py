"""Which columns of a pair file hold the pairs: three layouts, and ``--columns KEY=NAME`` to map any names.

The keys are ours; a file's own names are mapped onto them:

* **pairs** ``px_pos, py_pos, pz_pos, e_pos, px_neg, py_neg, pz_neg, e_neg``:
  the input schema, the positive lepton first;
* **legs** ``px1, py1, pz1, e1, q1, px2, py2, pz2, e2, q2``: two leptons in
  either order with their charges; they are oriented by charge, and same-sign
  candidates are dropped (or used by ``--background like-sign``);
* **polar** ``pt1, eta1, phi1, q1, pt2, eta2, phi2, q2``: as legs, with the
  energy from the PDG mass of the lepton (``--lepton``, or the file's e/mu
  masses cannot tell it: the flavour must be given).

``weight`` (optional) goes with any layout.  A key not mapped is looked for
under its own name, then under its own name in any case (``E1``, ``Q1``,
``PX_POS``); the first layout whose keys are all there is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GammastarError
from .legs import Legs, polar_four_momenta
from .readers import reader_for
from .readers.base import PAIR_COLUMNS, WEIGHT_COLUMN, PairFile

__all__ = ["LAYOUTS", "ColumnLayout", "parse_columns", "column_layout", "open_pairs"]

#: layout name -> its keys (``weight`` is optional with every layout)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "pairs": PAIR_COLUMNS,
    "legs": ("px1", "py1", "pz1", "e1", "q1", "px2", "py2", "pz2", "e2", "q2"),
    "polar": ("pt1", "eta1", "phi1", "q1", "pt2", "eta2", "phi2", "q2"),
}
KEYS = tuple(dict.fromkeys([k for keys in LAYOUTS.values() for k in keys] + [WEIGHT_COLUMN]))
_HELP = ("px_pos..e_neg; per leg px1, py1, pz1, e1, q1, px2, py2, pz2, e2, q2; or pt1, eta1, phi1, q1, "
         "pt2, eta2, phi2, q2; and weight")


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"KEY=NAME,KEY=NAME"`` (or a mapping) as {our key: the file's name}, keys checked."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        mapping: dict[str, str] = {}
        for item in (x.strip() for x in spec.split(",")):
            if not item:
                continue
            key, eq, name = item.partition("=")
            if not eq or not key.strip() or not name.strip():
                raise GammastarError(f"`columns` {spec!r}: use KEY=NAME,KEY=NAME (keys: {_HELP})")
            if key.strip() in mapping:
                raise GammastarError(f"`columns` {spec!r}: {key.strip()} is mapped twice")
            mapping[key.strip()] = name.strip()
    else:
        mapping = {str(k): str(v) for k, v in spec.items()}
    unknown = [k for k in mapping if k not in KEYS]
    if unknown:
        raise GammastarError(f"`columns`: unknown key(s) {', '.join(unknown)}; the keys are {_HELP}")
    return mapping


@dataclass(frozen=True)
class ColumnLayout:
    """A layout and, for each of its keys, the column of the file that holds it."""

    kind: str
    source: dict[str, str]

    @property
    def names(self) -> list[str]:
        """The file's columns to read (weight last, when there is one)."""
        return list(self.source.values())

    @property
    def oriented(self) -> bool:
        """The positive lepton is known from the layout (no charges to read)."""
        return self.kind == "pairs"

    def arrays(self, get: Callable[[str], np.ndarray], n: int, m_lepton: float | None) -> Legs:
        """The rows as :class:`~gammastar.io.legs.Legs` in float64 (``pairs``: charges +1, -1).

        ``get`` returns a column by the file's name; ``m_lepton`` is needed by ``polar``
        (:func:`gammastar.io.pairs.layout_pairs` asks for it).
        """
        def col(key: str) -> np.ndarray:
            return np.asarray(get(self.source[key]), dtype=float)

        weight = col(WEIGHT_COLUMN) if WEIGHT_COLUMN in self.source else np.ones(n)
        if self.kind == "polar":
            assert m_lepton is not None, "layout_pairs checks the flavour of pT, eta, phi columns"
            a, b = (polar_four_momenta(col(f"pt{i}"), col(f"eta{i}"), col(f"phi{i}"), m_lepton) for i in (1, 2))
            return Legs(a, b, col("q1"), col("q2"), weight)
        if self.kind == "legs":
            a, b = (np.column_stack([col(f"{v}{i}") for v in ("px", "py", "pz", "e")]) for i in (1, 2))
            return Legs(a, b, col("q1"), col("q2"), weight)
        a = np.column_stack([col(k) for k in PAIR_COLUMNS[:4]])
        b = np.column_stack([col(k) for k in PAIR_COLUMNS[4:]])
        return Legs(a, b, np.ones(n), -np.ones(n), weight)


def _find(key: str, names: list[str], lower: dict[str, list[str]]) -> str | None:
    if key in names:
        return key
    same = lower.get(key.lower(), [])
    return same[0] if len(same) == 1 else None


def column_layout(path: Path, names: list[str], columns: Mapping[str, str] | str | None = None) -> ColumnLayout:
    """The layout of a file with columns ``names``, using the mapping ``columns`` (``--columns``) first."""
    mapping = parse_columns(columns)
    absent = [f"{k}={v}" for k, v in mapping.items() if v not in names]
    if absent:
        raise GammastarError(f"{path}: `columns` {', '.join(absent)}: no such column (the file has: {_listing(names)})")
    lower: dict[str, list[str]] = {}
    for name in names:
        lower.setdefault(name.lower(), []).append(name)
    kinds = list(LAYOUTS)
    for key in mapping:
        if key != WEIGHT_COLUMN:
            kinds = [kind for kind in kinds if key in LAYOUTS[kind]]
    if not kinds:
        raise GammastarError(f"`columns` maps keys of more than one layout; use one of {_HELP}")
    for kind in kinds:
        found = {k: mapping.get(k) or _find(k, names, lower) for k in LAYOUTS[kind]}
        if all(found.values()):
            weight = mapping.get(WEIGHT_COLUMN) or _find(WEIGHT_COLUMN, names, lower)
            source = {k: str(v) for k, v in found.items()}
            if weight:
                source[WEIGHT_COLUMN] = weight
            return ColumnLayout(kind, source)
    # name what the nearest layout lacks
    lacking = {kind: [k for k in LAYOUTS[kind] if not (mapping.get(k) or _find(k, names, lower))] for kind in kinds}
    missing = min(lacking.values(), key=len)
    collections = sorted({n.rsplit("_", 1)[0] for n in names if n.lower().endswith("_charge")})
    more = f"; or pair the leptons of a collection with `leptons={collections[0]}`" if collections else ""
    raise GammastarError(f"{path}: missing column(s) {', '.join(missing)} (the file has {_listing(names)}); "
                         f"map yours with `columns=KEY=NAME,...` (keys px_pos..e_neg, px1..q2 or pt1..q2, weight){more}")


def _listing(names: list[str], most: int = 30) -> str:
    return ", ".join(names[:most]) + (f" ... ({len(names)} in all)" if len(names) > most else "")


def open_pairs(path: str | Path, tree: str | None = None, columns: Mapping[str, str] | str | None = None) -> PairFile:
    """Open a pair file of any registered format (existence and emptiness checked) and find its column layout.

    ``columns`` maps the file's names onto ours (:mod:`gammastar.io.columns`);
    the layout is the PairFile's ``layout``.
    """
    path = Path(path)
    pf = reader_for(path)(path, tree)
    pf.layout = column_layout(path, pf.names, columns)
    return pf
