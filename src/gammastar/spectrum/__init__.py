"""The dilepton mass spectrum and what is estimated from it, below the samples that hold it.

* :mod:`.estimator`: the fine-binned pair-mass spectrum (:class:`~.estimator.MassSpectrum`, the sums
  :class:`~.estimator.BinSums` a stream adds up) and the local estimator of N_V(m);
* :mod:`.mcp`: sums of dN_ll/dm R_chi/R_l over pairs, fine bins or table bins (the mCP yield);
* :mod:`.resolution`: the detector's mass resolution, unfolded at narrow resonances.
"""
