"""Samples with a known truth, to see the method close.

* :mod:`.sources`: a source of virtual photons as its N_V(m), and the direct A'/mCP yields it implies;
* :mod:`.cocktail`: the built-in NA60-like p-A cocktail's sources and settings;
* :mod:`.production`: how the cocktail's pairs are made (parent spectra, gamma* decays);
* :mod:`.mock`: the cocktail as a dilepton sample with its truth record;
* :mod:`.direct`: A' and chi-chibar events straight from meson decays (the flow's reference);
* :mod:`.pythia`: the Pythia8 cross-check backend (optional extra).
"""
