"""ROOT inputs via uproot: TTrees and RNTuples alike, named by ``--tree NAME`` or ``FILE.root:NAME``.

A pair file is a flat tree of the pair columns (default name ``events``, or
the file's only tree); lepton collections are read by
:mod:`.lepton_collections` from the same kind of object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import GammastarError, describe
from ..atomic import deterministic_uuid
from .base import PairFile

__all__ = ["RootPairs", "open_root", "open_tree", "split_object_path", "uproot_errors", "STORAGES"]

#: the uproot class names of what holds rows: the classic TTree and ROOT 6.34's RNTuple
STORAGES = ("TTree", "ROOT::RNTuple")


@contextmanager
def uproot_errors(path: Path, what: str) -> Iterator[None]:
    """Errors while uproot decodes a file (damaged baskets, bad compression) as one-line GammastarErrors."""
    try:
        yield
    except GammastarError:
        raise
    except Exception as exc:  # uproot and its decompressors raise many types for damaged files
        raise GammastarError(f"{path}: cannot read {what} ({describe(exc, 120)})") from None


def open_root(path: Path) -> Any:
    """An open ROOT file, or a one-line error for a file that is not one."""
    import uproot

    try:
        return uproot.open(path)
    except Exception as exc:  # uproot raises many types for non-ROOT files
        raise GammastarError(f"{path}: cannot read as ROOT ({describe(exc, 120)})") from None


def split_object_path(path: str | Path, tree: str | None) -> tuple[Path, str | None]:
    """``FILE.root:NAME`` (uproot's notation) as (FILE.root, NAME); other paths unchanged.

    A ``--tree`` that names another object than the path is an error.
    """
    text = str(path)
    match = re.fullmatch(r"(.*\.root):([^:]+)", text, flags=re.IGNORECASE | re.DOTALL)
    if match is None or Path(text).exists():
        return Path(path), tree
    name = match.group(2).strip("/")
    if tree is not None and tree != name:
        raise GammastarError(f"{text} names the tree {name!r} and `tree={tree}` another: give one")
    return Path(match.group(1)), name


def open_tree(path: Path, tree: str | None, default: str) -> Any:
    """The TTree or RNTuple ``tree`` of a ROOT file (``None``: ``default``, else the file's only one).

    One-line errors for missing files, non-ROOT files and wrong names; a name
    that matches one object up to case is taken.
    """
    if not path.is_file():
        raise GammastarError(f"{path}: no such file")
    f = open_root(path)
    with uproot_errors(path, "the file's directory"):
        objects = list(dict.fromkeys(k.split(";")[0] for k, cls in f.classnames().items() if cls in STORAGES))
    found = f"(trees and RNTuples: {', '.join(objects) or 'none'})"
    if tree is None:
        if default in objects or len(objects) != 1:
            tree = default
        else:
            tree = objects[0]
    if tree not in objects:
        same = [o for o in objects if o.lower() == tree.lower()]
        if len(same) != 1:
            hint = "; name one with `tree=NAME` or FILE.root:NAME" if objects else ""
            raise GammastarError(f"{path}: no tree {tree!r} {found}{hint}")
        tree = same[0]
    with uproot_errors(path, f"tree {tree!r}"):
        return f[tree]


class RootPairs(PairFile):
    """A flat TTree or RNTuple; branches (fields) are read one at a time.  No metadata is stored."""

    format = "root"
    suffixes = (".root",)
    listed = (".root",)

    def _open(self, tree: str | None) -> None:
        self._tree = open_tree(self.path, tree, "events")
        with uproot_errors(self.path, "the tree's branches"):
            self.names = list(self._tree.keys())
            self.num_rows = int(self._tree.num_entries)

    def column(self, name: str) -> np.ndarray:
        with uproot_errors(self.path, f"branch {name}"):
            arr = np.asarray(self._tree[name].array(library="np"))
        return self._numeric(arr, name)

    def _numeric(self, arr: np.ndarray, name: str) -> np.ndarray:
        if arr.dtype == object or arr.dtype.kind not in "fiu":
            raise GammastarError(f"{self.path}: branch {name} is not a flat numeric branch")
        return arr

    def batches(self, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
        with uproot_errors(self.path, "the tree"):
            for b in self._tree.iterate(names, step_size=chunk, library="np"):
                yield {n: self._numeric(np.asarray(b[n]), n) for n in names}

    @classmethod
    def write(cls, path: Path, columns: dict[str, np.ndarray], meta: dict[str, str], target: Path) -> None:
        import uproot

        # through a file object, with a UUID from the metadata: no temporary name or random UUID in the header
        with open(path, "r+b") as fh, uproot.recreate(fh, uuid_function=lambda: deterministic_uuid(meta)) as f:
            branches = {k: np.asarray(v) for k, v in columns.items()}
            # mktree: a TTree (plain assignment would make an RNTuple)
            f.mktree("events", {k: v.dtype for k, v in branches.items()}).extend(branches)

    @classmethod
    def is_large(cls, path: Path) -> bool:
        return False
