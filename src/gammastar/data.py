"""Dilepton data in: the input schema, readers, validation and pair kinematics.

One row per opposite-sign lepton pair, lab frame, GeV, beam along +z::

    px_pos, py_pos, pz_pos, e_pos, px_neg, py_neg, pz_neg, e_neg [, weight]

Parquet (``.parquet``, ``.pq``) and CSV (``.csv``, ``.csv.gz``) carry the
same columns.  Parquet files may carry the number of collisions the sample
stands for as key-value metadata ``gammastar.n_collisions``.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from .errors import GammastarError
from .pdg import LEPTONS, mass

__all__ = [
    "PAIR_COLUMNS",
    "N_COLLISIONS_KEY",
    "TRUTH_KEY",
    "BEAM_ENERGY_KEY",
    "DileptonDataset",
    "read_dileptons",
    "write_dileptons",
    "pair_mass",
]

PAIR_COLUMNS = ("px_pos", "py_pos", "pz_pos", "e_pos", "px_neg", "py_neg", "pz_neg", "e_neg")
WEIGHT_COLUMN = "weight"
N_COLLISIONS_KEY = "gammastar.n_collisions"
TRUTH_KEY = "gammastar.truth"
BEAM_ENERGY_KEY = "gammastar.beam_energy"

# Rounding allowance on E^2 - p^2 relative to E^2: float32 inputs round E
# and p at 6e-8, so their m^2 is only known to a few 1e-7 E^2; float64 to 1e-15.
_M2_REL_TOL = {4: 4e-7, 8: 1e-13}


def pair_mass(pos: np.ndarray, neg: np.ndarray, m_l: float) -> np.ndarray:
    """Invariant mass (GeV) of lepton pairs from their 3-momenta and the lepton mass.

    ``pos`` and ``neg`` are (N, 3) or (N, 4) arrays whose first three columns
    are px, py, pz.  Energies are recomputed from |p| and ``m_l`` so that
    rounding of stored energies (float32 files, electrons) does not enter.
    """
    p1, p2 = pos[:, :3], neg[:, :3]
    e1 = np.sqrt(np.einsum("ij,ij->i", p1, p1) + m_l**2)
    e2 = np.sqrt(np.einsum("ij,ij->i", p2, p2) + m_l**2)
    m2 = 2.0 * m_l**2 + 2.0 * (e1 * e2 - np.einsum("ij,ij->i", p1, p2))
    return np.sqrt(np.clip(m2, 4.0 * m_l**2, None))


class Normalised:
    """Mixin for samples with ``lepton`` and ``n_collisions``: lepton mass and normalisation."""

    lepton: str
    n_collisions: float | None

    @property
    def m_lepton(self) -> float:
        """Lepton mass in GeV."""
        return mass(self.lepton)

    @property
    def normalization(self) -> str:
        """``"per_collision"`` when n_collisions is known, else ``"per_sample"``."""
        return "per_sample" if self.n_collisions is None else "per_collision"

    @property
    def scale(self) -> float:
        """Factor turning summed weights into yields: 1/n_collisions, or 1 per sample."""
        return 1.0 if self.n_collisions is None else 1.0 / self.n_collisions


@dataclass
class DileptonDataset(Normalised):
    """Opposite-sign lepton pairs with weights and their normalisation.

    Attributes
    ----------
    pos, neg : (N, 4) float arrays
        Four-momenta (px, py, pz, E) of the positive and negative lepton, GeV.
    weight : (N,) float array
        Per-pair weights (may be negative, e.g. after background subtraction).
    lepton : {"e", "mu"}
        Lepton flavour.
    n_collisions : float or None
        Number of collisions (or protons on target) the sample stands for;
        ``None`` means yields are per sample.
    source : str
        Where the pairs came from (a path or a description).
    """

    pos: np.ndarray
    neg: np.ndarray
    weight: np.ndarray
    lepton: str
    n_collisions: float | None = None
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lepton not in LEPTONS:
            raise GammastarError(f"lepton must be one of {', '.join(LEPTONS)}, not {self.lepton!r}")
        if self.n_collisions is not None:
            self.n_collisions = _check_n_collisions(self.n_collisions)
        self._mass: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.weight)

    @property
    def mass(self) -> np.ndarray:
        """Pair invariant mass (GeV), computed once."""
        if self._mass is None:
            self._mass = pair_mass(self.pos, self.neg, self.m_lepton)
        return self._mass

    def mass_spectrum(self):
        """The fine-binned :class:`~gammastar.spectrum.MassSpectrum` of the pairs."""
        from .spectrum import MassSpectrum

        return MassSpectrum.from_dataset(self)



def _check_n_collisions(value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GammastarError(f"n_collisions must be a number, not {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise GammastarError(f"n_collisions must be positive and finite, not {value!r}")
    return v


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".root"):
        return "root"
    if name.endswith((".yaml", ".yml")):
        raise GammastarError(f"{path} looks like a binned spectrum table; this needs events "
                             "(tables go to `gammastar rates ... --spectrum`)")
    raise GammastarError(
        f"{path}: unknown file type {''.join(path.suffixes) or '(no extension)'!r}; "
        "expected .parquet, .csv, .csv.gz or .root"
    )


class _Columns:
    """Column access to a Parquet, CSV or flat-ROOT-TTree file.

    Parquet and ROOT columns are read one at a time, so reading never holds
    the whole table beside the numpy arrays it fills (peak memory ~ the arrays).
    """

    def __init__(self, path: Path, tree: str | None = None) -> None:
        self.path = path
        self.kind = _file_kind(path)
        if not path.exists():
            raise GammastarError(f"{path}: no such file")
        if path.is_dir():
            raise GammastarError(f"{path}: is a directory, expected a file")
        if path.stat().st_size == 0:
            raise GammastarError(f"{path}: file is empty")
        with self._arrow_errors():
            if self.kind == "root":
                from .pairing import _open_tree

                self._tree = _open_tree(path, tree or "events")
                self.meta = {}
                self.names = list(self._tree.keys())
                self.num_rows = self._tree.num_entries
            elif self.kind == "parquet":
                self._pf = pq.ParquetFile(path)
                schema = self._pf.schema_arrow
                self.meta = {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}
                self.names = list(schema.names)
                self.num_rows = self._pf.metadata.num_rows
            else:
                self._table = pacsv.read_csv(path)
                self.meta = {}
                self.names = self._table.column_names
                self.num_rows = self._table.num_rows
        missing = [c for c in PAIR_COLUMNS if c not in self.names]
        if missing:
            raise GammastarError(f"{path}: missing column(s) {', '.join(missing)}")

    @contextmanager
    def _arrow_errors(self):
        """Turn Arrow and OS errors while reading into one-line GammastarErrors."""
        try:
            yield
        except (pa.ArrowException, OSError, EOFError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise GammastarError(f"{self.path}: cannot read as {self.kind}: {msg}") from None

    def __getitem__(self, name: str) -> np.ndarray:
        if self.kind == "root":
            arr = np.asarray(self._tree[name].array(library="np"))
            if arr.dtype == object or arr.dtype.kind not in "fiu":
                raise GammastarError(f"{self.path}: branch {name} is not a flat numeric branch")
            return arr
        with self._arrow_errors():
            col = self._pf.read(columns=[name]).column(0) if self.kind == "parquet" else self._table.column(name)
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
            raise GammastarError(f"{self.path}: column {name} has type {col.type}, expected numbers")
        if col.null_count:
            raise GammastarError(f"{self.path}: {col.null_count} row(s) have an empty value in column {name}")
        return col.to_numpy(zero_copy_only=False)


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


def read_dileptons(
    path: str | Path, *, lepton: str | None = None, n_collisions: float | None = None, tree: str | None = None,
    leptons: str | None = None, background: str | None = None, min_pt: float | None = None,
    max_abs_eta: float | None = None, like_sign_r: float = 1.0, like_sign_bin: float = 0.01,
    acceptance=None, acceptance_floor: float = 0.01,
) -> DileptonDataset:
    """Read and validate dilepton pairs.

    Parameters
    ----------
    path : str or Path
        A ``.parquet``/``.pq``, ``.csv``/``.csv.gz`` or ``.root`` file.  Pair
        files carry the pair columns; a ROOT file is a flat TTree of them
        (``tree``, default ``events``) or, with ``leptons``, events with
        lepton collections.
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
        _phi, _charge`` (see :mod:`gammastar.pairing`), with the cuts
        ``min_pt`` (GeV) and ``max_abs_eta``.
    background : {"like-sign"}, optional
        Subtract the combinatorial background with like-sign pairs
        (``like_sign_r`` = R, ``like_sign_bin`` = mass bin width in GeV):
        like-sign pairs join the sample with negative weights.
    acceptance : path or AcceptanceMap, optional
        Divide every pair's weight by its acceptance A(m, pT, y), floored at
        ``acceptance_floor`` (see :mod:`gammastar.acceptance`).

    Raises
    ------
    GammastarError
        On any unreadable, empty, incomplete or unphysical input, with a
        one-line message naming the problem.
    """
    path = Path(path)
    if lepton is not None and lepton not in LEPTONS:
        raise GammastarError(f"--lepton must be one of {', '.join(LEPTONS)}, not {lepton!r}")
    if leptons is not None:
        from .pairing import pairs_from_events

        if _file_kind(path) != "root":
            raise GammastarError(f"{path}: --leptons needs a ROOT file with event-level lepton collections")
        from .pairing import COLLECTIONS

        if lepton is not None and COLLECTIONS.get(leptons) not in (None, lepton):
            raise GammastarError(f"--lepton {lepton} contradicts --leptons {leptons}")
        lp = pairs_from_events(path, leptons, tree or "Events", min_pt=min_pt, max_abs_eta=max_abs_eta,
                               background=background, r=like_sign_r, bin_width=like_sign_bin)
        meta = {"gammastar.pairs": f"{lp.n_opposite} opposite-sign, {lp.n_plus_plus} ++, {lp.n_minus_minus} --"}
        ds = _validated(path, lp.pos, lp.neg, lp.weight, lp.lepton, n_collisions, meta, _M2_REL_TOL[8])
        return _with_acceptance(ds, acceptance, acceptance_floor)
    if background is not None:
        raise GammastarError(f"--background {background} needs event-level leptons: a ROOT file and --leptons")
    if min_pt is not None or max_abs_eta is not None:
        raise GammastarError("--min-pt and --max-abs-eta select leptons when pairs are built (--leptons)")
    columns = _Columns(path, tree)
    n = columns.num_rows
    if n == 0:
        raise GammastarError(f"{path}: file contains no pairs")

    pos = np.empty((n, 4))
    neg = np.empty((n, 4))
    itemsize = 8
    names = tqdm(PAIR_COLUMNS, desc=f"reading {path.name}", unit="col", delay=1.0, leave=False)
    for j, name in enumerate(names):
        col = columns[name]
        itemsize = min(itemsize, col.dtype.itemsize)
        (pos if j < 4 else neg)[:, j % 4] = col
    weight = columns[WEIGHT_COLUMN].astype(float) if WEIGHT_COLUMN in columns.names else np.ones(n)
    rel_tol = _M2_REL_TOL[4] if itemsize < 8 else _M2_REL_TOL[8]
    meta = columns.meta
    del columns
    ds = _validated(path, pos, neg, weight, lepton, n_collisions, meta, rel_tol)
    return _with_acceptance(ds, acceptance, acceptance_floor)


def _with_acceptance(ds: DileptonDataset, acceptance, floor: float) -> DileptonDataset:
    if acceptance is None:
        return ds
    from .acceptance import AcceptanceMap, read_acceptance
    from .kinematics import pair_kinematics

    amap = acceptance if isinstance(acceptance, AcceptanceMap) else read_acceptance(acceptance)
    k = pair_kinematics(ds.pos, ds.neg)
    ds.weight = amap.correct(ds.weight, ds.mass, k.pt, k.y, floor)
    ds.metadata["gammastar.acceptance"] = amap.source
    return ds


def _validated(
    path: Path, pos: np.ndarray, neg: np.ndarray, weight: np.ndarray, lepton: str | None,
    n_collisions: float | None, meta: dict[str, str], rel_tol: float,
) -> DileptonDataset:
    """Check finiteness, E >= |p| and the lepton flavour; attach the normalisation."""
    finite = np.isfinite(pos).all(axis=1) & np.isfinite(neg).all(axis=1) & np.isfinite(weight)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise GammastarError(
            f"{path}: {bad.size} row(s) have NaN or infinite values (first at row {bad[0]})"
        )

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
    others = np.concatenate(others)
    if lepton is None:
        lepton = _infer_lepton(n_e, n_mu, others, path)
    elif others.size or (n_e if lepton == "mu" else n_mu):
        warnings.warn(
            f"{path}: the leptons' masses do not all look like {lepton} "
            f"({n_e} e-like, {n_mu} mu-like, {others.size} neither); using --lepton {lepton} as asked",
            stacklevel=3,
        )

    if n_collisions is None and N_COLLISIONS_KEY in meta:
        try:
            n_collisions = float(meta[N_COLLISIONS_KEY])
        except ValueError:
            raise GammastarError(f"{path}: metadata {N_COLLISIONS_KEY}={meta[N_COLLISIONS_KEY]!r} is not a number") from None
    return DileptonDataset(pos, neg, weight, lepton, n_collisions, str(path), meta)


def write_dileptons(
    path: str | Path, data: DileptonDataset, extra_columns: dict[str, np.ndarray] | None = None
) -> Path:
    """Write pairs in the input schema to ``.parquet`` or ``.csv``/``.csv.gz``.

    Parquet files carry ``gammastar.n_collisions`` (when known) and the
    dataset's other ``gammastar.*`` metadata.  The file is written under a
    temporary name and renamed on success, so an interrupted write never
    leaves a complete-looking file.
    """
    path = Path(path)
    kind = _file_kind(path)
    cols = {name: (data.pos if j < 4 else data.neg)[:, j % 4] for j, name in enumerate(PAIR_COLUMNS)}
    cols[WEIGHT_COLUMN] = data.weight
    cols.update(extra_columns or {})
    meta = {k: v for k, v in data.metadata.items() if k.startswith("gammastar.")}
    if data.n_collisions is not None:
        meta[N_COLLISIONS_KEY] = repr(data.n_collisions)
    table = pa.table(cols).replace_schema_metadata(meta or None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if kind == "parquet":
            pq.write_table(table, tmp)
        elif kind == "root":
            import uproot

            with uproot.recreate(tmp) as f:  # mktree: a TTree (plain assignment would make an RNTuple)
                branches = {k: np.asarray(v) for k, v in cols.items()}
                f.mktree("events", {k: v.dtype for k, v in branches.items()}).extend(branches)
        else:
            stream = pa.CompressedOutputStream(str(tmp), "gzip") if path.name.lower().endswith(".gz") else str(tmp)
            pacsv.write_csv(table, stream)
            if not isinstance(stream, str):
                stream.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
