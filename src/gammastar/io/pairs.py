"""Dilepton pairs in: the input schema, its validation, and reading or writing one pair file.

One row per opposite-sign lepton pair, lab frame, GeV, beam along +z::

    px_pos, py_pos, pz_pos, e_pos, px_neg, py_neg, pz_neg, e_neg [, weight]

in any registered pair-file format (:mod:`gammastar.io.readers`: Parquet,
CSV, ROOT pair trees), or built from event-level lepton collections
(:mod:`gammastar.io.readers.lepton_collections`).  Parquet files may carry the
number of collisions the sample stands for as key-value metadata
``gammastar.n_collisions``.  Every pair is checked (finite, E >= |p|, a lepton
mass that is e or mu) before it becomes an :class:`~gammastar.samples.EventSample`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from ..errors import GammastarError
from ..physics.pdg import mass
from ..samples import EventSample, check_lepton
from .atomic import atomic_path
from .readers import PAIR_COLUMNS, WEIGHT_COLUMN, open_pairs, reader_for

if TYPE_CHECKING:
    from .acceptance import AcceptanceMap

__all__ = [
    "PAIR_COLUMNS",
    "WEIGHT_COLUMN",
    "N_COLLISIONS_KEY",
    "TRUTH_KEY",
    "BEAM_ENERGY_KEY",
    "read_dileptons",
    "write_dileptons",
    "validated_pairs",
    "with_acceptance",
    "m2_tolerance",
    "pair_arrays",
]

N_COLLISIONS_KEY = "gammastar.n_collisions"
TRUTH_KEY = "gammastar.truth"
BEAM_ENERGY_KEY = "gammastar.beam_energy"

#: |momentum| or energy (GeV) beyond any accelerator: larger values are units or corruption (and overflow E^2)
MAX_GEV = 1e8

# Rounding allowance on E^2 - p^2 relative to E^2: float32 inputs round E
# and p at 6e-8, so their m^2 is only known to a few 1e-7 E^2; float64 to 1e-15.
_M2_REL_TOL = {4: 4e-7, 8: 1e-13}


def m2_tolerance(itemsize: int) -> float:
    """Relative rounding allowance on E^2 - p^2 for columns stored with ``itemsize`` bytes per number."""
    return _M2_REL_TOL[4] if itemsize < 8 else _M2_REL_TOL[8]


def pair_arrays(
    get: Callable[[str], np.ndarray], names: Iterable[str], n: int, columns: Iterable[str] = PAIR_COLUMNS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(pos, neg, weight, E^2 - p^2 tolerance) in float64 from the ``n`` rows of columns ``get(name)``.

    ``names`` are the columns there are (weight 1 without a weight column);
    ``columns`` is :data:`PAIR_COLUMNS`, possibly wrapped in a progress bar.
    The tolerance follows the narrowest type stored (float32 rounds E and p).
    """
    pos, neg = np.empty((n, 4)), np.empty((n, 4))
    itemsize = 8
    for j, name in enumerate(columns):
        col = get(name)
        itemsize = min(itemsize, col.dtype.itemsize)
        (pos if j < 4 else neg)[:, j % 4] = col
    weight = get(WEIGHT_COLUMN).astype(float) if WEIGHT_COLUMN in names else np.ones(n)
    return pos, neg, weight, m2_tolerance(itemsize)


def _lepton_counts(m2: np.ndarray, tol: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(n_e, n_mu, masses of non-leptons) from squared masses m2 = E^2 - p^2 (+- tol).

    Leptons so energetic that rounding blurs e and mu count as neither.
    """
    m_mu2 = mass("mu") ** 2
    is_e = np.abs(m2 - mass("e") ** 2) <= 0.25 * m_mu2 + tol
    is_mu = np.abs(m2 - m_mu2) <= 0.25 * m_mu2 + tol
    other = ~(is_e | is_mu)
    return int((is_e & ~is_mu).sum()), int((is_mu & ~is_e).sum()), np.sqrt(np.abs(m2[other]))


def _infer_lepton(n_e: int, n_mu: int, others: np.ndarray, path: Path) -> str:
    if others.size:
        raise GammastarError(
            f"{path}: {others.size} lepton(s) have a mass that is neither e nor mu "
            f"(e.g. {others[0]:.4g} GeV); pass --lepton e|mu only if the energies are unreliable"
        )
    if n_e and n_mu:
        raise GammastarError(f"{path}: mixed sample, {n_e} leptons look like electrons and {n_mu} like muons")
    if n_e + n_mu == 0:
        raise GammastarError(f"{path}: the energies are too imprecise to tell e from mu; pass --lepton e|mu")
    return "e" if n_e else "mu"


def validated_pairs(
    path: Path, pos: np.ndarray, neg: np.ndarray, weight: np.ndarray, lepton: str | None,
    n_collisions: float | None, meta: dict[str, str], rel_tol: float,
) -> EventSample:
    """Check finiteness, E >= |p| and the lepton flavour; attach the normalisation.

    ``n_collisions`` (a flag) wins over the ``gammastar.n_collisions`` of ``meta``.
    """
    finite = np.isfinite(pos).all(axis=1) & np.isfinite(neg).all(axis=1) & np.isfinite(weight)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise GammastarError(
            f"{path}: {bad.size} row(s) have NaN or infinite values (first at row {bad[0]})"
        )
    huge = (np.abs(pos) > MAX_GEV).any(axis=1) | (np.abs(neg) > MAX_GEV).any(axis=1)
    if huge.any():
        bad = np.flatnonzero(huge)
        raise GammastarError(f"{path}: {bad.size} row(s) have a momentum or energy above {MAX_GEV:.0e} GeV, beyond any "
                             f"accelerator (first at row {bad[0]}); are the units GeV?")

    n_e = n_mu = 0
    others = []
    for p in (pos, neg):
        e2 = p[:, 3] ** 2
        tol = rel_tol * e2 + 1e-12
        m2 = e2 - np.einsum("ij,ij->i", p[:, :3], p[:, :3])
        del e2
        unphysical = (p[:, 3] < 0) | (m2 < -tol)
        if unphysical.any():
            bad = np.flatnonzero(unphysical)
            raise GammastarError(
                f"{path}: {bad.size} row(s) are unphysical, E < |p| (first at row {bad[0]})"
            )
        ne, nmu, other = _lepton_counts(m2, tol)
        n_e, n_mu = n_e + ne, n_mu + nmu
        others.append(other)
        del m2, tol, unphysical
    not_leptons = np.concatenate(others)
    if lepton is None:
        lepton = _infer_lepton(n_e, n_mu, not_leptons, path)
    elif not_leptons.size or (n_e if lepton == "mu" else n_mu):
        warnings.warn(
            f"{path}: the leptons' masses do not all look like {lepton} "
            f"({n_e} e-like, {n_mu} mu-like, {not_leptons.size} neither); using --lepton {lepton} as asked",
            stacklevel=4,
        )

    if n_collisions is None and N_COLLISIONS_KEY in meta:
        try:
            n_collisions = float(meta[N_COLLISIONS_KEY])
        except ValueError:
            raise GammastarError(f"{path}: metadata {N_COLLISIONS_KEY}={meta[N_COLLISIONS_KEY]!r} is not a number") from None
    return EventSample(pos, neg, weight, lepton, n_collisions, str(path), meta)


def with_acceptance(ds: EventSample, acceptance: str | Path | AcceptanceMap | None, floor: float) -> EventSample:
    """Divide every pair's weight by its acceptance A(m, pT, y), floored (see :mod:`gammastar.io.acceptance`)."""
    if acceptance is None:
        return ds
    from ..physics.kinematics import pair_kinematics
    from .acceptance import AcceptanceMap, read_acceptance

    amap = acceptance if isinstance(acceptance, AcceptanceMap) else read_acceptance(acceptance)
    k = pair_kinematics(ds.pos, ds.neg)
    ds.weight = amap.correct(ds.weight, ds.mass, k.pt, k.y, floor)
    ds.metadata["gammastar.acceptance"] = amap.source
    return ds


def read_dileptons(
    path: str | Path, *, lepton: str | None = None, n_collisions: float | None = None, tree: str | None = None,
    leptons: str | None = None, background: str | None = None, min_pt: float | None = None,
    max_abs_eta: float | None = None, like_sign_r: float = 1.0, like_sign_bin: float = 0.01,
    acceptance: str | Path | AcceptanceMap | None = None, acceptance_floor: float = 0.01,
) -> EventSample:
    """Read and validate the dilepton pairs of one file into memory.

    Parameters
    ----------
    path : str or Path
        A pair file of any registered format (``.parquet``/``.pq``,
        ``.csv``/``.csv.gz``, ``.root``): a ROOT file is a flat TTree of the
        pair columns (``tree``, default ``events``) or, with ``leptons``,
        events with lepton collections.
    lepton : {"e", "mu"}, optional
        Force the lepton flavour; by default it is inferred from the leptons'
        invariant masses (a mixed or non-lepton sample is an error).
    n_collisions : float, optional
        Collisions the sample stands for; overrides the file's
        ``gammastar.n_collisions`` metadata.
    tree : str, optional
        ROOT tree name (``events`` for pair trees, ``Events`` for NanoAOD).
    leptons : {"Muon", "Electron"}, optional
        Build pairs from the event-level collection ``{leptons}_pt, _eta,
        _phi, _charge`` (see :mod:`gammastar.io.readers.lepton_collections`),
        with the cuts ``min_pt`` (GeV) and ``max_abs_eta``.
    background : {"like-sign"}, optional
        Subtract the combinatorial background with like-sign pairs
        (``like_sign_r`` = R, ``like_sign_bin`` = mass bin width in GeV):
        like-sign pairs join the sample with negative weights.
    acceptance : path or AcceptanceMap, optional
        Divide every pair's weight by its acceptance A(m, pT, y), floored at
        ``acceptance_floor`` (see :mod:`gammastar.io.acceptance`).

    Raises
    ------
    GammastarError
        On any unreadable, empty, incomplete or unphysical input, with a
        one-line message naming the problem.
    """
    path = Path(path)
    if lepton is not None:
        check_lepton(lepton, "--lepton")
    if leptons is not None:
        ds = _pairs_from_collection(path, lepton, n_collisions, tree, leptons, background, min_pt, max_abs_eta,
                                    like_sign_r, like_sign_bin)
    else:
        if background is not None:
            raise GammastarError(f"--background {background} needs event-level leptons: a ROOT file and --leptons")
        if min_pt is not None or max_abs_eta is not None:
            raise GammastarError("--min-pt and --max-abs-eta select leptons when pairs are built (--leptons)")
        ds = _pairs_from_file(path, lepton, n_collisions, tree)
    return with_acceptance(ds, acceptance, acceptance_floor)


def _pairs_from_collection(
    path: Path, lepton: str | None, n_collisions: float | None, tree: str | None, leptons: str,
    background: str | None, min_pt: float | None, max_abs_eta: float | None, r: float, bin_width: float,
) -> EventSample:
    from .readers.lepton_collections import COLLECTIONS, pairs_from_events
    from .readers.root import RootPairs

    if reader_for(path) is not RootPairs:
        raise GammastarError(f"{path}: --leptons needs a ROOT file with event-level lepton collections")
    if lepton is not None and COLLECTIONS.get(leptons) not in (None, lepton):
        raise GammastarError(f"--lepton {lepton} contradicts --leptons {leptons}")
    lp = pairs_from_events(path, leptons, tree or "Events", min_pt=min_pt, max_abs_eta=max_abs_eta,
                           background=background, r=r, bin_width=bin_width)
    meta = {"gammastar.pairs": f"{lp.n_opposite} opposite-sign, {lp.n_plus_plus} ++, {lp.n_minus_minus} --"}
    return validated_pairs(path, lp.pos, lp.neg, lp.weight, lp.lepton, n_collisions, meta, m2_tolerance(8))


def _pairs_from_file(path: Path, lepton: str | None, n_collisions: float | None, tree: str | None) -> EventSample:
    columns = open_pairs(path, tree)
    n = columns.num_rows
    if n == 0:
        raise GammastarError(f"{path}: file contains no pairs")

    bar = tqdm(PAIR_COLUMNS, desc=f"reading {path.name}", unit="col", delay=1.0, leave=False)
    pos, neg, weight, rel_tol = pair_arrays(columns.column, columns.names, n, bar)
    meta = columns.meta
    del columns
    return validated_pairs(path, pos, neg, weight, lepton, n_collisions, meta, rel_tol)


def write_dileptons(
    path: str | Path, data: EventSample, extra_columns: dict[str, np.ndarray] | None = None
) -> Path:
    """Write pairs in the input schema, in the format of the file name (any registered pair format).

    Formats that store metadata (Parquet) carry ``gammastar.n_collisions``
    (when known) and the sample's other ``gammastar.*`` metadata.  The file is
    written under a temporary name and renamed on success, so an interrupted
    write never leaves a complete-looking file.
    """
    path = Path(path)
    fmt = reader_for(path)
    cols = {name: (data.pos if j < 4 else data.neg)[:, j % 4] for j, name in enumerate(PAIR_COLUMNS)}
    cols[WEIGHT_COLUMN] = data.weight
    cols.update(extra_columns or {})
    meta = {k: v for k, v in data.metadata.items() if k.startswith("gammastar.")}
    if data.n_collisions is not None:
        meta[N_COLLISIONS_KEY] = repr(data.n_collisions)
    with atomic_path(path) as tmp:
        fmt.write(tmp, cols, meta, path)
    return path
