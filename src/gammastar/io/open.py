"""From a path to a :class:`~gammastar.samples.Sample`: the one entry point for every input.

:func:`open_sample` decides how an input is held, as the command line does:

* ``spectrum=True``: a published table (HEPData YAML/CSV, plain CSV), the
  twin of ``--spectrum``;
* a directory, or a file too large to read at once: streamed in chunks into
  fine bins (:mod:`gammastar.io.stream`), unless ``stream=False``;
* otherwise the pairs are read into memory (:func:`gammastar.io.pairs.read_dileptons`),
  from a pair file or built from lepton collections (``leptons=...``).

What the user should know (a streamed input, a sample without normalisation)
is logged at INFO level on the ``gammastar`` logger; the command line prints
those records as ``note: ...``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GammastarError
from ..samples import Sample, streamed_needs_memory, table_needs_events
from ..spectrum.resolution import MassResolution, parse_resolution
from .options import ReadOptions
from .pairs import read_dileptons
from .readers.root import split_object_path
from .readers.tables import looks_like_table, read_spectrum
from .stream import scan_dileptons, should_stream
from .subtract import Subtraction, subtracted, subtractions

if TYPE_CHECKING:
    pass

__all__ = ["open_sample"]

log = logging.getLogger("gammastar")

_EVENT_ONLY = ("tree", "leptons", "columns", "background", "min_pt", "max_abs_eta", "acceptance")
_PAIR_BUILDING = ("leptons", "background", "min_pt", "max_abs_eta")


def open_sample(
    path: str | Path, options: ReadOptions | None = None, *, spectrum: bool = False, stream: bool | None = None,
    progress: bool = True, subtract: Sequence[str | Path | tuple[str | Path, float | None] | Subtraction] = (),
    mass_resolution: float | str | Path | MassResolution | None = None, client: Any = None, **reading: Any,
) -> Sample:
    """Open dilepton data, or a published spectrum table, as a Sample for the rates and the flow.

    Parameters
    ----------
    path : str or Path
        A pair file (.parquet, .csv, .csv.gz, .root), a directory of them,
        or with ``spectrum=True`` a published dN_ll/dm table.
    options, **reading
        How to read it: a :class:`~gammastar.io.options.ReadOptions`, or its fields as keywords (``lepton``,
        ``n_collisions``, ``tree``, ``leptons``, ``columns``, ``background``, ``min_pt``, ``max_abs_eta``,
        ``like_sign_r``, ``like_sign_bin``, ``acceptance``, ``acceptance_floor``, ``beam``, ``chunk_size``),
        as the CLI options of the same names (a table takes only ``lepton``, ``n_collisions`` and ``beam``,
        which it keeps for its labels).
    spectrum : bool
        Read ``path`` as a published table.
    stream : bool, optional
        ``None`` (default): stream directories and files of more than 2e7
        pairs into fine bins, read everything else into memory; ``False``:
        the pairs must fit in memory (an error otherwise: what training and
        validation need); ``True``: stream whatever the size.
    progress : bool
        Whether to show a progress bar.
    subtract : sequence of paths or (path, n_collisions)
        Simulated non-gamma* sources (eta -> l l, open charm, ...) whose pairs
        enter with weights -w N_data / N_sim (:mod:`gammastar.io.subtract`);
        the data's n_collisions must be known.
    mass_resolution : float (GeV), CSV path (mass, sigma) or MassResolution, optional
        The detector's Gaussian mass resolution, kept with the sample: the rates
        unfold it at narrow resonances (:mod:`gammastar.spectrum.resolution`).
    client : distributed.Client, optional
        Read a streamed input's files on this Dask cluster, a file per task
        (:func:`gammastar.io.stream.scan_dileptons`); the spectrum is the same.
    """
    o = ReadOptions.of(options, **reading)
    subs = subtractions(subtract)
    resolution = parse_resolution(mass_resolution)
    if spectrum:
        if o.set(*_EVENT_ONLY):
            raise GammastarError("`tree`, `leptons`, `columns`, `background`, `acceptance` and the lepton cuts apply "
                                 "to events, not to a spectrum table (`spectrum=True`)")
        if subs:
            raise GammastarError("`subtract` takes pairs out of events; a published table cannot be subtracted from")
        table = read_spectrum(path, lepton=o.lepton, n_collisions=o.n_collisions)
        table.beam = o.beam
        table.mass_resolution = resolution
        if table.n_collisions is None:
            log.info("no `n_collisions`: yields are in the table's own normalisation (per collision if it is)")
        return table

    path, tree = split_object_path(path, o.tree)
    o = ReadOptions.of(o, tree=tree)
    if stream is True or (stream is None and should_stream(path)):
        if o.set(*_PAIR_BUILDING):
            raise GammastarError("pair building (`leptons`) and like-sign subtraction read a whole file; "
                                 "they cannot be streamed")
        log.info(f"{path} is large or a directory: reading it in chunks; mCP yields from 1e-4-relative mass bins")
        sample: Sample = scan_dileptons(path, o, progress=progress, subtract=subs, client=client)
    else:
        if stream is False and should_stream(path):
            raise GammastarError(streamed_needs_memory(str(path)))
        if looks_like_table(path):
            raise GammastarError(table_needs_events(str(path)))
        sample = subtracted(read_dileptons(path, o), subs)
    if sample.n_collisions is None:
        log.info("no `n_collisions` and no gammastar.n_collisions metadata: yields are per sample")
    sample.mass_resolution = resolution
    return sample
