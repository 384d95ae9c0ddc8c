"""How to read dilepton files: one frozen set of options, passed whole from :func:`~gammastar.open_sample` to the
readers (:func:`~gammastar.io.pairs.read_dileptons`, :func:`~gammastar.io.stream.scan_dileptons`, and each Dask
worker's :func:`~gammastar.io.stream.file_sums`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..physics.beams import Beam
    from .acceptance import AcceptanceMap

__all__ = ["ReadOptions"]


@dataclass(frozen=True)
class ReadOptions:
    """The options of reading dilepton pairs (every one optional).

    lepton : {"e", "mu"}
        Force the lepton flavour; by default it is inferred from the leptons'
        invariant masses (a mixed or non-lepton sample is an error).
    n_collisions : float
        Collisions (or protons on target) the sample stands for; overrides the
        files' ``gammastar.n_collisions`` metadata.
    tree : str
        ROOT TTree or RNTuple name (``events`` for pair trees, ``Events`` for
        lepton collections, or the file's only one; ``FILE.root:NAME`` names it too).
    leptons : str
        Build pairs from the event-level collection of that name, any case
        (``Muon``: ``Muon_pt, _eta, _phi, _charge`` or ``Muon_Px, _Py, _Pz, _E,
        _Charge``; see :mod:`gammastar.io.readers.lepton_collections`), with the
        cuts ``min_pt`` (GeV) and ``max_abs_eta``.
    columns : mapping or "KEY=NAME,..." string
        The file's names for our column keys (see :mod:`gammastar.io.columns`):
        ``px_pos ... e_neg``, per leg ``px1 ... q2``, or ``pt1 ... q2``, and ``weight``.
    background : {"like-sign"}
        Subtract the combinatorial background with like-sign pairs
        (``like_sign_r`` = R, ``like_sign_bin`` = mass bin width in GeV):
        like-sign pairs join the sample with negative weights.  Needs charges
        (``leptons``, or per-leg columns).
    acceptance : path or AcceptanceMap
        Divide every pair's weight by its acceptance A(m, pT, y), floored at
        ``acceptance_floor`` (see :mod:`gammastar.io.acceptance`).
    beam : Beam
        The beams (:class:`~gammastar.physics.beams.Beam`); default: what the
        file records, else a 400 GeV proton beam on a fixed target (said in a
        note).  Pairs the beams cannot make are dropped with a warning when
        they are at most 1% of the sample, an error when more.
    chunk_size : int
        Pairs read at once from large files and directories (streamed).
    """

    lepton: str | None = None
    n_collisions: float | None = None
    tree: str | None = None
    leptons: str | None = None
    columns: Mapping[str, str] | str | None = None
    background: str | None = None
    min_pt: float | None = None
    max_abs_eta: float | None = None
    like_sign_r: float = 1.0
    like_sign_bin: float = 0.01
    acceptance: str | Path | AcceptanceMap | None = None
    acceptance_floor: float = 0.01
    beam: Beam | None = None
    chunk_size: int = 2_000_000

    @classmethod
    def of(cls, options: ReadOptions | None = None, **changes: Any) -> ReadOptions:
        """``options`` (default: none set) with ``changes``, keyword by keyword (a name that is not an option is a
        TypeError, as for any function)."""
        return dataclasses.replace(options or cls(), **changes)

    def set(self, *names: str) -> list[str]:
        """Those of ``names`` that are set (not None)."""
        return [n for n in names if getattr(self, n) is not None]
