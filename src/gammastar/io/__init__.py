"""Data in and out.

* :mod:`.readers`: pair files by format behind one registry (Parquet, CSV, ROOT
  TTrees and RNTuples), lepton collections paired on the fly, published spectrum tables;
* :mod:`.columns`: which columns hold the pairs (our names, ``--columns`` mappings, per-leg layouts);
* :mod:`.legs`: two leptons per row oriented by charge, like-sign background subtraction;
* :mod:`.pairs`: the pair schema, validation, and reading/writing pair files;
* :mod:`.stream`: large inputs and directories read in chunks into a fine-binned spectrum;
* :mod:`.open`: :func:`open_sample`, the one entry point from a path to a Sample, reading as one
  :class:`~.options.ReadOptions` says (:mod:`.options`);
* :mod:`.acceptance`: acceptance x efficiency maps applied as 1/A weights;
* :mod:`.events`: generated A' and mCP events written by format behind one registry;
* :mod:`.results`: yield tables as CSV (``--csv``); :mod:`.sidecar`: metadata beside CSV files;
* :mod:`.atomic`: every file written under a temporary name and renamed when complete.
"""
