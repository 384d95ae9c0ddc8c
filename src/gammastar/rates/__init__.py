"""Rates from a sample: the N_V(m) estimator and the photon, A' and mCP yields.

* :mod:`.spectrum`: the fine-binned pair-mass spectrum and the local estimator of N_V(m);
* :mod:`.mcp`: sums of dN_ll/dm R_chi/R_l over pairs, fine bins or table bins;
* :mod:`.yields`: :func:`photon_yield`, :func:`aprime_yield`, :func:`mcp_yield` and their results.
"""
