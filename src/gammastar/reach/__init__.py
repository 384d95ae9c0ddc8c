"""From production to a search: an experiment's geometry, signal counts and the reach in (mass, eps).

>>> from gammastar.reach import load_experiment, signal_grid, reach_contour
>>> ex = load_experiment("ship")                       # a preset, or a TOML file
>>> grid = signal_grid(gammastar.Generator.load("model.pt"), ex, masses, eps)
>>> reach_contour(masses, eps, grid.reshaped("n_signal"), 2.3)
>>> gammastar.aprime_reach(generator, "ship", masses, eps).save("reach/")   # the command's files

:mod:`.experiment` (TOML geometry and presets), :mod:`.signal` (A' counts),
:mod:`.mcp` (chi counts in a downstream detector), :mod:`.contour` (the reach,
existing bounds), :mod:`.search` (all of a search: counts, reach, band, files), :mod:`.events` (detector-level events: A' decaying in the
volume with their daughters, chi crossing the mCP detector).
"""

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
