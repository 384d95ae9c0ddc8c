"""Dilepton pairs from event-level lepton collections (CMS NanoAOD and the like), in a TTree or an RNTuple.

A collection ``NAME`` (any case: ``--leptons muon`` finds ``Muon_pt``) is
read in either convention, whichever the file has:

* polar, as NanoAOD: ``NAME_pt, NAME_eta, NAME_phi, NAME_charge [, NAME_mass]``;
  the energy comes from the PDG lepton mass (``particle``), built with ``vector``;
* Cartesian: ``NAME_Px, NAME_Py, NAME_Pz, NAME_E, NAME_Charge``.

The flavour is the collection's name when it says it (Muon, Electron, mu,
ele, ...), else ``--lepton``, else the leptons' masses (Cartesian four-vectors
or a mass branch).  In every event all pairs of leptons that pass the
selection (``min_pt``, ``max_abs_eta``) are formed and oriented by charge
(:mod:`gammastar.io.legs`): opposite-sign pairs are the signal candidates,
like-sign pairs measure the combinatorial background.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import GammastarError
from ...physics.pdg import mass
from ..legs import Legs, OrientedPairs, check_background, infer_lepton, like_sign_weights, oriented_pairs, polar_four_momenta
from .root import open_tree, uproot_errors

__all__ = ["COLLECTIONS", "CONVENTIONS", "LeptonPairs", "pairs_from_events", "like_sign_weights", "find_collection",
           "flavour_of"]

#: collection names (lower case) that say the flavour
COLLECTIONS = {"muon": "mu", "muons": "mu", "mu": "mu", "electron": "e", "electrons": "e", "ele": "e", "e": "e",
               "el": "e"}
#: convention -> the fields it needs (lower case), in the order read
CONVENTIONS = {"polar": ("pt", "eta", "phi", "charge"), "cartesian": ("px", "py", "pz", "e", "charge")}


@dataclass
class LeptonPairs(OrientedPairs):
    """Pairs built from events: oriented pairs and their counts, and the flavour."""

    lepton: str = ""


def flavour_of(collection: str) -> str | None:
    """The lepton flavour a collection's name says (``Muon`` -> mu), or None."""
    return COLLECTIONS.get(collection.lower())


def find_collection(keys: list[str], collection: str, where: str) -> tuple[str, dict[str, str]]:
    """(convention, {field: branch}) of the collection ``collection`` among branch names ``keys``, any case."""
    prefix = collection.lower() + "_"
    fields = {k[len(prefix):].lower(): k for k in keys if k.lower().startswith(prefix)}
    for convention, needed in CONVENTIONS.items():
        if all(f in fields for f in needed):
            branches = {f: fields[f] for f in needed}
            if convention == "polar" and "mass" in fields:
                branches["mass"] = fields["mass"]
            return convention, branches
    if fields:
        have = ", ".join(sorted(fields.values()))
        raise GammastarError(f"{where}: collection {collection!r} has {have}, neither NAME_pt, _eta, _phi, _charge "
                             "nor NAME_Px, _Py, _Pz, _E, _Charge")
    prefixes = sorted({k.split("_")[0] for k in keys if "_" in k})
    raise GammastarError(f"{where}: no lepton collection {collection!r} (branches {collection}_pt, ... or "
                         f"{collection}_Px, ...); collections there: {', '.join(prefixes[:30]) or 'none'}")


def pairs_from_events(
    path: str | Path, collection: str, tree: str | None = None, *, min_pt: float | None = None,
    max_abs_eta: float | None = None, background: str | None = None, r: float = 1.0, bin_width: float = 0.01,
    lepton: str | None = None,
) -> LeptonPairs:
    """Opposite-sign pairs (and, with ``background="like-sign"``, weighted like-sign pairs) from a ROOT file.

    ``tree`` names a TTree or RNTuple (default ``Events``, or the file's only
    one); ``lepton`` gives the flavour when the collection's name does not.
    """
    import awkward as ak

    path = Path(path)
    check_background(background)
    t = open_tree(path, tree, "Events")
    where = f"{path}: tree {getattr(t, 'name', tree)!r}"
    with uproot_errors(path, "the tree's branches"):
        keys = list(t.keys())
    convention, branches = find_collection(keys, collection, where)
    named = flavour_of(collection)
    if named is not None and lepton is not None and named != lepton:
        raise GammastarError(f"`lepton={lepton}` contradicts `leptons={collection}`")
    lepton = lepton or named
    if lepton is None and convention == "polar" and "mass" not in branches:
        raise GammastarError(f"{where}: collection {collection!r} does not say its flavour; pass `lepton=e|mu`")
    with uproot_errors(path, f"collection {collection!r}"):
        arr = t.arrays(list(branches.values()))
    lep = ak.zip({f: arr[b] for f, b in branches.items()})
    if convention == "cartesian":
        pt = np.hypot(lep.px, lep.py)
        eta = np.arcsinh(lep.pz / ak.where(pt > 0, pt, 1e-300))
    else:
        pt, eta = lep.pt, lep.eta
    keep = ak.ones_like(pt, dtype=bool)
    if min_pt is not None:
        keep = keep & (pt >= min_pt)
    if max_abs_eta is not None:
        keep = keep & (abs(eta) <= max_abs_eta)
    lep = lep[keep]
    if int(ak.sum(ak.num(lep))) == 0:
        raise GammastarError(f"{where}: no {collection} leptons" + (" after the cuts" if min_pt or max_abs_eta else ""))
    pairs = ak.combinations(lep, 2, fields=["a", "b"])

    def flat(x: Any) -> np.ndarray:
        return np.asarray(ak.to_numpy(ak.flatten(x)), dtype=float)

    def four(x: Any, m: float | None) -> np.ndarray:
        if convention == "cartesian":
            return np.column_stack([flat(x.px), flat(x.py), flat(x.pz), flat(x.e)])
        return polar_four_momenta(flat(x.pt), flat(x.eta), flat(x.phi), flat(x.mass) if m is None else m)

    if lepton is None:
        lepton = infer_lepton(path, four(lep, None))
    m_l = mass(lepton)
    a, b = four(pairs.a, m_l), four(pairs.b, m_l)
    legs = Legs(a, b, flat(pairs.a.charge), flat(pairs.b.charge), np.ones(len(a)))
    op = oriented_pairs(legs, m_l, background, r, bin_width)
    if not len(op.pos):
        raise GammastarError(f"{where}: no opposite-sign {collection} pairs")
    return LeptonPairs(op.pos, op.neg, op.weight, op.n_opposite, op.n_plus_plus, op.n_minus_minus, lepton)
