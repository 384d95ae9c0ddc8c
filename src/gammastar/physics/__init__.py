"""The physics gammastar rests on: pure, vectorised numpy functions and constants.

* :mod:`.pdg`: masses, widths and branching ratios (PDG);
* :mod:`.formulas`: the correspondence gamma* <-> A' <-> chi chibar (R_l, R_chi,
  phi_l) and the direct meson-decay formulas (docs/physics.md sections 1, 3, 6);
* :mod:`.formfactors`: transition form factors of Dalitz decays;
* :mod:`.kinematics`: Lorentz algebra on (N, 4) arrays, the Collins-Soper frame;
* :mod:`.angular`: the pair decay-angle laws (docs/physics.md section 2) and their sampling.
"""
