"""Pythia8 cross-check at full size: generation time, closure against Pythia's truth, comparison with the cocktail.

Needs the optional extra (``pip install 'gammastar[pythia]'``).

    python bench/pythia_crosscheck.py [--n-events 3e5] [--seed 1] [--lepton mu] [--out bench/out/pythia_crosscheck.json]

Prints and writes: collisions and pairs per second, peak memory; A' yields at
0.22-0.62 GeV and mCP yields (both spins) from the Pythia dileptons vs the
truth from Pythia's own meson multiplicities (pulls, chi2/ndf); Pythia's
multiplicities beside the cocktail's NA27 values, and its Dalitz A' yield
beside the cocktail's.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from benchutil import HERE, peak_rss_gb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-events", type=float, default=3e5, help="dilepton pairs to generate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lepton", default="mu", choices=["mu", "e"])
    ap.add_argument("--out", default=str(HERE / "out" / "pythia_crosscheck.json"))
    args = ap.parse_args()

    import gammastar
    from gammastar.truth.cocktail import DALITZ, MULTIPLICITY, direct_aprime_yield
    from gammastar.truth.pythia import PythiaConfig, generate_pythia

    t0 = time.perf_counter()
    data, _, truth = generate_pythia(PythiaConfig(n_events=int(args.n_events), seed=args.seed, lepton=args.lepton))
    t_gen = time.perf_counter() - t0
    n_coll = truth["n_collisions"]
    print(f"Pythia {truth['pythia_version']}: {len(data)} pairs from {n_coll} collisions in {t_gen:.0f} s "
          f"({n_coll / t_gen:.0f} collisions/s, {len(data) / t_gen:.0f} pairs/s)")

    lo = 0.22 if args.lepton == "mu" else 0.02
    masses = np.round(np.linspace(lo, 0.62, 9), 4)
    res = gammastar.aprime_yield(data, masses)
    t_ap = np.interp(masses, truth["aprime"]["mass"], truth["aprime"]["n_per_eps2"])
    pulls = (res.n_per_eps2 - t_ap) / res.n_err
    print("A' per collision per eps^2: mass, data-driven +- err, Pythia truth, pull")
    for row in zip(masses, res.n_per_eps2, res.n_err, t_ap, pulls, strict=True):
        print("  {:.3f}  {:.4e} +- {:.1e}  {:.4e}  {:+.2f}".format(*row))
    chi2 = float(np.sum(pulls**2) / len(pulls))
    print(f"  chi2/ndf = {chi2:.2f}")

    m_chi = np.array([0.05, 0.1, 0.15, 0.2, 0.25])
    mcp = {}
    for spin in ("fermion", "scalar"):
        r = gammastar.mcp_yield(data, m_chi, spin=spin)
        t = np.interp(m_chi, truth["mcp"]["m_chi"], truth["mcp"][spin]["n_pairs_per_eps2_visible"])
        mcp[spin] = {"m_chi": m_chi.tolist(), "ratio": (r.n_pairs_per_eps2 / t).tolist(),
                     "pull": ((r.n_pairs_per_eps2 - t) / r.n_err).tolist()}
        print(f"mCP {spin}: data/truth " + " ".join(f"{x:.4f}" for x in mcp[spin]["ratio"]))

    # how Pythia compares with the cocktail: multiplicities and the Dalitz A' yield
    mult = {k: v["per_collision"] for k, v in truth["multiplicities"].items()}
    cocktail = {"eta": MULTIPLICITY["eta"], "etap": MULTIPLICITY["etap"], "rho0": MULTIPLICITY["rho"],
                "omega": MULTIPLICITY["omega"], "phi": MULTIPLICITY["phi"]}
    print("multiplicity per inelastic collision: Pythia vs cocktail (NA27)")
    for k, v in mult.items():
        print(f"  {k:6s} {v:.4f}   {cocktail.get(k, float('nan')):.4f}")
    both = [s for s in truth["sources"] if s in DALITZ]
    ratio_cocktail = (t_ap / direct_aprime_yield(masses, both)).tolist()
    print("Pythia truth / cocktail truth, same Dalitz sources (" + ",".join(both) + "): "
          + " ".join(f"{x:.2f}" for x in ratio_cocktail))

    out = {
        "machine": platform.platform(), "pythia_version": truth["pythia_version"], "lepton": args.lepton,
        "n_pairs": len(data), "n_collisions": n_coll, "seconds": t_gen,
        "collisions_per_s": n_coll / t_gen, "pairs_per_s": len(data) / t_gen, "peak_rss_gb": peak_rss_gb(),
        "aprime": {"mass": masses.tolist(), "n_per_eps2": res.n_per_eps2.tolist(), "n_err": res.n_err.tolist(),
                   "truth": t_ap.tolist(), "pulls": pulls.tolist(), "chi2_ndf": chi2},
        "mcp": mcp,
        "multiplicities": {"pythia": mult, "cocktail": cocktail},
        "br_ll": {k: {"used": v["br_ll"], "pythia_table": v["br_ll_pythia_table"]} for k, v in truth["sources"].items()},
        "pythia_over_cocktail_dalitz_aprime": ratio_cocktail,
    }
    print(f"peak memory {out['peak_rss_gb']:.2f} GB")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
