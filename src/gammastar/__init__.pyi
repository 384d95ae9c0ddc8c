# The public API of gammastar, listed once, by topic: read by type checkers, and by gammastar/__init__.py
# (lazy_loader) to import each name from its module when first used.  Every name here is in gammastar.__all__.

from . import reach as reach
from .errors import GammastarError as GammastarError

# samples in
from .io.open import open_sample as open_sample
from .io.options import ReadOptions as ReadOptions
from .io.pairs import read_dileptons as read_dileptons, write_dileptons as write_dileptons
from .samples import Sample as Sample, EventSample as EventSample, SpectrumSample as SpectrumSample
from .samples import PublishedSpectrum as PublishedSpectrum
from .io.acceptance import AcceptanceMap as AcceptanceMap

# rates
from .rates.yields import photon_yield as photon_yield, aprime_yield as aprime_yield, mcp_yield as mcp_yield
from .rates.yields import PhotonYield as PhotonYield, AprimeYield as AprimeYield, McpYield as McpYield
from .rates.yields import parse_mass_spec as parse_mass_spec
from .spectrum.estimator import MassSpectrum as MassSpectrum
from .physics.kinematics import pair_kinematics as pair_kinematics

# data-driven vs model-based (meson decays under named variants)
from .rates.compare import aprime_comparison as aprime_comparison, mcp_comparison as mcp_comparison
from .rates.compare import AprimeComparison as AprimeComparison, McpComparison as McpComparison
from .rates.compare import YieldComparison as YieldComparison

# A' decays and a search (more in gammastar.reach)
from .physics.decays import aprime_decay as aprime_decay, AprimeDecay as AprimeDecay
from .reach.search import aprime_reach as aprime_reach, mcp_reach as mcp_reach, Reach as Reach

# the flow
from .flow.networks import FlowConfig as FlowConfig
from .flow.model import TrainedModel as TrainedModel, TrainingSummary as TrainingSummary, load_model as load_model
from .flow.train import train as train, add_replicas as add_replicas
from .flow.generate import Generator as Generator
from .flow.validate import validate as validate, Validation as Validation

# events out
from .io.events import write_events as write_events, EventStream as EventStream, EventInfo as EventInfo

__version__: str
RENAMED: dict[str, str]
# renamed; each warns (DeprecationWarning)
DileptonDataset = EventSample
compare_aprime = aprime_comparison
compare_mcp = mcp_comparison
