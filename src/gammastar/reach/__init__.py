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

import lazy_loader

# the names, listed once in __init__.pyi: each imported from its module when first used, so that a module of this
# package (the events a generation writes) comes without the others (the reach's files and plots: matplotlib)
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
