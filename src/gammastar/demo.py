"""The demo: mock -> rates -> plots and tables on the built-in dimuon cocktail, in one go.

:func:`run_demo` is what ``gammastar demo`` runs: it generates the NA60-like
cocktail, reads it back as a user's file, estimates A' and mCP yields and
draws them against the cocktail's exact truth.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .figures import plot_label
from .io.atomic import atomic_path, write_text
from .io.jsontext import dumps
from .io.pairs import read_dileptons
from .rates.plots import plot_aprime, plot_mass_spectrum, plot_mcp
from .rates.yields import aprime_yield, mcp_yield, parse_mass_spec
from .truth.cocktail import DALITZ, SOURCES, MockConfig
from .truth.mock import generate_mock, save_mock

__all__ = ["run_demo"]

#: the demo's A' masses and m_chi values
APRIME_MASSES = "0.22:1.2:0.005"
MCHI_VALUES = "0.01:0.45:0.01"


def run_demo(out: str | Path, n_events: int = 500_000, seed: int = 1,
             say: Callable[[str], None] = lambda _: None) -> list[Path]:
    """Run the demo into the directory ``out``; ``say`` reports each step.  Returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say(f"[1/4] generating {n_events} mock mu mu pairs (seed {seed})")
    data, sid, truth = generate_mock(MockConfig(n_events=n_events, seed=seed))
    pairs_path, truth_path = save_mock(out / "dimuons.parquet", data, sid, truth, out / "truth.json")

    say("[2/4] reading them back and estimating A' and mCP yields")
    data = read_dileptons(pairs_path)
    ap = aprime_yield(data, parse_mass_spec(APRIME_MASSES), progress=True)
    m_chi = parse_mass_spec(MCHI_VALUES)
    mcps = [mcp_yield(data, m_chi, spin=s) for s in ("fermion", "scalar")]

    say("[3/4] plotting")
    t_ap = truth["aprime"]
    t_by = t_ap["by_source"]
    dalitz = np.sum([t_by[s] for s in DALITZ if s in t_by], axis=0)
    label = plot_label(data)
    files = [
        plot_aprime(ap, out / "aprime_yield.png", {
            "truth (all sources)": (np.array(t_ap["mass"]), np.array(t_ap["n_per_eps2"])),
            "truth, Dalitz decays only": (np.array(t_ap["mass"]), dalitz),
        }, label),
        plot_mcp(mcps, out / "mcp_yield.png", {
            s: (np.array(truth["mcp"]["m_chi"]), np.array(truth["mcp"][s]["n_pairs_per_eps2_visible"]))
            for s in ("fermion", "scalar")
        }, label),
        plot_mass_spectrum(data.mass, data.weight, out / "dimuon_mass.png", data.lepton, data.scale,
                           groups={s: sid == SOURCES.index(s) for s in SOURCES if s in truth["sources"]}, label=label),
    ]

    say("[4/4] writing tables")
    results = {"aprime": {**ap.to_dict(), "truth_n_per_eps2": np.interp(ap.mass, t_ap["mass"], t_ap["n_per_eps2"]).tolist()},
               "mcp": {r.spin: r.to_dict() for r in mcps}, "n_collisions": data.n_collisions, "data": str(pairs_path)}
    write_text(out / "results.json", dumps(results))
    with atomic_path(out / "aprime_yield.csv") as tmp:
        np.savetxt(tmp, np.column_stack([ap.mass, ap.n_per_eps2, ap.n_err, ap.bandwidth]),
                   delimiter=",", header="mass_gev,n_per_eps2,n_err,bandwidth_gev", comments="", fmt="%.6g")
    with atomic_path(out / "mcp_yield.csv") as tmp:
        np.savetxt(tmp, np.column_stack([m_chi] + [c for r in mcps for c in (r.n_pairs_per_eps2, r.n_err)]),
                   delimiter=",", header="m_chi_gev,fermion,fermion_err,scalar,scalar_err", comments="", fmt="%.6g")
    return files + [out / "results.json", out / "aprime_yield.csv", out / "mcp_yield.csv", pairs_path, truth_path]
