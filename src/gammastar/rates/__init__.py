"""Rates from a sample: the photon, A' and mCP yields, and the model-based comparison.

* :mod:`.yields`: :func:`photon_yield`, :func:`aprime_yield`, :func:`mcp_yield` and their results;
* :mod:`.support`: where in (m, pT, y) the data reach, and the share of a search's acceptance they cover;
* :mod:`.compare`: the data-driven yields against meson-decay models under named variants.

The estimator they rest on is :mod:`gammastar.spectrum`.
"""
