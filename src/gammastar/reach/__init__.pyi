# The names of gammastar.reach, imported from their modules when first used (lazy_loader, as the package's):
# ``generate --experiment`` needs the events, not the reach plots and matplotlib.
from .contour import ReachContour, reach_contour, shipped_bounds
from .events import aprime_at_detector, aprime_detector_events, mcp_at_detector, mcp_detector_events
from .experiment import PRESETS, Experiment, load_experiment
from .mcp import McpSignalGrid, mcp_signal_grid
from .search import Reach, aprime_reach, mcp_reach
from .signal import SignalGrid, decay_probability, parse_eps_spec, signal_grid

__all__ = ["Experiment", "PRESETS", "load_experiment", "SignalGrid", "signal_grid", "decay_probability",
           "parse_eps_spec", "McpSignalGrid", "mcp_signal_grid", "ReachContour", "reach_contour", "shipped_bounds",
           "aprime_detector_events", "aprime_at_detector", "mcp_detector_events", "mcp_at_detector", "Reach",
           "aprime_reach", "mcp_reach"]
