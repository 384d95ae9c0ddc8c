"""Pythia8 cross-check backend: dileptons from Pythia8 soft-QCD p-p collisions, with their truth.

An event generator independent of the built-in cocktail checks the whole
method: Pythia8 (package ``pythia8mc``, extra ``gammastar[pythia]``) makes
inelastic p-p collisions (``SoftQCD:inelastic``) at the fixed-target
sqrt(s) of the beam energy, with its own string fragmentation, meson
spectra and feed-down (eta' -> eta pi pi, phi -> eta gamma, ...).  Events
are generated in the centre-of-mass frame and boosted by y_beam/2.

Forced decays.  Collisions decay as usual.  Then every meson with a Dalitz
channel (pi0 for electrons; eta, omega, phi) found in the event record is
decayed a second time by a decay-only Pythia whose only channel is the
Dalitz one, P -> gamma l+l- or V -> P l+l- (Pythia's ``meMode = 11``).
Each meson thus gives one pair, weighted by the channel's branching ratio,
so a sample takes minutes where an unforced run would need ~1e4 times as
many collisions.

Truth (docs/physics.md section 3).  Pythia's own multiplicities <N> per
inelastic collision (every instance in the record, feed-down included)
times the direct A' formula with the form factor and phase space that
Pythia's decayer samples (``ParticleDecays::dalitzMass``):

==============  ==============================================================
pseudoscalar    N_V(m) = <N_P> 2 BR(P -> gg) (1 - m^2/M_P^2)^3 |F|^2  (section 3)
vector          N_V(m) = <N_V> BR(V -> P g) (1 - m^2/(M_V - M_P)^2)^3 |F|^2
==============  ==============================================================

with |F|^2 the width-regularised pole of section 3 at Lambda = m_rho,
G = Gamma_rho (Pythia's choice).  For V -> P l+l- Pythia samples its own
"guessed" phase-space factor instead of section 3's
[lambda^(1/2)/(M_V^2 - M_P^2)]^3; the truth follows what is generated.
A pair's weight is the branching ratio this N_V implies,
BR(-> X l+l-) = int N_V phi_l dm / <N>; Pythia's tabulated value is kept
beside it in the truth record for comparison (e.g. eta -> gamma mu mu).

Left out, with reasons: eta' (Pythia's table decays eta' -> gamma mu mu by
flat phase space, and its Dalitz matrix element cannot be used because the
rho pole inside the eta' range pushes the accept-reject weight above 1);
the two-body decays V -> l+l-, whose A' counterpart is A'-V mixing and has
no independent truth.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate
from tqdm import tqdm

from ..errors import GammastarError
from ..io.jsontext import dumps
from ..io.pairs import BEAM_ENERGY_KEY, TRUTH_KEY
from ..io.subtract import GAMMA_STAR_ONLY_KEY
from ..physics.beams import Beam
from ..physics.formfactors import regularised_pole_ff2
from ..physics.formulas import br_pseudoscalar_to_gamma_aprime, phi_l, sqrt_s_fixed_target, y_beam
from ..physics.kinematics import boost_z
from ..physics.pdg import mass
from ..samples import EventSample, check_lepton
from .sources import Source, check_lepton_and_count, yield_truth

__all__ = ["PYTHIA_SOURCES", "PythiaConfig", "available", "generate_pythia", "parse_pythia_sources"]

#: Dalitz sources: name -> (PDG id, kind, recoil PDG id).  Source ids in the output follow this order.
PYTHIA_SOURCES = {
    "pi0": (111, "dalitz_p", 22),
    "eta": (221, "dalitz_p", 22),
    "omega": (223, "dalitz_v", 111),
    "phi": (333, "dalitz_v", 221),
}
#: Mesons whose multiplicities the truth record reports (for comparison with other generators).
COUNTED = {"pi0": 111, "eta": 221, "etap": 331, "rho0": 113, "omega": 223, "phi": 333}
LEPTON_ID = {"e": 11, "mu": 13}
RECOIL_NAME = {22: "gamma", 111: "pi0", 221: "eta"}
MAX_DECAY_TRIES = 10


def available() -> bool:
    """Whether the optional Pythia8 bindings (``pythia8mc``) are installed."""
    try:
        import pythia8mc  # noqa: F401
    except ImportError:
        return False
    return True


def _pythia8() -> Any:
    try:
        import pythia8mc
    except ImportError:
        raise GammastarError(
            "the pythia8 generator needs the Pythia8 Python bindings: pip install 'gammastar[pythia]' "
            "(package pythia8mc; where PyPI has no wheel for this platform pip compiles Pythia, which can take an hour)"
        ) from None
    return pythia8mc


def _xmldoc(p8: Any) -> str:
    """Pythia's settings directory: $PYTHIA8DATA, else where the pythia8mc wheel installs it."""
    env = os.environ.get("PYTHIA8DATA")
    if env:
        return env
    return str(Path(p8.__file__).resolve().parent.parent.parent.parent / "share" / "Pythia8" / "xmldoc")


@dataclass(frozen=True)
class PythiaConfig:
    """Settings of the Pythia8 sample.  ``n_events`` counts pairs, as for the cocktail."""

    n_events: int = 100_000
    seed: int = 1
    lepton: str = "mu"
    beam_energy: float = 400.0
    sources: str | tuple[str, ...] | None = None  # a spec for parse_pythia_sources; None: all the lepton allows


def parse_pythia_sources(spec: str | list[str] | tuple[str, ...] | None, lepton: str) -> tuple[str, ...]:
    """Source names from ``"eta,omega"``, ``"dalitz"``/``"all"``/None (every one the lepton allows)."""
    allowed = tuple(s for s in PYTHIA_SOURCES if not (s == "pi0" and lepton == "mu"))
    if spec is None:
        return allowed
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec)]
    out: list[str] = []
    for name in names:
        for s in allowed if name in ("dalitz", "all") else (name,):
            if s not in allowed:
                raise GammastarError(f"the pythia8 generator has no {lepton}{lepton} source {s!r}; "
                                     f"choose from {', '.join(allowed)}, dalitz, all")
            if s not in out:
                out.append(s)
    if not out:
        raise GammastarError("no sources selected")
    return tuple(out)


def _new_pythia(p8: Any, settings: list[str]) -> Any:
    py = p8.Pythia(_xmldoc(p8), False)
    for s in ["Print:quiet = on", "Next:numberCount = 0", *settings]:
        if not py.readString(s):
            raise GammastarError(f"Pythia rejected the setting {s!r}")
    if not py.init():
        raise GammastarError("Pythia failed to initialise (see its messages above)")
    return py


def _channel_br(pdata: Any, pid: int, multiset: list[int]) -> float | None:
    """Pythia's tabulated branching ratio of ``pid`` into exactly ``multiset`` (None if absent)."""
    entry = pdata.particleDataEntryPtr(pid)
    for i in range(entry.sizeChannels()):
        ch = entry.channel(i)
        prods = sorted(ch.product(k) for k in range(ch.multiplicity()))
        if prods == sorted(multiset):
            return float(ch.bRatio())
    return None


@dataclass(frozen=True)
class _Dalitz:
    """One Dalitz channel as Pythia's decayer samples it (masses, BR and form factor from Pythia)."""

    name: str
    pid: int
    kind: str
    recoil: int
    m_parent: float
    m_recoil: float
    br_radiative: float  # BR(P -> gamma gamma) or BR(V -> P gamma), Pythia's table
    m_rho: float
    g_rho: float

    @property
    def m_hi(self) -> float:
        return self.m_parent - self.m_recoil

    def ff2(self, m: ArrayLike) -> np.ndarray:
        return regularised_pole_ff2(m, 1.0 / self.m_rho**2, self.g_rho)

    def n_v_per_meson(self, m: ArrayLike) -> np.ndarray:
        """A' per meson per eps^2 at mass m (dimensionless density in m, GeV^-1 times GeV)."""
        m = np.asarray(m, dtype=float)
        if self.kind == "dalitz_p":
            return br_pseudoscalar_to_gamma_aprime(m, self.m_parent, self.br_radiative, self.ff2(m))
        x = np.clip(1.0 - m**2 / self.m_hi**2, 0.0, None)  # zero above the end point
        return np.asarray(self.br_radiative * x**3 * self.ff2(m))

    def br_ll(self, m_l: float) -> float:
        """BR(-> X l+l-) implied by :meth:`n_v_per_meson`: int N_V phi_l dm over 2 m_l < m < m_hi."""
        val, _ = integrate.quad(lambda t: float(self.n_v_per_meson(t) * phi_l(t, m_l)),
                                2.0 * m_l, self.m_hi, limit=200, epsrel=1e-10)
        return float(val)

    def max_accept_weight(self, m_l: float) -> float:
        """Largest weight of Pythia's accept-reject in s = m^2 (must not exceed 1 for exact sampling)."""
        s_min, s_max = (2.0 * m_l) ** 2, self.m_hi**2
        if s_min >= s_max:  # closed channel: nothing sampled
            return 0.0
        s = np.geomspace(s_min * 1.000001, s_max, 20_001)
        r = s_min / s
        return float(np.max((1 + 0.5 * r) * np.sqrt(1 - r) * (1 - s / s_max) ** 3 * self.ff2(np.sqrt(s))))


def _channels(py: Any, names: tuple[str, ...], lepton: str) -> dict[str, _Dalitz]:
    pd = py.particleData
    m_rho, g_rho = pd.m0(113), pd.mWidth(113)
    out = {}
    for name in names:
        pid, kind, recoil = PYTHIA_SOURCES[name]
        br_rad = _channel_br(pd, pid, [22, recoil])
        if br_rad is None:
            raise GammastarError(f"Pythia's decay table has no radiative channel for {name}")
        ch = _Dalitz(name, pid, kind, recoil, pd.m0(pid), 0.0 if recoil == 22 else pd.m0(recoil), br_rad, m_rho, g_rho)
        w = ch.max_accept_weight(mass(lepton))
        if w > 1.0:  # Pythia would silently truncate its mass distribution
            raise GammastarError(f"Pythia's Dalitz sampling of {name} is not exact (weight {w:.3g} > 1)")
        out[name] = ch
    return out


def _mesons(event: Any, counted: dict[int, str], wanted: set[int]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One pass over a Pythia event record: the names of all counted mesons, and
    (name, pid, px, py, pz) of the wanted ones."""
    names, found = [], []
    for i in range(event.size()):
        p = event[i]
        pid = p.id()
        if pid in counted:
            names.append(counted[pid])
            if pid in wanted:
                found.append((counted[pid], pid, p.px(), p.py(), p.pz()))
    return names, found


def _decay(decayer: Any, mesons: list[tuple[Any, ...]], lid: int, m0: dict[int, float]) -> list[tuple[list[float], list[float]]]:
    """Force each meson into its Dalitz channel; the (l+, l-) four-momenta per meson.

    Each decays at its nominal mass ``m0[pid]`` (same three-momentum): the
    truth formula holds at fixed M, and the omega's 8.5 MeV width would
    otherwise smear the steep end point of its Dalitz spectrum.
    """
    for _ in range(MAX_DECAY_TRIES):
        ev = decayer.event
        ev.reset()
        idx = [ev.append(pid, 1, 0, 0, px, py, pz, math.sqrt(px * px + py * py + pz * pz + m0[pid] ** 2), m0[pid])
               for (_, pid, px, py, pz) in mesons]
        if not decayer.next():
            continue
        pairs = []
        for i in idx:
            lp = lm = None
            for d in ev[i].daughterList():
                q = ev[d]
                if q.id() == -lid:
                    lp = [q.px(), q.py(), q.pz(), q.e()]
                elif q.id() == lid:
                    lm = [q.px(), q.py(), q.pz(), q.e()]
            if lp is None or lm is None:
                break
            pairs.append((lp, lm))
        else:
            return pairs
    raise GammastarError(f"Pythia failed {MAX_DECAY_TRIES} times to decay {[m[0] for m in mesons]}")


def _pythia_seed(seed: int, k: int) -> int:
    # Pythia takes seeds 1..900000000 (0 would mean "from the clock").
    return 1 + (2 * seed + k) % 899_999_999


def generate_pythia(cfg: PythiaConfig, progress: bool = True) -> tuple[EventSample, np.ndarray, dict[str, Any]]:
    """Generate dileptons with Pythia8: returns (EventSample, source_id array, truth dict).

    Runs collisions until at least ``cfg.n_events`` pairs exist (the last
    collision's pairs are all kept, so the collision count stays exact).
    The same ``cfg`` (including the seed) gives the same events.
    """
    check_lepton_and_count(cfg.lepton, cfg.n_events)
    if not cfg.beam_energy > 10.0:
        raise GammastarError(f"the pythia8 generator needs a beam energy above 10 GeV (soft QCD), not {cfg.beam_energy}")
    names = parse_pythia_sources(cfg.sources, cfg.lepton)
    p8 = _pythia8()
    sqrt_s = float(sqrt_s_fixed_target(cfg.beam_energy))
    lid = LEPTON_ID[cfg.lepton]
    main = _new_pythia(p8, ["Beams:idA = 2212", "Beams:idB = 2212", f"Beams:eCM = {sqrt_s!r}",
                            "SoftQCD:inelastic = on", "Random:setSeed = on",
                            f"Random:seed = {_pythia_seed(cfg.seed, 0)}"])
    channels = _channels(main, names, cfg.lepton)
    decayer = _new_pythia(p8, ["ProcessLevel:all = off", "Random:setSeed = on",
                               f"Random:seed = {_pythia_seed(cfg.seed, 1)}"]
                          + [f"{ch.pid}:oneChannel = 1 1.0 11 {ch.recoil} {lid} {-lid}" for ch in channels.values()])
    wanted = {ch.pid for ch in channels.values()}
    m0 = {ch.pid: ch.m_parent for ch in channels.values()}
    counted = {pid: name for name, pid in COUNTED.items()}

    pos: list[list[float]] = []
    neg: list[list[float]] = []
    sid: list[int] = []
    counts = dict.fromkeys(COUNTED, 0)
    n_coll = n_failed = 0
    source_id = {name: k for k, name in enumerate(PYTHIA_SOURCES)}
    with tqdm(total=cfg.n_events, desc="pythia8", unit="pair", delay=1.0, disable=not progress) as bar:
        while len(sid) < cfg.n_events:
            if not main.next():
                n_failed += 1
                if n_failed > 1000 + n_coll // 100:
                    raise GammastarError(f"Pythia failed on {n_failed} of {n_coll + n_failed} collisions")
                continue
            n_coll += 1
            names_seen, mesons = _mesons(main.event, counted, wanted)
            for name in names_seen:
                counts[name] += 1
            if not mesons:
                continue
            for (name, *_), (lp, lm) in zip(mesons, _decay(decayer, mesons, lid, m0), strict=True):
                pos.append(lp)
                neg.append(lm)
                sid.append(source_id[name])
            bar.update(min(len(mesons), cfg.n_events - bar.n))

    y_cm = float(y_beam(cfg.beam_energy) / 2.0)
    pos_a, neg_a = boost_z(np.array(pos), y_cm), boost_z(np.array(neg), y_cm)
    sid_a = np.array(sid, dtype=np.int8)
    br = {name: ch.br_ll(mass(cfg.lepton)) for name, ch in channels.items()}
    weight = np.empty(sid_a.size)
    for name in names:
        weight[sid_a == source_id[name]] = br[name]
    truth = _truth(cfg, names, channels, br, counts, n_coll, n_failed, sqrt_s, y_cm, main)
    data = EventSample(pos_a, neg_a, weight, check_lepton(cfg.lepton), float(n_coll), f"pythia8 {truth['pythia_version']}",
                           {TRUTH_KEY: dumps(truth, indent=None), BEAM_ENERGY_KEY: repr(cfg.beam_energy),
                        GAMMA_STAR_ONLY_KEY: "true"},
                       Beam.fixed_target(cfg.beam_energy))
    return data, sid_a, truth


def _truth(cfg: PythiaConfig, names: tuple[str, ...], channels: dict[str, _Dalitz], br: dict[str, float],
           counts: dict[str, int], n_coll: int, n_failed: int, sqrt_s: float, y_cm: float, main: Any) -> dict[str, Any]:
    mult = {name: counts[name] / n_coll for name in COUNTED}
    sources = {
        name: Source(name, ch.kind, name, RECOIL_NAME[ch.recoil], partial(_scaled, ch.n_v_per_meson, mult[name]), ch.m_hi,
               mult[name])
        for name, ch in channels.items()
    }
    pd = main.particleData
    lid = LEPTON_ID[cfg.lepton]
    return {
        "generator": "gammastar.pythia",
        "pythia_version": f"{main.settings.parm('Pythia:versionNumber'):.3f}",
        "process": "SoftQCD:inelastic p p, centre-of-mass frame boosted by y_beam/2",
        "seed": cfg.seed,
        "lepton": cfg.lepton,
        "beam_energy": cfg.beam_energy,
        "sqrt_s": sqrt_s,
        "y_cm": y_cm,
        "n_events": int(sum(counts[n] for n in names)),
        "n_collisions": n_coll,
        "n_failed_collisions": n_failed,
        "multiplicities": {name: {"per_collision": mult[name], "err": float(np.sqrt(counts[name])) / n_coll}
                           for name in COUNTED},
        "form_factor": {"kind": "regularised pole", "lambda": channels[names[0]].m_rho, "gamma": channels[names[0]].g_rho},
        "sources": {
            name: {
                "kind": ch.kind,
                "pdg_id": ch.pid,
                "multiplicity": mult[name],
                "br_radiative": ch.br_radiative,
                "br_ll": br[name],
                "br_ll_pythia_table": _channel_br(pd, ch.pid, [ch.recoil, lid, -lid]),
                "pairs_per_collision": mult[name] * br[name],
                "n_generated": counts[name],
                "source_id": list(PYTHIA_SOURCES).index(name),
            }
            for name, ch in channels.items()
        },
        **yield_truth(sources, cfg.lepton),
    }


def _scaled(f: Callable[[np.ndarray], np.ndarray], factor: float, m: np.ndarray) -> np.ndarray:
    return np.asarray(factor * f(m))
