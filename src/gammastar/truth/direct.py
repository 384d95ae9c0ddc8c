"""Truth events: A' and chi-chibar pairs straight from the cocktail's meson decays, no dileptons involved.

What the flow generator is checked against (tests and ``bench/``): parents
as in the mock, P -> gamma A' and V -> P A' two-body decays (isotropic),
vector mesons mixing into A' for the two-body sources; chi-chibar pairs from
the same gamma* with the exact angular law of their spin.
"""

from __future__ import annotations

import numpy as np

from ..errors import GammastarError
from ..physics.formulas import y_beam
from ..physics.kinematics import boost_z
from ..physics.pdg import mass
from .cocktail import MockConfig, check_config, cocktail_sources, direct_mcp_yield
from .production import decay_gamma_star, gamma_stars, sample_pair_mass, to_cm

__all__ = ["direct_aprime_events", "direct_mcp_events"]


def _split(n: int, yields: dict[str, float], rng: np.random.Generator) -> dict[str, int]:
    names = [s for s in yields if yields[s] > 0]
    if not names:
        raise GammastarError("no selected source produces anything at this mass")
    total = sum(yields[s] for s in names)
    return dict(zip(names, (int(c) for c in rng.multinomial(n, [yields[s] / total for s in names])), strict=True))


def direct_aprime_events(cfg: MockConfig, m_aprime: float, n: int, seed: int = 0) -> tuple[np.ndarray, float]:
    """A' four-momenta (lab) of mass ``m_aprime`` straight from the cocktail's meson decays.

    Returns ``(p4, n_per_eps2)``, the direct A' yield per collision per eps^2
    (:func:`~.cocktail.direct_aprime_yield`).
    """
    cfg = check_config(cfg)
    rng = np.random.default_rng([seed, 7])
    yields = {s: float(cocktail_sources()[s].n_v(m_aprime)) for s in cfg.sources}
    out = []
    for name, k in _split(n, yields, rng).items():
        vstar, _, parent = gamma_stars(cocktail_sources()[name], np.full(k, float(m_aprime)), cfg, rng)
        out.append(to_cm(vstar, parent))
    p4 = boost_z(np.concatenate(out), float(y_beam(cfg.beam_energy) / 2.0))
    return p4[rng.permutation(n)], sum(yields.values())


def direct_mcp_events(
    cfg: MockConfig, m_chi: float, spin: str, n: int, seed: int = 0, m_min: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """chi and chibar four-momenta (lab) from the cocktail's gamma*, with the exact angular law of ``spin``.

    Pair masses above max(2 m_chi, ``m_min``) (default 2 m_l: the part a
    dilepton sample can see).  Returns ``(chi, chibar, n_pairs_per_eps2)``.
    """
    cfg = check_config(cfg)
    m_min = 2.0 * mass(cfg.lepton) if m_min is None else m_min
    rng = np.random.default_rng([seed, 11])
    yields = {s: float(direct_mcp_yield([m_chi], spin, (s,), m_min)[0]) for s in cfg.sources}
    a_all, b_all = [], []
    for name, k in _split(n, yields, rng).items():
        src = cocktail_sources()[name]
        m = sample_pair_mass(src, k, rng, m_chi, spin, m_min)
        vstar, axis, parent = gamma_stars(src, m, cfg, rng)
        a, b = decay_gamma_star(vstar, m, m_chi, axis, rng, spin)
        a_all.append(to_cm(a, parent))
        b_all.append(to_cm(b, parent))
    y_cm = float(y_beam(cfg.beam_energy) / 2.0)
    order = rng.permutation(n)
    return boost_z(np.concatenate(a_all), y_cm)[order], boost_z(np.concatenate(b_all), y_cm)[order], sum(yields.values())
