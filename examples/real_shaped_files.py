"""Write the kinds of file experiments hand out, filled with the built-in mock, to try the README's commands on.

    python examples/real_shaped_files.py DIR

writes into DIR (float32 branches, as detectors store them):

* ``nano.root``          NanoAOD-style TTree ``Events``: Muon_pt, Muon_eta, Muon_phi, Muon_charge, Muon_mass, Jet_pt
* ``nano_rntuple.root``  the same as an RNTuple (ROOT 6.34's storage)
* ``dimuon.root``        a flat tree ``mumu`` of two legs, CMS open-data names E1, px1, py1, pz1, Q1, E2, ..., Q2,
                         legs in either order and 3% same-sign rows
* ``cartesian.root``     a tree ``muons`` of Cartesian collections Muon_Px, Muon_Py, Muon_Pz, Muon_E, Muon_Charge
* ``zmumu_13tev.root``   Z -> mu mu pairs as at a 13 TeV collider, flat two-leg tree ``Events`` (5 of them
                         mismeasured at 15 TeV)

The mock stands for 400 GeV protons on a fixed target; its number of collisions is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from gammastar.physics.kinematics import boost, from_pt_y_phi, isotropic_directions
from gammastar.physics.pdg import mass
from gammastar.truth.cocktail import DALITZ, MockConfig
from gammastar.truth.mock import generate_mock


def _polar(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = np.hypot(p[:, 0], p[:, 1])
    return pt, np.arcsinh(p[:, 2] / pt), np.arctan2(p[:, 1], p[:, 0])


def _z_pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m_mu = mass("mu")
    m = 91.1876 + 1.2476 * np.tan(np.pi * (rng.random(n) - 0.5))  # Breit-Wigner, kept within 60-120 GeV
    out = np.flatnonzero((m < 60.0) | (m > 120.0))
    while out.size:
        m[out] = 91.1876 + 1.2476 * np.tan(np.pi * (rng.random(out.size) - 0.5))
        out = out[(m[out] < 60.0) | (m[out] > 120.0)]
    z = from_pt_y_phi(rng.exponential(8.0, n), rng.normal(0.0, 1.2, n), rng.uniform(-np.pi, np.pi, n), m)
    k = np.sqrt(m**2 / 4 - m_mu**2)
    d = isotropic_directions(n, rng)
    e = np.sqrt(k**2 + m_mu**2)
    beta = z[:, :3] / z[:, 3:4]
    return boost(np.column_stack([k[:, None] * d, e]), beta), boost(np.column_stack([-k[:, None] * d, e]), beta)


def _legs(a: np.ndarray, b: np.ndarray, qa: np.ndarray) -> dict[str, np.ndarray]:
    cols = {f"{c}{leg}": p[:, j].astype(np.float32) for leg, p in (("1", a), ("2", b))
            for j, c in enumerate(("px", "py", "pz", "E"))}
    cols["Q1"], cols["Q2"] = qa.astype(np.int32), (-qa).astype(np.int32)
    return cols


def main(out: Path, n: int = 200_000, seed: int = 7) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data, _, _ = generate_mock(MockConfig(n_events=n, seed=seed, sources=DALITZ), progress=False)
    rng = np.random.default_rng(seed)
    swap = rng.random(n) < 0.5
    a, b = np.where(swap[:, None], data.neg, data.pos), np.where(swap[:, None], data.pos, data.neg)
    qa = np.where(swap, -1, 1)
    counts = np.full(n, 2)

    def jagged(x: np.ndarray, y: np.ndarray, dtype: type) -> ak.Array:
        return ak.unflatten(np.column_stack([x, y]).ravel().astype(dtype), counts)

    pa, pb = _polar(a), _polar(b)
    muon = {k: jagged(pa[i], pb[i], np.float32) for i, k in enumerate(("pt", "eta", "phi"))}
    muon["charge"] = jagged(qa, -qa, np.int32)
    muon["mass"] = jagged(np.full(n, mass("mu")), np.full(n, mass("mu")), np.float32)
    jet = ak.unflatten(rng.exponential(30.0, n).astype(np.float32), np.ones(n, dtype=int))
    with uproot.recreate(out / "nano.root") as f:
        f.mktree("Events", {"Muon": ak.zip(muon).type.content, "Jet_pt": jet.type}).extend(
            {"Muon": ak.zip(muon), "Jet_pt": jet})
    with uproot.recreate(out / "nano_rntuple.root") as f:
        f.mkrntuple("Events", ak.Array({**{f"Muon_{k}": v for k, v in muon.items()}, "Jet_pt": jet}))
    flat = _legs(a, b, qa)
    ss = int(0.03 * n)
    flat = {k: np.concatenate([v, v[:ss] if k not in ("Q1", "Q2") else np.ones(ss, np.int32)]) for k, v in flat.items()}
    with uproot.recreate(out / "dimuon.root") as f:
        f.mktree("mumu", {k: v.dtype for k, v in flat.items()}).extend(flat)
    cart = {c: jagged(a[:, j], b[:, j], np.float32) for j, c in enumerate(("Px", "Py", "Pz", "E"))}
    cart["Charge"] = jagged(qa, -qa, np.int32)
    with uproot.recreate(out / "cartesian.root") as f:
        f.mktree("muons", {"Muon": ak.zip(cart).type.content}).extend({"Muon": ak.zip(cart)})
    zp, zn = _z_pairs(50_000, rng)
    zp[:5] *= 15000.0 / zp[:5, 3:4]  # five muons mismeasured at 15 TeV, more than the collision has
    zp[:5, 3] = np.sqrt(np.sum(zp[:5, :3] ** 2, axis=1) + mass("mu") ** 2)
    z = _legs(zp, zn, np.ones(len(zp)))
    with uproot.recreate(out / "zmumu_13tev.root") as f:
        f.mktree("Events", {k: v.dtype for k, v in z.items()}).extend(z)
    print(f"wrote {', '.join(sorted(p.name for p in out.glob('*.root')))} in {out}; "
          f"the mock stands for {data.n_collisions:.6g} collisions")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
