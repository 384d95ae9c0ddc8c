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

from typing import TYPE_CHECKING, Any

# The public names are imported when first used (PEP 562): a command that only generates events
# from a stored table never imports scipy or torch.  Each name's home module:
_HOMES = {
    "GammastarError": "errors", "Generator": "flow.generate", "FlowConfig": "flow.model",
    "TrainedModel": "flow.model", "load_model": "flow.modelfile", "train": "flow.train",
    "add_replicas": "flow.train",
    "Validation": "flow.validate", "validate": "flow.validate", "AcceptanceMap": "io.acceptance",
    "EventInfo": "io.events", "EventStream": "io.events", "write_events": "io.events", "open_sample": "io.open",
    "read_dileptons": "io.pairs", "write_dileptons": "io.pairs", "AprimeDecay": "physics.decays",
    "aprime_decay": "physics.decays", "pair_kinematics": "physics.kinematics", "MassSpectrum": "rates.spectrum",
    "AprimeYield": "rates.yields", "McpYield": "rates.yields", "PhotonYield": "rates.yields",
    "aprime_yield": "rates.yields", "mcp_yield": "rates.yields", "parse_mass_spec": "rates.yields",
    "photon_yield": "rates.yields", "EventSample": "samples", "PublishedSpectrum": "samples", "Sample": "samples",
    "SpectrumSample": "samples", "DileptonDataset": "samples", "compare_aprime": "rates.compare",
    "compare_mcp": "rates.compare",
}

if TYPE_CHECKING:
    from . import reach
    from .errors import GammastarError
    from .flow.generate import Generator
    from .flow.model import FlowConfig, TrainedModel
    from .flow.modelfile import load_model
    from .flow.train import add_replicas, train
    from .flow.validate import Validation, validate
    from .io.acceptance import AcceptanceMap
    from .io.events import EventInfo, EventStream, write_events
    from .io.open import open_sample
    from .io.pairs import read_dileptons, write_dileptons
    from .physics.decays import AprimeDecay, aprime_decay
    from .physics.kinematics import pair_kinematics
    from .rates.compare import compare_aprime, compare_mcp
    from .rates.spectrum import MassSpectrum
    from .rates.yields import AprimeYield, McpYield, PhotonYield, aprime_yield, mcp_yield, parse_mass_spec, photon_yield
    from .samples import EventSample, PublishedSpectrum, Sample, SpectrumSample
    from .samples import EventSample as DileptonDataset  # the name of in-memory pair samples in earlier releases


def __getattr__(name: str) -> Any:
    import importlib

    if name == "reach":
        return importlib.import_module(".reach", __name__)
    if name not in _HOMES:
        raise AttributeError(f"module 'gammastar' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), "EventSample" if name == "DileptonDataset"
                    else name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
    # data-driven vs model-based (meson decays under named variants)
    "compare_aprime",
    "compare_mcp",
    # A' decays and a search (gammastar.reach.signal_grid, ...)
    "aprime_decay",
    "AprimeDecay",
    "reach",
    # the flow
    "FlowConfig",
    "TrainedModel",
    "train",
    "add_replicas",
    "load_model",
    "Generator",
    "validate",
    "Validation",
    # events out
    "write_events",
    "EventStream",
    "EventInfo",
]
