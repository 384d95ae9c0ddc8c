"""gammastar: dark-photon and millicharged-particle yields and events from measured dilepton data.

The dilepton rate fixes, mass by mass, how many dark photons A' and how many
millicharged pairs the same collisions make (arXiv:2512.04153,
arXiv:1603.08926).  The public API mirrors the command line::

    import gammastar
    data = gammastar.open_sample("pairs.parquet", n_collisions=1e12)   # or a directory, a ROOT file, a table
    ap = gammastar.aprime_yield(data, "0.25:0.8:0.01")
    chi = gammastar.mcp_yield(data, [0.05, 0.1, 0.15], spin="scalar")

    model = gammastar.train(data)                                       # the conditional flow
    gen = gammastar.Generator(model)
    gammastar.write_events("aprime.hepmc", gen.aprime_events(0.4, 10**6, eps=1e-3))

The package reads like the pipeline: :mod:`.physics` -> :mod:`.io` ->
:mod:`.samples` -> :mod:`.rates` -> :mod:`.flow`, with :mod:`.truth` (the mock
and Pythia8 samples with a known truth) and :mod:`.cli` on top.
"""

__version__ = "0.1.0"

from . import reach  # noqa: E402
from .errors import GammastarError  # noqa: E402
from .flow.generate import Generator  # noqa: E402
from .flow.model import FlowConfig, TrainedModel  # noqa: E402
from .flow.modelfile import load_model  # noqa: E402
from .flow.train import train  # noqa: E402
from .flow.validate import Validation, validate  # noqa: E402
from .io.acceptance import AcceptanceMap  # noqa: E402
from .io.events import EventInfo, EventStream, write_events  # noqa: E402
from .io.open import open_sample  # noqa: E402
from .io.pairs import read_dileptons, write_dileptons  # noqa: E402
from .physics.decays import AprimeDecay, aprime_decay  # noqa: E402
from .physics.kinematics import pair_kinematics  # noqa: E402
from .rates.spectrum import MassSpectrum  # noqa: E402
from .rates.yields import (  # noqa: E402
    AprimeYield,
    McpYield,
    PhotonYield,
    aprime_yield,
    mcp_yield,
    parse_mass_spec,
    photon_yield,
)
from .samples import EventSample, PublishedSpectrum, Sample, SpectrumSample  # noqa: E402

#: The name of in-memory pair samples in earlier releases.
DileptonDataset = EventSample

__all__ = [
    "GammastarError",
    # samples in
    "open_sample",
    "read_dileptons",
    "write_dileptons",
    "Sample",
    "EventSample",
    "SpectrumSample",
    "PublishedSpectrum",
    "DileptonDataset",
    "AcceptanceMap",
    # rates
    "photon_yield",
    "aprime_yield",
    "mcp_yield",
    "parse_mass_spec",
    "PhotonYield",
    "AprimeYield",
    "McpYield",
    "MassSpectrum",
    "pair_kinematics",
    # A' decays and a search (gammastar.reach.signal_grid, ...)
    "aprime_decay",
    "AprimeDecay",
    "reach",
    # the flow
    "FlowConfig",
    "TrainedModel",
    "train",
    "load_model",
    "Generator",
    "validate",
    "Validation",
    # events out
    "write_events",
    "EventStream",
    "EventInfo",
]
