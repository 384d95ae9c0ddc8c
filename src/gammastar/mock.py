"""Built-in NA60-like p-A low-mass dilepton cocktail at SPS energy, with its truth.

Sources (per collision, p-p multiplicities at 400 GeV/c from NA27, LEBC-EHS,
M. Aguilar-Benitez et al., Z. Phys. C 50 (1991) 405, used as a stand-in for
p-A per-collision yields; eta' was not measured there and is set to
eta'/omega = 0.12, an assumption of this mock that only sets how many eta'
Dalitz pairs it makes):

==========  =====================  ==============================================
name        process                form factor |F|^2
==========  =====================  ==============================================
eta         eta -> gamma l l       pole, Lambda^-2 = 1.934 GeV^-2 (NA60 2016)
etap        eta' -> gamma l l      width-regularised pole, 1.7 GeV^-2, G = 0.10
omega       omega -> pi0 l l       pole, Lambda^-2 = 2.223 GeV^-2 (NA60 2016)
phi         phi -> eta l l         pole at Lambda = m_phi (vector dominance)
rho_ll      rho -> l l             P-wave Breit-Wigner x exp(-(m - M)/0.17 GeV)
omega_ll    omega -> l l           relativistic Breit-Wigner
phi_ll      phi -> l l             relativistic Breit-Wigner
continuum   smooth gamma* -> l l   N_V ~ exp(-m / 0.25 GeV), 1.5e-5 mu mu pairs
==========  =====================  ==============================================

Every source is described by its N_V(m): the number of unit-coupling vectors
V of mass m it makes per collision (dimensionless), which *is* the direct
dark-photon yield per eps^2 (PHYSICS.md section 3).  Its pairs follow dN_ll/dm = N_V(m) phi_l(m).
For the Dalitz decays N_V is the direct formula BR(P -> gamma A') etc.; the
two-body vector decays are normalised to the PDG BR(V -> mu mu), so the
electron cocktail follows from the same N_V.

Kinematics: parent d N/dpT ~ pT exp(-m_T/T) with T = 0.2 GeV (m_T scaling),
Gaussian rapidity of width 1.0 around y_beam/2, uniform azimuth.  Decay angles:
gamma* from Dalitz decays and from the continuum is transversely polarised
about its flight direction (in the parent frame, resp. the centre-of-mass
frame): dN/dcos(theta) ~ 1 + cos^2 + (4 m_l^2/m^2) sin^2 (Kroll-Wada); the
unpolarised vector mesons decay isotropically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np
from scipy import integrate
from tqdm import tqdm

from . import formfactors as ff
from .errors import GammastarError
from .kinematics import boost, boost_z, from_pt_y_phi, isotropic_directions, rotate_from_axis, two_body_momentum
from .pdg import ALPHA, BR, LEPTONS, mass, width
from .physics import (
    br_pseudoscalar_to_gamma_aprime,
    br_vector_to_pseudoscalar_aprime,
    r_chi,
    r_lepton,
    sqrt_s_fixed_target,
    y_beam,
)

__all__ = [
    "SOURCES",
    "DALITZ",
    "Source",
    "MockConfig",
    "generate_mock",
    "direct_aprime_yield",
    "direct_mcp_yield",
    "mcp_yield_of_sources",
    "direct_aprime_events",
    "direct_mcp_events",
    "truth_record",
]

#: NA27 p-p multiplicities at 400 GeV/c (Z. Phys. C 50 (1991) 405); eta' see module docstring.
MULTIPLICITY = {"eta": 0.30, "rho": 0.385, "omega": 0.39, "phi": 0.019, "etap": 0.12 * 0.39}

M_UPPER = 2.0  # GeV, top of the generated mass range (continuum and resonance tails)
CONTINUUM_T = 0.25  # GeV
CONTINUUM_PAIRS_MUMU = 1.5e-5  # mu mu pairs per collision above 2 m_mu


@dataclass(frozen=True)
class Source:
    """One cocktail source: its N_V(m) per collision and how its pairs are made."""

    name: str
    kind: str  # "dalitz_p", "dalitz_v", "vector_ll", "continuum"
    parent: str
    recoil: str | None  # the Dalitz partner: "gamma", "pi0", "eta"
    n_v: Callable[[np.ndarray], np.ndarray]
    m_hi: float  # highest pair mass

    @property
    def multiplicity(self) -> float:
        return MULTIPLICITY.get(self.parent, float("nan"))

    @property
    def recoil_mass(self) -> float:
        return 0.0 if self.recoil in (None, "gamma") else mass(self.recoil)

    @property
    def resonances(self) -> list[float]:
        return [mass(self.parent)] if self.kind == "vector_ll" else []


def _ff_eta(m):
    return ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_ETA)


def _ff_etap(m):
    return ff.regularised_pole_ff2(m, 1.7, 0.10)


def _ff_omega(m):
    return ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_OMEGA)


def _ff_phi(m):
    return ff.pole_ff2(m, 1.0 / mass("phi") ** 2)


def _dalitz_p(parent: str, ffn) -> Callable:
    def n_v(m):
        return MULTIPLICITY[parent] * br_pseudoscalar_to_gamma_aprime(m, mass(parent), BR[f"{parent}->gg"], ffn(m))

    return n_v


def _dalitz_v(parent: str, recoil: str, br_key: str, ffn) -> Callable:
    def n_v(m):
        m = np.asarray(m, dtype=float)
        inside = m < mass(parent) - mass(recoil)
        ms = np.where(inside, m, 0.0)
        val = br_vector_to_pseudoscalar_aprime(ms, mass(parent), mass(recoil), BR[br_key], ffn(ms))
        return MULTIPLICITY[parent] * np.where(inside, val, 0.0)

    return n_v


def _phi_mu(m):
    return 2.0 * ALPHA * r_lepton(m, mass("mu")) / (3.0 * np.pi * np.asarray(m, dtype=float))


def _breit_wigner(parent: str) -> Callable:
    """Relativistic Breit-Wigner in m (unit-normalised shape before BR scaling)."""
    m0, g0 = mass(parent), width(parent)

    def shape(m):
        m = np.asarray(m, dtype=float)
        if parent == "rho":  # P-wave pi pi width, Gamma(m) = Gamma0 (M/m) (k/k0)^3
            mpi = mass("pi+")
            k = np.sqrt(np.clip(m**2 / 4 - mpi**2, 0.0, None))
            k0 = np.sqrt(m0**2 / 4 - mpi**2)
            g = g0 * (m0 / np.where(m > 0, m, 1.0)) * (k / k0) ** 3
        else:
            g = np.full_like(m, g0)
        return 2.0 * m * m0 * g / np.pi / ((m**2 - m0**2) ** 2 + m0**2 * g**2)

    return shape


def _vector_ll(parent: str) -> Callable:
    bw = _breit_wigner(parent)
    m0 = mass(parent)

    def shape(m):
        # The broad rho gets the Boltzmann factor of hadronic production
        # (T = 0.17 GeV), which keeps its P-wave tail from dominating above
        # 1 GeV; for the narrow omega and phi it would only distort the tails.
        if parent != "rho":
            return bw(m)
        return bw(m) * np.exp(-(np.asarray(m, dtype=float) - m0) / 0.17)

    lo = 2.0 * mass("mu")
    norm, _ = integrate.quad(lambda t: shape(t) * _phi_mu(t), lo, M_UPPER, points=[mass(parent)], limit=400)
    c = MULTIPLICITY[parent] * BR[f"{parent}->mumu"] / norm

    def n_v(m):
        m = np.asarray(m, dtype=float)
        return np.where(m < M_UPPER, c * shape(m), 0.0)

    return n_v


def _continuum() -> Callable:
    lo = 2.0 * mass("mu")
    norm, _ = integrate.quad(lambda t: np.exp(-t / CONTINUUM_T) * _phi_mu(t), lo, M_UPPER, limit=200)
    c = CONTINUUM_PAIRS_MUMU / norm

    def n_v(m):
        m = np.asarray(m, dtype=float)
        return np.where(m < M_UPPER, c * np.exp(-m / CONTINUUM_T), 0.0)

    return n_v


@cache
def _sources() -> dict[str, Source]:
    return {
        "eta": Source("eta", "dalitz_p", "eta", "gamma", _dalitz_p("eta", _ff_eta), mass("eta")),
        "etap": Source("etap", "dalitz_p", "etap", "gamma", _dalitz_p("etap", _ff_etap), mass("etap")),
        "omega": Source("omega", "dalitz_v", "omega", "pi0", _dalitz_v("omega", "pi0", "omega->pi0g", _ff_omega), mass("omega") - mass("pi0")),
        "phi": Source("phi", "dalitz_v", "phi", "eta", _dalitz_v("phi", "eta", "phi->etag", _ff_phi), mass("phi") - mass("eta")),
        "rho_ll": Source("rho_ll", "vector_ll", "rho", None, _vector_ll("rho"), M_UPPER),
        "omega_ll": Source("omega_ll", "vector_ll", "omega", None, _vector_ll("omega"), M_UPPER),
        "phi_ll": Source("phi_ll", "vector_ll", "phi", None, _vector_ll("phi"), M_UPPER),
        "continuum": Source("continuum", "continuum", "continuum", None, _continuum(), M_UPPER),
    }


SOURCES = ("eta", "etap", "omega", "phi", "rho_ll", "omega_ll", "phi_ll", "continuum")
DALITZ = ("eta", "etap", "omega", "phi")


def parse_sources(spec: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Source names from ``"eta,etap"``, ``"dalitz"``, ``"all"`` or a list."""
    if spec is None:
        return SOURCES
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for name in (n.strip() for n in names):
        group = {"all": SOURCES, "dalitz": DALITZ}.get(name, (name,))
        for g in group:
            if g not in SOURCES:
                raise GammastarError(f"unknown source {g!r}; choose from {', '.join(SOURCES)}, dalitz, all")
            if g not in out:
                out.append(g)
    if not out:
        raise GammastarError("no sources selected")
    return tuple(out)


def direct_aprime_yield(masses, sources=SOURCES) -> np.ndarray:
    """Direct-formula A' yield per collision per eps^2, N_V(m), summed over ``sources``."""
    masses = np.asarray(masses, dtype=float)
    return sum(_sources()[s].n_v(masses) for s in parse_sources(sources))


def _integrate_source(src: Source, f: Callable, lo: float) -> float:
    hi = src.m_hi
    if lo >= hi:
        return 0.0
    pts = [p for p in src.resonances if lo < p < hi]
    val, _ = integrate.quad(lambda t: float(src.n_v(t) * f(t)), lo, hi, points=pts or None, limit=400, epsrel=1e-9)
    return val


def dilepton_yield(lepton: str, sources=SOURCES) -> dict[str, float]:
    """Pairs per collision, integrated dN_ll/dm = N_V phi_l, per source."""
    m_l = mass(lepton)
    phi = lambda t: 2.0 * ALPHA * r_lepton(t, m_l) / (3.0 * np.pi * t)  # noqa: E731
    return {s: _integrate_source(_sources()[s], phi, 2.0 * m_l) for s in parse_sources(sources)}


def direct_mcp_yield(m_chi, spin: str = "fermion", sources=SOURCES, m_min: float = 0.0) -> np.ndarray:
    """Direct chi-chibar pairs per collision per eps^2 from ``sources``.

    Integrates N_V(m) (2 alpha / (3 pi m)) R_chi(m) over m > max(2 m_chi, m_min);
    pass ``m_min = 2 m_l`` for the part a dilepton sample can see.
    """
    return mcp_yield_of_sources([_sources()[s] for s in parse_sources(sources)], m_chi, spin, m_min)


def mcp_yield_of_sources(sources: list[Source], m_chi, spin: str = "fermion", m_min: float = 0.0) -> np.ndarray:
    """chi-chibar pairs per collision per eps^2 from the N_V(m) of ``sources`` (any generator's).

    Vectorised Simpson rule in s with m = lo + (hi - lo) s^2, which makes the
    sqrt(m - 2 m_chi) threshold smooth; 8001 nodes resolve the phi's 4 MeV
    width with ~17 nodes (1e-5 agreement with adaptive quadrature, tested).
    """
    m_chi = np.atleast_1d(np.asarray(m_chi, dtype=float))
    s = np.linspace(0.0, 1.0, 8_001)
    total = np.zeros(m_chi.size)
    for src in sources:
        lo = np.maximum(2.0 * m_chi, m_min)[:, None]
        span = np.clip(src.m_hi - lo, 0.0, None)
        m = lo + span * s**2
        ms = np.where(m > 0, m, 1.0)
        f = src.n_v(ms) * 2.0 * ALPHA * r_chi(ms, m_chi[:, None], spin) / (3.0 * np.pi * ms) * 2.0 * s * span
        total += integrate.simpson(f, x=s, axis=1)
    return total


def yield_truth(sources: dict[str, Source], lepton: str) -> dict:
    """The ``aprime`` and ``mcp`` parts of a truth record: direct yields of ``sources`` on standard grids."""
    m_l = mass(lepton)
    masses = np.round(np.linspace(0.22 if lepton == "mu" else 0.01, 1.5, 256), 6)
    m_chi = np.round(np.linspace(0.01, 0.45, 45), 6)
    srcs = list(sources.values())
    dalitz = [src for src in srcs if src.kind.startswith("dalitz")]
    out = {
        "aprime": {
            "mass": masses.tolist(),
            "n_per_eps2": sum(src.n_v(masses) for src in srcs).tolist(),
            "by_source": {name: src.n_v(masses).tolist() for name, src in sources.items()},
        },
        "mcp": {"m_chi": m_chi.tolist(), "m_min": 2.0 * m_l},
    }
    for spin in ("fermion", "scalar"):
        out["mcp"][spin] = {
            "n_pairs_per_eps2_visible": mcp_yield_of_sources(srcs, m_chi, spin, 2.0 * m_l).tolist(),
            "n_pairs_per_eps2_total": mcp_yield_of_sources(srcs, m_chi, spin).tolist(),
            "n_pairs_per_eps2_visible_dalitz": (
                mcp_yield_of_sources(dalitz, m_chi, spin, 2.0 * m_l).tolist() if dalitz else None
            ),
        }
    return out


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class MockConfig:
    """Settings of the built-in cocktail."""

    n_events: int = 1_000_000
    seed: int = 1
    lepton: str = "mu"
    beam_energy: float = 400.0
    sources: tuple[str, ...] = SOURCES
    temperature: float = 0.2
    sigma_y: float = 1.0


def check_lepton_and_count(lepton: str, n_events: int) -> None:
    """The checks every sample generator makes of its lepton flavour and pair count."""
    if lepton not in LEPTONS:
        raise GammastarError(f"lepton must be one of {', '.join(LEPTONS)}, not {lepton!r}")
    if n_events < 1:
        raise GammastarError(f"n_events must be at least 1, not {n_events}")


def _check_cfg(cfg: MockConfig) -> MockConfig:
    check_lepton_and_count(cfg.lepton, cfg.n_events)
    if not cfg.beam_energy > mass("p"):
        raise GammastarError(f"beam energy must exceed the proton mass, not {cfg.beam_energy}")
    return MockConfig(**{**cfg.__dict__, "sources": parse_sources(cfg.sources)})


def _sample_mass(
    src: Source, n: int, rng: np.random.Generator, m_f: float, spin: str = "fermion", m_min: float = 0.0
) -> np.ndarray:
    """Pair masses from N_V(m) (2 alpha/(3 pi m)) R_f(m) above max(2 m_f, m_min): dileptons, or mCP pairs."""
    lo, hi = max(2.0 * m_f, m_min), src.m_hi
    if lo >= hi:
        raise GammastarError(f"source {src.name} cannot make pairs of mass-{m_f:.4g} GeV particles")
    grid = lo + (hi - lo) * np.linspace(0, 1, 200_001) ** 2  # dense near threshold
    if src.resonances:
        grid = np.union1d(grid, np.clip(src.resonances[0] + width(src.parent) * np.linspace(-30, 30, 20_001), lo, hi))
    dens = src.n_v(grid) * 2.0 * ALPHA * r_chi(grid, m_f, spin) / (3.0 * np.pi * grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    return np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)


def _sample_mt(m: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """m_T from m_T exp(-m_T/T) on [m, inf): a mixture of Exp(T) and Gamma(2, T) above m."""
    exp_part = rng.uniform(size=m.size) < m / (m + temperature)
    x = np.where(exp_part, rng.exponential(temperature, m.size), rng.gamma(2.0, temperature, m.size))
    return m + x


def _polar_cos_theta(m: np.ndarray, m_f: float, spin: str, rng: np.random.Generator) -> np.ndarray:
    """cos(theta) about the axis of a transversely polarised gamma*(m) -> f fbar (PHYSICS.md section 2).

    H = diag(1/2, 1/2, 0): Dirac fermions 1 - beta^2 n.H.n ~ 1 + c^2 + (4 m_f^2/m^2)(1 - c^2)
    (Kroll-Wada; maximum 2), complex scalars n.H.n ~ 1 - c^2 (maximum 1).  Accept-reject.
    """
    a = 4.0 * m_f**2 / m**2
    top = 2.0 if spin == "fermion" else 1.0
    out = np.empty(m.size)
    todo = np.arange(m.size)
    while todo.size:
        c = rng.uniform(-1.0, 1.0, todo.size)
        f = 1.0 + c * c + a[todo] * (1.0 - c * c) if spin == "fermion" else 1.0 - c * c
        ok = rng.uniform(0.0, top, todo.size) < f
        out[todo[ok]] = c[ok]
        todo = todo[~ok]
    return out


def _decay_gamma_star(
    vstar: np.ndarray, m: np.ndarray, m_f: float, axis: np.ndarray | None, rng, spin: str = "fermion"
) -> tuple[np.ndarray, np.ndarray]:
    """gamma*(m) with four-momentum ``vstar`` -> f fbar (positive first).

    With ``axis`` (unit vectors, the gamma* flight direction in the frame that
    defines its polarisation) the law is the transverse one of ``spin``
    about it; without (an unpolarised vector), isotropic for either spin.
    """
    n = m.size
    k = np.sqrt(np.clip(m**2 / 4.0 - m_f**2, 0.0, None))
    if axis is None:
        d = isotropic_directions(n, rng)
    else:
        d = rotate_from_axis(axis, _polar_cos_theta(m, m_f, spin, rng), rng.uniform(0.0, 2.0 * np.pi, n))
    e = np.sqrt(k**2 + m_f**2)
    beta = vstar[:, :3] / vstar[:, 3:4]
    return boost(np.column_stack([k[:, None] * d, e]), beta), boost(np.column_stack([-k[:, None] * d, e]), beta)


def _gamma_stars(src: Source, m: np.ndarray, cfg: MockConfig, rng: np.random.Generator):
    """gamma*(m) of one source, centre-of-mass frame.

    Returns ``(vstar, axis, parent)``: the gamma* four-momenta in the frame
    where its decay law is defined (the parent rest frame for Dalitz decays,
    else the centre-of-mass frame), its polarisation axis there (None:
    unpolarised), and the parent four-momenta that boost that frame to the
    centre of mass (None: already there).
    """
    n = m.size
    m_parent = m if src.kind in ("vector_ll", "continuum") else np.full(n, mass(src.parent))
    mt = _sample_mt(m_parent, cfg.temperature, rng)
    pt = np.sqrt(mt**2 - m_parent**2)
    parent = from_pt_y_phi(pt, rng.normal(0.0, cfg.sigma_y, n), rng.uniform(0, 2 * np.pi, n), m_parent)
    if src.kind == "vector_ll":
        return parent, None, None
    if src.kind == "continuum":
        return parent, parent[:, :3] / np.linalg.norm(parent[:, :3], axis=1)[:, None], None
    # Dalitz: parent -> gamma*(m) + recoil, isotropic in the parent frame.
    q = two_body_momentum(m_parent, m, src.recoil_mass)
    axis = isotropic_directions(n, rng)
    return np.column_stack([q[:, None] * axis, np.sqrt(q**2 + m**2)]), axis, parent


def _to_cm(p4: np.ndarray, parent: np.ndarray | None) -> np.ndarray:
    return p4 if parent is None else boost(p4, parent[:, :3] / parent[:, 3:4])


def _generate_source(
    src: Source, n: int, cfg: MockConfig, rng: np.random.Generator, m_f: float | None = None, spin: str = "fermion"
) -> tuple[np.ndarray, np.ndarray]:
    """n pairs of one source in the centre-of-mass frame: leptons, or mCPs of mass ``m_f``."""
    m_f = mass(cfg.lepton) if m_f is None else m_f
    m = _sample_mass(src, n, rng, m_f, spin)
    vstar, axis, parent = _gamma_stars(src, m, cfg, rng)
    a, b = _decay_gamma_star(vstar, m, m_f, axis, rng, spin)
    return _to_cm(a, parent), _to_cm(b, parent)


def truth_record(cfg: MockConfig, counts: dict[str, int], n_collisions: float) -> dict:
    """The mock's truth: multiplicities, BRs and the direct A' and mCP yields."""
    pairs = dilepton_yield(cfg.lepton, cfg.sources)
    return {
        "generator": "gammastar.mock",
        "seed": cfg.seed,
        "lepton": cfg.lepton,
        "beam_energy": cfg.beam_energy,
        "sqrt_s": float(sqrt_s_fixed_target(cfg.beam_energy)),
        "y_cm": float(y_beam(cfg.beam_energy) / 2.0),
        "temperature": cfg.temperature,
        "sigma_y": cfg.sigma_y,
        "n_events": cfg.n_events,
        "n_collisions": n_collisions,
        "sources": {
            s: {
                "kind": _sources()[s].kind,
                "multiplicity": _sources()[s].multiplicity,
                "br_ll": pairs[s] / _sources()[s].multiplicity if s != "continuum" else None,
                "pairs_per_collision": pairs[s],
                "n_generated": counts[s],
                "source_id": SOURCES.index(s),
            }
            for s in cfg.sources
        },
        **yield_truth({s: _sources()[s] for s in cfg.sources}, cfg.lepton),
    }


def generate_mock(cfg: MockConfig, progress: bool = True):
    """Generate the cocktail: returns (DileptonDataset, source_id array, truth dict).

    The same ``cfg`` (including the seed) gives the same events.
    """
    from .data import BEAM_ENERGY_KEY, TRUTH_KEY, DileptonDataset

    cfg = _check_cfg(cfg)
    sources = cfg.sources
    pairs = dilepton_yield(cfg.lepton, sources)
    total = sum(pairs.values())
    rng = np.random.default_rng(cfg.seed)
    n_by = rng.multinomial(cfg.n_events, [pairs[s] / total for s in sources])
    counts = dict(zip(sources, (int(c) for c in n_by)))
    n_collisions = cfg.n_events / total

    pos = np.empty((cfg.n_events, 4))
    neg = np.empty((cfg.n_events, 4))
    sid = np.empty(cfg.n_events, dtype=np.int8)
    y_cm = float(y_beam(cfg.beam_energy) / 2.0)
    chunk = 500_000
    start = 0
    with tqdm(total=cfg.n_events, desc="mock", unit="pair", delay=1.0, disable=not progress) as bar:
        for s in sources:
            for j, c0 in enumerate(range(0, counts[s], chunk)):
                n = min(chunk, counts[s] - c0)
                sub = np.random.default_rng([cfg.seed, SOURCES.index(s), j])
                lp, lm = _generate_source(_sources()[s], n, cfg, sub)
                pos[start : start + n] = boost_z(lp, y_cm)
                neg[start : start + n] = boost_z(lm, y_cm)
                sid[start : start + n] = SOURCES.index(s)
                start += n
                bar.update(n)
    order = rng.permutation(cfg.n_events)
    pos, neg, sid = pos[order], neg[order], sid[order]
    truth = truth_record(cfg, counts, n_collisions)
    data = DileptonDataset(pos, neg, np.ones(cfg.n_events), cfg.lepton, n_collisions, "gammastar mock",
                           {TRUTH_KEY: json.dumps(truth), BEAM_ENERGY_KEY: repr(cfg.beam_energy)})
    return data, sid, truth


# ----------------------------------------------------------------- truth events


def _split(n: int, yields: dict[str, float], rng: np.random.Generator) -> dict[str, int]:
    names = [s for s in yields if yields[s] > 0]
    if not names:
        raise GammastarError("no selected source produces anything at this mass")
    total = sum(yields[s] for s in names)
    return dict(zip(names, (int(c) for c in rng.multinomial(n, [yields[s] / total for s in names]))))


def direct_aprime_events(cfg: MockConfig, m_aprime: float, n: int, seed: int = 0) -> tuple[np.ndarray, float]:
    """A' four-momenta (lab) of mass ``m_aprime`` straight from the cocktail's meson decays.

    The truth the flow generator is checked against: parents as in the mock,
    P -> gamma A' and V -> P A' two-body decays (isotropic), vector mesons
    mixing into A' for the two-body sources.  Returns ``(p4, n_per_eps2)``,
    the direct A' yield per collision per eps^2 (:func:`direct_aprime_yield`).
    """
    cfg = _check_cfg(cfg)
    rng = np.random.default_rng([seed, 7])
    yields = {s: float(_sources()[s].n_v(m_aprime)) for s in cfg.sources}
    out = []
    for name, k in _split(n, yields, rng).items():
        vstar, _, parent = _gamma_stars(_sources()[name], np.full(k, float(m_aprime)), cfg, rng)
        out.append(_to_cm(vstar, parent))
    p4 = boost_z(np.concatenate(out), float(y_beam(cfg.beam_energy) / 2.0))
    return p4[rng.permutation(n)], sum(yields.values())


def direct_mcp_events(
    cfg: MockConfig, m_chi: float, spin: str, n: int, seed: int = 0, m_min: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """chi and chibar four-momenta (lab) from the cocktail's gamma*, with the exact angular law of ``spin``.

    Pair masses above max(2 m_chi, ``m_min``) (default 2 m_l: the part a
    dilepton sample can see).  Returns ``(chi, chibar, n_pairs_per_eps2)``.
    """
    cfg = _check_cfg(cfg)
    m_min = 2.0 * mass(cfg.lepton) if m_min is None else m_min
    rng = np.random.default_rng([seed, 11])
    yields = {s: float(direct_mcp_yield([m_chi], spin, (s,), m_min)[0]) for s in cfg.sources}
    a_all, b_all = [], []
    for name, k in _split(n, yields, rng).items():
        src = _sources()[name]
        m = _sample_mass(src, k, rng, m_chi, spin, m_min)
        vstar, axis, parent = _gamma_stars(src, m, cfg, rng)
        a, b = _decay_gamma_star(vstar, m, m_chi, axis, rng, spin)
        a_all.append(_to_cm(a, parent))
        b_all.append(_to_cm(b, parent))
    y_cm = float(y_beam(cfg.beam_energy) / 2.0)
    order = rng.permutation(n)
    return boost_z(np.concatenate(a_all), y_cm)[order], boost_z(np.concatenate(b_all), y_cm)[order], sum(yields.values())
