"""The conditional normalizing flow: a fast Monte Carlo generator learned from the data.

* :mod:`.model`: what is learned (pair kinematics given the mass; the hadronic
  tensor H of the decay angles) and the networks;
* :mod:`.train`: weighted maximum-likelihood training;
* :mod:`.modelfile`: the one self-describing model file;
* :mod:`.sample`: the sampling chain (pair features -> H -> decay angles) on CPU or CUDA;
* :mod:`.generate`: :class:`~.generate.Generator`, A' and chi-chibar events;
* :mod:`.validate`: the flow against held-out data.
"""
