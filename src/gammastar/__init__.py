"""gammastar: dark-photon and millicharged-particle yields from measured dilepton data.

The dilepton rate fixes, mass by mass, how many dark photons A' and how many
millicharged pairs the same collisions make (arXiv:2512.04153,
arXiv:1603.08926).  The public API mirrors the command line::

    import gammastar
    data = gammastar.read_dileptons("pairs.parquet", n_collisions=1e12)
    ap = gammastar.aprime_yield(data, "0.25:0.8:0.01")
    chi = gammastar.mcp_yield(data, [0.05, 0.1, 0.15], spin="scalar")
"""

__version__ = "0.1.0"

from .data import DileptonDataset, read_dileptons, write_dileptons  # noqa: E402
from .errors import GammastarError  # noqa: E402
from .kinematics import pair_kinematics  # noqa: E402
from .spectrum import MassSpectrum  # noqa: E402
from .yields import AprimeYield, McpYield, PhotonYield, aprime_yield, mcp_yield, photon_yield  # noqa: E402

__all__ = [
    "DileptonDataset",
    "read_dileptons",
    "write_dileptons",
    "GammastarError",
    "pair_kinematics",
    "MassSpectrum",
    "AprimeYield",
    "McpYield",
    "PhotonYield",
    "aprime_yield",
    "mcp_yield",
    "photon_yield",
]
