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

The package is layered like the pipeline, each layer importing only from those
below it: :mod:`.physics` -> :mod:`.spectrum` (the N_V estimator) ->
:mod:`.samples` -> :mod:`.io` -> :mod:`.rates` (and :mod:`.truth`, the samples
with a known truth) -> :mod:`.flow` -> :mod:`.reach` -> :mod:`.cli`.
"""

import warnings
from typing import Any

import lazy_loader

__version__ = "0.1.0"

# The public names, listed once in __init__.pyi (SPEC 1): type checkers read them there, and each is imported
# from its module when first used, so that a command generating events from a stored table never imports
# scipy or torch.
_public_getattr, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)

#: names of earlier releases -> today's: they still work for one release, with a DeprecationWarning
RENAMED = {"DileptonDataset": "EventSample", "compare_aprime": "aprime_comparison", "compare_mcp": "mcp_comparison"}


def __getattr__(name: str) -> Any:
    if name in RENAMED:
        warnings.warn(f"gammastar.{name} is now gammastar.{RENAMED[name]}; the old name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        name = RENAMED[name]
    return _public_getattr(name)
