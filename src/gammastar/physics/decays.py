"""A' decays: lifetime and branching ratios versus mass (``gammastar widths``).

An A' of mass m and kinetic mixing eps decays to whatever the photon couples
to (docs/physics.md section 4):

    Gamma(A' -> l l)      = eps^2 (alpha m / 3) R_l(m),    R_l = (1 + 2 m_l^2/m^2) sqrt(1 - 4 m_l^2/m^2)
    Gamma(A' -> hadrons)  = eps^2 (alpha m / 3) R_had(m^2),
    c tau                 = hbar c / Gamma,                c tau(eps) = c tau(1) / eps^2.

Below 2 m_pi only leptons are open and the widths are exact.  Above, R_had is
itself a measurement (e+e- -> hadrons, dominated by the rho, omega and phi
below 2 GeV), so lifetime and branching ratios come from tables: FORESEE's
2025 tables (``foresee2025``, 2 MeV-2 GeV in 1 MeV steps) where they reach,
DarkCast's (``darkcast``, Ilten, Soreq, Williams, Xue, JHEP 06 (2018) 004;
0.01-10 GeV in 10 MeV steps) above; both as tabulated by FORESEE (MIT
licence, shipped in ``gammastar/data/aprime_decays``).  Where both cover a
mass, their relative difference in c tau is reported as the width-model
uncertainty (~2% below 1 GeV, larger at the resonances).  A user table in
the same columns (``mass_gev, ctau_m_eps1, br_ee, br_mumu, br_hadrons``)
replaces both above 2 m_pi.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import GammastarError
from .formulas import r_lepton
from .pdg import ALPHA, HBARC_GEV_M, mass

__all__ = ["AprimeDecay", "DecayTable", "aprime_decay", "leptonic_width", "shipped_table", "read_decay_table", "decay_positions",
           "TABLES"]

#: the shipped tables, in the order they are used (the first that covers a mass)
TABLES = ("foresee2025", "darkcast")
#: the columns a decay table needs
COLUMNS = ("mass_gev", "ctau_m_eps1", "br_ee", "br_mumu", "br_hadrons")


def leptonic_width(m: ArrayLike, lepton: str) -> np.ndarray:
    """Gamma(A' -> l+ l-) at eps = 1, GeV: alpha m / 3 R_l(m) (0 below threshold)."""
    m = np.asarray(m, dtype=float)
    return np.asarray(ALPHA * m / 3.0 * r_lepton(m, mass(lepton)))


@dataclass(frozen=True)
class DecayTable:
    """c tau at eps = 1 (m) and branching ratios on a mass grid (GeV), interpolated linearly in mass."""

    name: str
    mass: np.ndarray
    ctau: np.ndarray
    br_ee: np.ndarray
    br_mumu: np.ndarray
    br_hadrons: np.ndarray
    #: branching ratios of single hadronic channels, where the table splits them (``br_pipi`` -> "pipi", ...)
    channels: dict[str, np.ndarray] = field(default_factory=dict)

    def covers(self, m: np.ndarray) -> np.ndarray:
        return np.asarray((m >= self.mass[0]) & (m <= self.mass[-1]))

    def at(self, m: np.ndarray) -> dict[str, np.ndarray]:
        # the width (1/c tau) varies smoothly between grid points; interpolating it keeps resonance peaks
        width = np.interp(m, self.mass, 1.0 / self.ctau)
        return {"ctau_m_eps1": 1.0 / width, "br_ee": np.interp(m, self.mass, self.br_ee),
                "br_mumu": np.interp(m, self.mass, self.br_mumu), "br_hadrons": np.interp(m, self.mass, self.br_hadrons)}

    def channel_br(self, m: float) -> dict[str, float]:
        """The branching ratios of the hadronic channels the table splits, at ``m`` (empty where it splits none)."""
        return {name: float(np.interp(m, self.mass, br)) for name, br in self.channels.items()}


def read_decay_table(path: str | Path, name: str | None = None) -> DecayTable:
    """A decay table from a CSV with the columns of :data:`COLUMNS` (others are ignored)."""
    path = Path(path)
    label = name or path.name
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise GammastarError(f"decay table {path}: cannot read it ({exc.strerror or exc})") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise GammastarError(f"decay table {path}: not a CSV file ({exc})") from None
    if not rows:
        raise GammastarError(f"decay table {path}: no rows")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise GammastarError(f"decay table {path}: missing column(s) {', '.join(missing)} (needs {', '.join(COLUMNS)}; "
                             f"it has {', '.join(rows[0])})")
    try:
        cols = {c: np.array([float(r[c]) for r in rows]) for c in COLUMNS}
    except (TypeError, ValueError) as exc:
        raise GammastarError(f"decay table {path}: a value is not a number ({exc})") from None
    m, ctau = cols["mass_gev"], cols["ctau_m_eps1"]
    brs = np.stack([cols["br_ee"], cols["br_mumu"], cols["br_hadrons"]])
    if not all(np.all(np.isfinite(a)) for a in cols.values()):
        raise GammastarError(f"decay table {path}: NaN or infinite values")
    if m.size < 2 or np.any(np.diff(m) <= 0) or m[0] <= 0:
        raise GammastarError(f"decay table {path}: masses must be positive and increasing, with at least two rows")
    if np.any(ctau <= 0) or np.any(brs < 0) or np.any(brs.sum(axis=0) > 1 + 1e-3):
        raise GammastarError(f"decay table {path}: c tau must be positive and the branching ratios in [0, 1], "
                             "summing to at most 1")
    # single hadronic channels (FORESEE's br_pipi, br_pi0gamma, br_3pi, br_kk): optional, kept when all are numbers
    channels = {}
    for c in rows[0]:
        if c.startswith("br_") and c not in COLUMNS and c not in ("br_visible", "br_tautau"):
            try:
                channels[c[3:]] = np.array([float(r[c]) for r in rows])
            except (TypeError, ValueError):
                continue
    return DecayTable(label, m, ctau, brs[0], brs[1], brs[2], channels={k: v for k, v in channels.items() if np.all(np.isfinite(v))})


@cache
def shipped_table(name: str) -> DecayTable:
    """One of the tables shipped with gammastar (:data:`TABLES`)."""
    if name not in TABLES:
        raise GammastarError(f"unknown decay table {name!r}; choose from {', '.join(TABLES)}")
    ref = resources.files("gammastar") / "data" / "aprime_decays" / f"{name}.csv"
    with resources.as_file(ref) as path:
        return read_decay_table(path, name)


@dataclass(frozen=True)
class AprimeDecay:
    """A' lifetime (c tau at eps = 1, metres; it scales as 1/eps^2) and branching ratios, per mass."""

    mass: np.ndarray
    ctau_m_eps1: np.ndarray
    br_ee: np.ndarray
    br_mumu: np.ndarray
    br_hadrons: np.ndarray
    #: where each value comes from: "leptonic" (exact, below 2 m_pi) or the table's name
    table: tuple[str, ...]
    #: |c tau(foresee2025) / c tau(darkcast) - 1| where both tables cover the mass (the width-model spread), else 0
    ctau_model_spread: np.ndarray

    def ctau(self, eps: ArrayLike) -> np.ndarray:
        """c tau (m) at coupling eps: (masses, eps) for arrays of both."""
        eps = np.asarray(eps, dtype=float)
        return np.asarray(self.ctau_m_eps1[:, None] / eps.reshape(1, -1) ** 2 if eps.ndim else self.ctau_m_eps1 / eps**2)

    def br_visible(self, final_states: tuple[str, ...] | list[str]) -> np.ndarray:
        """Sum of the branching ratios into ``final_states`` (any of ee, mumu, hadrons)."""
        out = np.zeros_like(self.mass)
        for fs in final_states:
            if fs not in ("ee", "mumu", "hadrons"):
                raise GammastarError(f"unknown final state {fs!r}: choose from ee, mumu, hadrons")
            out = out + getattr(self, f"br_{fs}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"mass": self.mass.tolist(), "ctau_m_eps1": self.ctau_m_eps1.tolist(), "br_ee": self.br_ee.tolist(),
                "br_mumu": self.br_mumu.tolist(), "br_hadrons": self.br_hadrons.tolist(), "table": list(self.table),
                "ctau_model_spread": self.ctau_model_spread.tolist()}


def aprime_decay(mass_gev: ArrayLike, widths: str | Path | DecayTable | None = None) -> AprimeDecay:
    """A' lifetime and branching ratios at the masses (GeV): exact below 2 m_pi, tabulated above.

    ``widths``: a table (CSV path or :class:`DecayTable`) to use above 2 m_pi instead of the shipped ones.
    """
    m = np.atleast_1d(np.asarray(mass_gev, dtype=float))
    if not np.all(np.isfinite(m)) or np.any(m <= 2 * mass("e")):
        bad = m[~(np.isfinite(m) & (m > 2 * mass("e")))][0]
        raise GammastarError(f"an A' of mass {bad:g} GeV cannot decay to anything (it must exceed 2 m_e = "
                             f"{2 * mass('e'):.4g} GeV)")
    user = read_decay_table(widths) if isinstance(widths, (str, Path)) else widths
    tables = (user,) if user is not None else tuple(shipped_table(n) for n in TABLES)

    g_ee, g_mumu = leptonic_width(m, "e"), leptonic_width(m, "mu")
    g_ll = g_ee + g_mumu
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"ctau_m_eps1": HBARC_GEV_M / g_ll, "br_ee": g_ee / g_ll, "br_mumu": g_mumu / g_ll,
               "br_hadrons": np.zeros_like(m)}
    table = np.full(m.size, "leptonic", dtype=object)
    tabulated = m >= 2 * mass("pi+")
    for t in reversed(tables):  # the first table that covers a mass wins
        use = tabulated & t.covers(m)
        if use.any():
            for key, val in t.at(m[use]).items():
                out[key][use] = val
            table[use] = t.name
    beyond = tabulated & ~np.isin(table, [t.name for t in tables])
    if beyond.any():
        reach = ", ".join(f"{t.name} {t.mass[0]:g}-{t.mass[-1]:g} GeV" for t in tables)
        raise GammastarError(f"no A' width for m = {m[beyond][0]:g} GeV: the decay tables cover {reach}; "
                             "give one that does with `widths=FILE`")

    spread = np.zeros_like(m)
    if user is None:
        f, d = (shipped_table(n) for n in TABLES)
        both = tabulated & f.covers(m) & d.covers(m)
        spread[both] = np.abs(f.at(m[both])["ctau_m_eps1"] / d.at(m[both])["ctau_m_eps1"] - 1.0)
    return AprimeDecay(m, out["ctau_m_eps1"], out["br_ee"], out["br_mumu"], out["br_hadrons"],
                       tuple(str(t) for t in table), spread)



def decay_positions(l_z: ArrayLike, z_lo: ArrayLike, z_hi: ArrayLike, u: ArrayLike) -> np.ndarray:
    """Where along z particles of decay length (projected on z) ``l_z`` decay, given that they decay in
    [z_lo, z_hi]: the exponential law truncated to that interval, from uniforms ``u`` in [0, 1).

    F(z) = (1 - exp(-(z - z_lo)/l_z)) / (1 - exp(-(z_hi - z_lo)/l_z)), inverted with expm1 and log1p so that a
    long-lived particle (l_z >> z_hi - z_lo: uniform) and a short-lived one (l_z << z_hi - z_lo: piled up at z_lo)
    lose no precision.
    """
    l_z, z_lo, z_hi = (np.asarray(a, dtype=float) for a in (l_z, z_lo, z_hi))
    z = z_lo - l_z * np.log1p(np.asarray(u, dtype=float) * np.expm1(-(z_hi - z_lo) / l_z))
    return np.asarray(np.clip(z, z_lo, z_hi))
