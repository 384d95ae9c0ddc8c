"""Dilepton pairs in: the input schema, its validation, and reading or writing one pair file.

One row per opposite-sign lepton pair, lab frame, GeV, beam along +z::

    px_pos, py_pos, pz_pos, e_pos, px_neg, py_neg, pz_neg, e_neg [, weight]

in any registered pair-file format (:mod:`gammastar.io.readers`: Parquet,
CSV, ROOT TTrees and RNTuples), under other names or as two unordered legs
with charges (:mod:`gammastar.io.columns`, ``--columns``), or built from
event-level lepton collections (:mod:`gammastar.io.readers.lepton_collections`).  Parquet files may carry the
number of collisions the sample stands for as key-value metadata
``gammastar.n_collisions``.  Every pair is checked (finite, E >= |p|, a lepton
mass that is e or mu; E >= |p| up to float32 rounding, :data:`~.legs.M2_REL_TOL`)
before it becomes an :class:`~gammastar.samples.EventSample`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import GammastarError
from ..physics.beams import Beam
from ..physics.kinematics import pair_kinematics
from ..physics.pdg import mass
from ..samples import EventSample, check_lepton
from .acceptance import AcceptanceMap, read_acceptance
from .atomic import atomic_path
from .columns import ColumnLayout, open_pairs
from .legs import OrientedPairs, infer_lepton, lepton_counts, lepton_from_counts, mass_squared, oriented_pairs
from .options import ReadOptions
from .readers import PAIR_COLUMNS, WEIGHT_COLUMN, reader_for
from .readers.lepton_collections import pairs_from_events
from .readers.root import RootPairs, split_object_path

__all__ = [
    "PAIR_COLUMNS",
    "WEIGHT_COLUMN",
    "N_COLLISIONS_KEY",
    "TRUTH_KEY",
    "BEAM_ENERGY_KEY",
    "BEAM_KEY",
    "beam_of",
    "resolve_beam",
    "within_beams",
    "warn_beyond_beams",
    "read_dileptons",
    "write_dileptons",
    "validated_pairs",
    "with_acceptance",
    "layout_pairs",
]

log = logging.getLogger("gammastar")

N_COLLISIONS_KEY = "gammastar.n_collisions"
TRUTH_KEY = "gammastar.truth"
BEAM_ENERGY_KEY = "gammastar.beam_energy"
#: the beams as text, ``fixed-target:E`` or ``collider:SQRT_S`` (see :class:`~gammastar.physics.beams.Beam`)
BEAM_KEY = "gammastar.beam"
#: more than this fraction of pairs beyond what the beams can make means the beams are wrong, not the pairs
BEYOND_BEAMS_MAX = 0.01

#: |momentum| or energy (GeV) beyond any accelerator: larger values are units or corruption (and overflow E^2)
MAX_GEV = 1e8


def layout_pairs(
    path: Path, layout: ColumnLayout, get: Callable[[str], np.ndarray], n: int, lepton: str | None,
    background: str | None = None, r: float = 1.0, bin_width: float = 0.01,
) -> tuple[OrientedPairs, str | None]:
    """The rows of a file in ``layout`` as oriented pairs, and the flavour (None: to be inferred from the pairs).

    ``get`` returns one of the file's columns by name.  Per-leg layouts are
    oriented by charge (same-sign rows dropped, or weighted with like-sign).
    """
    if layout.kind == "polar" and lepton is None:
        raise GammastarError(f"{path}: pT, eta, phi columns need the lepton flavour for the energy: pass `lepton=e|mu`")
    legs = layout.arrays(get, n, None if lepton is None else mass(lepton))
    if layout.oriented:
        if background is not None:
            raise GammastarError(f"`background={background}` needs the leptons' charges: lepton collections "
                                 "(`leptons`) or per-leg columns with q1, q2")
        return OrientedPairs(legs.a, legs.b, legs.weight, n, 0, 0), lepton
    if lepton is None:
        lepton = infer_lepton(path, legs.a, legs.b)
    op = oriented_pairs(legs, mass(lepton), background, r, bin_width)
    if not len(op.pos):
        raise GammastarError(f"{path}: no opposite-sign pairs ({op.describe()})")
    return op, lepton


def validated_pairs(
    path: Path, pos: np.ndarray, neg: np.ndarray, weight: np.ndarray, lepton: str | None,
    n_collisions: float | None, meta: dict[str, str],
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
        m2, tol = mass_squared(p)
        unphysical = (p[:, 3] < 0) | (m2 < -tol)
        if unphysical.any():
            bad = np.flatnonzero(unphysical)
            raise GammastarError(
                f"{path}: {bad.size} row(s) are unphysical, E < |p| (first at row {bad[0]})"
            )
        ne, nmu, other = lepton_counts(m2, tol)
        n_e, n_mu = n_e + ne, n_mu + nmu
        others.append(other)
        del m2, tol, unphysical
    not_leptons = np.concatenate(others)
    if lepton is None:
        lepton = lepton_from_counts(n_e, n_mu, not_leptons, path)
    elif not_leptons.size or (n_e if lepton == "mu" else n_mu):
        warnings.warn(
            f"{path}: the leptons' masses do not all look like {lepton} "
            f"({n_e} e-like, {n_mu} mu-like, {not_leptons.size} neither); using `lepton={lepton}` as asked",
            stacklevel=4,
        )

    if n_collisions is None and N_COLLISIONS_KEY in meta:
        try:
            n_collisions = float(meta[N_COLLISIONS_KEY])
        except ValueError:
            raise GammastarError(f"{path}: metadata {N_COLLISIONS_KEY}={meta[N_COLLISIONS_KEY]!r} is not a number") from None
    return EventSample(pos, neg, weight, check_lepton(lepton), n_collisions, str(path), meta)


def beam_of(meta: dict[str, str]) -> Beam | None:
    """The beams a file's metadata record (``gammastar.beam``, or the older ``gammastar.beam_energy``), or None."""
    if BEAM_KEY in meta:
        return Beam.from_text(meta[BEAM_KEY])
    if BEAM_ENERGY_KEY in meta:
        return Beam.fixed_target(float(meta[BEAM_ENERGY_KEY]))
    return None


def resolve_beam(beam: Beam | None, meta: dict[str, str], where: str) -> Beam:
    """The beams given, else those the metadata record, else the default fixed target (said in a note)."""
    recorded = beam_of(meta)
    if beam is not None:
        if recorded is not None and recorded != beam:
            log.info(f"{where} records {recorded.describe()}; using {beam.describe()} as given")
        return beam
    if recorded is not None:
        return recorded
    assumed = Beam()
    log.info(f"no `beam`, and {where} does not say: assuming {assumed.describe()}")
    return assumed


def within_beams(ds: EventSample, beam: Beam, where: str) -> tuple[EventSample, int]:
    """``ds`` without the pairs ``beam`` cannot make (mass above sqrt(s), energy above the collision's), and their number.

    More than :data:`BEYOND_BEAMS_MAX` of them is an error naming the flags
    that set the beams: the beams, not the pairs, are wrong.  Fewer are
    mismeasured leptons: the caller says how many were dropped
    (:func:`warn_beyond_beams`).
    """
    energy = ds.pos[:, 3] + ds.neg[:, 3]
    bad = beam.beyond(ds.mass, energy)
    n_bad = int(bad.sum())
    if n_bad > BEYOND_BEAMS_MAX * len(ds):
        raise GammastarError(
            f"{where}: {n_bad} of {len(ds)} pairs ({n_bad / len(ds):.0%}) are beyond what {beam.describe()} can make "
            f"(pair masses up to {ds.mass.max():.4g} GeV, energies up to {energy.max():.4g} GeV): give the beams with "
            "`beam=Beam.fixed_target(E)` (a fixed target) or `beam=Beam.collider(SQRT_S)` (a symmetric collider)")
    return (ds.select(~bad) if n_bad else ds), n_bad


def warn_beyond_beams(where: str, n_dropped: int, beam: Beam) -> None:
    """The warning for pairs dropped by :func:`within_beams`, when there were any."""
    if n_dropped:
        warnings.warn(f"{where}: {n_dropped} pair(s) beyond what {beam.describe()} can make are dropped "
                      "(mismeasured leptons?)", stacklevel=3)


def with_acceptance(ds: EventSample, acceptance: str | Path | AcceptanceMap | None, floor: float) -> EventSample:
    """Divide every pair's weight by its acceptance A(m, pT, y), floored (see :mod:`gammastar.io.acceptance`)."""
    if acceptance is None:
        return ds
    amap = acceptance if isinstance(acceptance, AcceptanceMap) else read_acceptance(acceptance)
    k = pair_kinematics(ds.pos, ds.neg)
    ds.weight = amap.correct(ds.weight, ds.mass, k.pt, k.y, floor)
    ds.below_floor = amap(ds.mass, k.pt, k.y) < floor  # where the support ends (gammastar.rates.support)
    ds.metadata["gammastar.acceptance"] = amap.source
    return ds


def read_dileptons(path: str | Path, options: ReadOptions | None = None, **keywords: Any) -> EventSample:
    """Read and validate the dilepton pairs of one file into memory.

    ``path`` is a pair file of any registered format (``.parquet``/``.pq``, ``.csv``/``.csv.gz``, ``.root``): a
    ROOT file is a flat TTree or RNTuple of pair columns or, with ``leptons``, events with lepton collections.
    ``options`` (a :class:`~gammastar.io.options.ReadOptions`), or its fields as keywords (``lepton=``,
    ``n_collisions=``, ``tree=``, ``leptons=``, ``columns=``, ``background=``, ``acceptance=``, ``beam=``, ...),
    say how.  Any unreadable, empty, incomplete or unphysical input is a :class:`GammastarError` naming the problem.
    """
    o = ReadOptions.of(options, **keywords)
    path, tree = split_object_path(path, o.tree)
    lepton = None if o.lepton is None else check_lepton(o.lepton)
    if o.leptons is not None:
        if o.columns:
            raise GammastarError("`columns` maps the columns of pair files; `leptons` reads a collection by its name")
        ds = _pairs_from_collection(path, lepton, o.n_collisions, tree, o.leptons, o.background, o.min_pt,
                                    o.max_abs_eta, o.like_sign_r, o.like_sign_bin)
    else:
        if o.min_pt is not None or o.max_abs_eta is not None:
            raise GammastarError("`min_pt` and `max_abs_eta` select leptons when pairs are built (`leptons`)")
        ds = _pairs_from_file(path, lepton, o.n_collisions, tree, o.columns, o.background, o.like_sign_r,
                              o.like_sign_bin)
    ds.beam = beams = resolve_beam(o.beam, ds.metadata, str(path))
    ds, dropped = within_beams(ds, beams, str(path))
    warn_beyond_beams(str(path), dropped, beams)
    return with_acceptance(ds, o.acceptance, o.acceptance_floor)


def _pairs_from_collection(
    path: Path, lepton: str | None, n_collisions: float | None, tree: str | None, leptons: str,
    background: str | None, min_pt: float | None, max_abs_eta: float | None, r: float, bin_width: float,
) -> EventSample:
    if reader_for(path) is not RootPairs:
        raise GammastarError(f"{path}: `leptons` needs a ROOT file with event-level lepton collections")
    lp = pairs_from_events(path, leptons, tree, min_pt=min_pt, max_abs_eta=max_abs_eta, background=background, r=r,
                           bin_width=bin_width, lepton=lepton)
    return validated_pairs(path, lp.pos, lp.neg, lp.weight, lp.lepton, n_collisions, {"gammastar.pairs": lp.describe()})


def _pairs_from_file(
    path: Path, lepton: str | None, n_collisions: float | None, tree: str | None,
    columns: Mapping[str, str] | str | None, background: str | None, r: float, bin_width: float,
) -> EventSample:
    pf = open_pairs(path, tree, columns)
    layout = pf.layout
    n = pf.num_rows
    if n == 0:
        raise GammastarError(f"{path}: file contains no pairs")
    bar = tqdm(total=len(layout.names), desc=f"reading {path.name}", unit="col", delay=1.0, leave=False)

    def get(name: str) -> np.ndarray:
        bar.update()
        return pf.column(name)

    with bar:
        op, lepton = layout_pairs(path, layout, get, n, lepton, background, r, bin_width)
    meta = dict(pf.meta)
    if not layout.oriented:
        meta["gammastar.pairs"] = op.describe()
        dropped = op.n_plus_plus + op.n_minus_minus
        if dropped and background is None:
            log.info(f"{path}: {dropped} same-sign rows dropped ({op.describe()}); "
                     "`background=like-sign` subtracts the combinatorial background with them")
    return validated_pairs(path, op.pos, op.neg, op.weight, lepton, n_collisions, meta)


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
    if data.beam is not None:
        meta[BEAM_KEY] = data.beam.to_text()
    if data.n_collisions is not None:
        meta[N_COLLISIONS_KEY] = repr(data.n_collisions)
    with atomic_path(path) as tmp:
        fmt.write(tmp, cols, meta, path)
    return path
