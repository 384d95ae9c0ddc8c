"""Dilepton pairs from event-level lepton collections (e.g. CMS NanoAOD), and like-sign background subtraction.

Pair building: in every event, all pairs of leptons that pass the selection
(``min_pt``, ``max_abs_eta``) are formed; opposite-sign pairs are the
signal candidates, like-sign pairs (++ and --) measure the combinatorial
background.  Lepton four-vectors come from (pT, eta, phi) and the PDG lepton
mass (``particle``), built with ``vector``.

Like-sign subtraction (``background="like-sign"``): in mass bins of width
``bin_width`` the combinatorial opposite-sign yield is 2 R sqrt(N++ N--)
(R = 1 for charge-symmetric production and acceptance), so every like-sign
pair in bin k enters with weight -2 R sqrt(N++ N--) / (N++ + N--).  The
opposite-sign pairs keep weight +1, and the summed weights in every bin are
N+- - 2 R sqrt(N++ N--), the signal, with the like-sign pairs' own
kinematics standing for the background's.  The geometric mean is biased low
when a bin holds only a few like-sign pairs: choose ``bin_width`` so that
typical bins hold tens of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import GammastarError
from ...physics.pdg import mass
from .root import open_tree, uproot_errors

__all__ = ["COLLECTIONS", "LeptonPairs", "pairs_from_events", "like_sign_weights"]

#: NanoAOD collection name -> lepton flavour
COLLECTIONS = {"Muon": "mu", "Electron": "e"}


@dataclass
class LeptonPairs:
    """Pairs built from events: four-momenta (N, 4), weights, flavour and counts."""

    pos: np.ndarray
    neg: np.ndarray
    weight: np.ndarray
    lepton: str
    n_opposite: int
    n_plus_plus: int
    n_minus_minus: int


def like_sign_weights(
    m_ls: np.ndarray, plus: np.ndarray, m_lo: float, r: float = 1.0, bin_width: float = 0.01
) -> np.ndarray:
    """Weights of like-sign pairs (masses ``m_ls``, ``plus`` True for ++) for the subtraction above."""
    if not bin_width > 0 or not r > 0:
        raise GammastarError("like-sign bin width and R must be positive")
    if m_ls.size == 0:
        return np.zeros(0)
    k = np.floor((m_ls - m_lo) / bin_width).astype(np.int64)
    k -= k.min()
    n_pp = np.bincount(k[plus], minlength=k.max() + 1).astype(float)
    n_mm = np.bincount(k[~plus], minlength=k.max() + 1).astype(float)
    total = n_pp + n_mm
    per_pair = np.where(total > 0, -2.0 * r * np.sqrt(n_pp * n_mm) / np.where(total > 0, total, 1.0), 0.0)
    return per_pair[k]


def pairs_from_events(
    path: str | Path, collection: str, tree: str = "Events", *, min_pt: float | None = None,
    max_abs_eta: float | None = None, background: str | None = None, r: float = 1.0, bin_width: float = 0.01,
) -> LeptonPairs:
    """Opposite-sign pairs (and, with ``background="like-sign"``, weighted like-sign pairs) from a ROOT file.

    ``collection`` names the branches ``{collection}_pt, _eta, _phi, _charge``.
    """
    import awkward as ak
    import vector

    path = Path(path)
    if collection not in COLLECTIONS:
        raise GammastarError(f"unknown lepton collection {collection!r}; use {' or '.join(COLLECTIONS)}")
    if background not in (None, "like-sign"):
        raise GammastarError(f"unknown background method {background!r}; the one available is like-sign")
    lepton = COLLECTIONS[collection]
    t = open_tree(path, tree)
    branches = [f"{collection}_{v}" for v in ("pt", "eta", "phi", "charge")]
    missing = [b for b in branches if b not in t.keys()]
    if missing:
        raise GammastarError(f"{path}: tree {tree!r} has no branch(es) {', '.join(missing)}")
    with uproot_errors(path, f"tree {tree!r}"):
        arr = t.arrays(branches)
    lep = ak.zip({v: arr[f"{collection}_{v}"] for v in ("pt", "eta", "phi", "charge")})
    if min_pt is not None:
        lep = lep[lep.pt >= min_pt]
    if max_abs_eta is not None:
        lep = lep[abs(lep.eta) <= max_abs_eta]
    n_leptons = int(ak.sum(ak.num(lep)))
    if n_leptons == 0:
        raise GammastarError(f"{path}: no {collection} leptons in tree {tree!r}" + (" after the cuts" if min_pt or max_abs_eta else ""))
    pairs = ak.combinations(lep, 2, fields=["a", "b"])
    m_l = mass(lepton)

    def four(x: ak.Array) -> np.ndarray:
        v: Any = vector.array({"pt": ak.to_numpy(ak.flatten(x.pt)).astype(float),
                          "eta": ak.to_numpy(ak.flatten(x.eta)).astype(float),
                          "phi": ak.to_numpy(ak.flatten(x.phi)).astype(float),
                          "mass": np.full(int(ak.sum(ak.num(x.pt))), m_l)})
        return np.column_stack([v.px, v.py, v.pz, v.E])

    a, b = four(pairs.a), four(pairs.b)
    qa = ak.to_numpy(ak.flatten(pairs.a.charge))
    qb = ak.to_numpy(ak.flatten(pairs.b.charge))
    opposite = qa * qb < 0
    a_pos = (qa > 0)[:, None]
    pos = np.where(a_pos, a, b)[opposite]
    neg = np.where(a_pos, b, a)[opposite]
    weight = np.ones(len(pos))
    same = qa * qb > 0
    n_pp, n_mm = int(np.sum(same & (qa > 0))), int(np.sum(same & (qa < 0)))
    if background == "like-sign":
        ls_a, ls_b = a[same], b[same]
        p = ls_a + ls_b
        m_ls = np.sqrt(np.clip(p[:, 3] ** 2 - np.sum(p[:, :3] ** 2, axis=1), 0.0, None))
        w_ls = like_sign_weights(m_ls, qa[same] > 0, 2.0 * m_l, r, bin_width)
        keep = w_ls != 0
        pos = np.concatenate([pos, ls_a[keep]])
        neg = np.concatenate([neg, ls_b[keep]])
        weight = np.concatenate([weight, w_ls[keep]])
    if not len(pos):
        raise GammastarError(f"{path}: no opposite-sign {collection} pairs in tree {tree!r}")
    return LeptonPairs(pos, neg, weight, lepton, int(opposite.sum()), n_pp, n_mm)
