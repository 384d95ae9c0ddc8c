"""A' decay channels: which daughters, how often, and at which angles.

The A' takes the place of a gamma* and inherits its polarisation: in its rest
frame its spin density matrix is the hadronic tensor H the model carries
(tr H = 1, components along the Collins-Soper axes, see :mod:`.angular`).
Every decay amplitude is linear in the A' polarisation vector e, so every
decay law is linear in H (n: the direction of the first-named daughter in
the A' rest frame)::

    A' -> l+ l-                     1 - beta^2 n.H.n        amplitude ubar gamma.e v (beta: the lepton's velocity)
    A' -> pi+ pi-, K+ K-, K_S K_L   n.H.n                   amplitude e.n: a P wave
    A' -> pi0 gamma                 1 - n.H.n               amplitude e.(n x eps_gamma), photon spins summed
    A' -> pi+ pi- pi0               |p+ x p-|^2 |F|^2 N.H.N dPhi_3,   amplitude e.(p+ x p-) F

with N the unit normal of the three pions' plane and, as for omega -> 3 pi
(Gell-Mann, Sharp, Wagner), F the sum of rho(770) propagators over the three
pion pairs, 1/(m_rho^2 - s_ij - i m_rho Gamma_rho), with a constant width.
Unpolarised (H = 1/3) every law is isotropic.  The two-body laws are sampled
exactly by accept-reject of isotropic directions (:func:`.angular.sample_law`);
three pions by drawing the Dalitz point from |p+ x p-|^2 |F|^2 (uniform
proposals in the Dalitz plane, whose boundary is where |p+ x p-| vanishes),
the normal N from N.H.N, and the orientation in the plane uniformly (the law
does not depend on it).

How often: each channel's branching ratio from the shipped FORESEE 2025 table
(pi pi, pi0 gamma, 3 pi, K K, below 2 GeV; exact leptonic widths below 2 m_pi,
as in :func:`.decays.aprime_decay`).  The table does not split K K: the split
is the phi's measured ratio BR(phi -> K+ K-)/BR(phi -> K_S K_L) = 0.491/0.339
(PDG), carried to other masses by the P-wave phase-space ratio
(p*_{K+}/p*_{K0})^3 (equal couplings: 1.52 at the phi, 1.45 measured, the
difference being Coulomb and isospin-breaking corrections).  The table's
remaining hadronic width (4 pi, eta gamma, ... above ~1 GeV) is not split
into channels: it is reported, not generated.

pi0 and K_S are daughters like the others: left undecayed for the detector
simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from ..errors import GammastarError
from .angular import sample_law_directions
from .beams import Beam
from .decays import aprime_decay, shipped_table
from .kinematics import Components, collins_soper_frame, two_body_momentum
from .pdg import BR, mass, pdgid_mass, width

__all__ = ["Channel", "CHANNELS", "ChannelShares", "channel_shares", "decay_channel", "Daughters", "decay_mixture",
           "kaon_charged_fraction", "three_pion_dalitz", "MAX_DAUGHTERS"]

#: daughters of the channel with most (pi+ pi- pi0)
MAX_DAUGHTERS = 3


@dataclass(frozen=True)
class Channel:
    """One A' decay channel: its name, its daughters' PDG codes (the first is n of the angular law), its law and
    the experiment final state it belongs to (ee, mumu, hadrons)."""

    name: str
    pids: tuple[int, ...]
    law: str  # "dirac", "scalar", "magnetic" (pi0 gamma), "three_pion"
    final_state: str

    @property
    def masses(self) -> tuple[float, ...]:
        return tuple(pdgid_mass(p) for p in self.pids)

    @property
    def threshold(self) -> float:
        return sum(self.masses)


#: every channel gammastar generates, in the order of the ``channel`` column
CHANNELS = (
    Channel("ee", (-11, 11), "dirac", "ee"),
    Channel("mumu", (-13, 13), "dirac", "mumu"),
    Channel("pipi", (211, -211), "scalar", "hadrons"),
    Channel("3pi", (211, -211, 111), "three_pion", "hadrons"),
    Channel("pi0gamma", (111, 22), "magnetic", "hadrons"),
    Channel("K+K-", (321, -321), "scalar", "hadrons"),
    Channel("KSKL", (310, 130), "scalar", "hadrons"),
)
_TABLE_OF = {"pipi": "pipi", "3pi": "3pi", "pi0gamma": "pi0gamma"}  # channel -> the table's column (br_...)


def kaon_charged_fraction(m: ArrayLike) -> np.ndarray:
    """The share of A' -> K K going to K+ K- (the rest to K_S K_L): the phi's measured ratio carried by the P-wave
    phase-space ratio (see the module docstring); 1 below the K_S K_L threshold."""
    m = np.asarray(m, dtype=float)
    m_c, m_0 = mass("K+"), mass("K_S")

    def p3(mm: np.ndarray | float, mk: float) -> np.ndarray:
        return np.asarray(two_body_momentum(mm, mk, mk)) ** 3

    ref = BR["phi->K+K-"] / BR["phi->KSKL"] * p3(mass("phi"), m_0) / p3(mass("phi"), m_c)
    charged, neutral = ref * p3(m, m_c), p3(m, m_0)
    return np.asarray(np.divide(charged, charged + neutral, out=np.ones_like(m), where=neutral > 0))


@dataclass(frozen=True)
class ChannelShares:
    """The channels of an experiment's final states open at one A' mass, with their branching ratios."""

    mass: float
    channels: tuple[Channel, ...]
    #: each channel's branching ratio
    br: np.ndarray
    #: the branching ratio into the final states (as ``reach`` counts it): br's sum plus what the table does not split
    br_visible: float

    @property
    def untabulated(self) -> float:
        """The branching ratio of hadronic decays the table does not split into channels (not generated)."""
        return max(self.br_visible - float(self.br.sum()), 0.0)

    @property
    def probabilities(self) -> np.ndarray:
        """Each channel's share of the channels generated."""
        return np.asarray(self.br / self.br.sum())

    def index(self) -> np.ndarray:
        """Each channel's position in :data:`CHANNELS` (the ``channel`` column's values)."""
        return np.array([CHANNELS.index(c) for c in self.channels], dtype=np.int8)


def channel_shares(m_aprime: float, final_states: tuple[str, ...] | list[str]) -> ChannelShares:
    """The open channels of ``final_states`` (ee, mumu, hadrons) at ``m_aprime``, with their branching ratios.

    Raises :class:`GammastarError` where none is open, or where hadrons are asked for at a mass whose table does
    not split them into channels (above 2 GeV).
    """
    m = float(m_aprime)
    dec = aprime_decay([m])
    table = dec.table[0]
    br_vis = float(dec.br_visible(final_states)[0])
    split: dict[str, float] = {}
    if "hadrons" in final_states and float(dec.br_hadrons[0]) > 0:
        by_table = shipped_table(table).channel_br(m) if table != "leptonic" else {}
        if not by_table:
            raise GammastarError(f"the decay tables split hadronic A' decays into channels only up to "
                                 f"{shipped_table('foresee2025').mass[-1]:.3g} GeV (FORESEE 2025); at m = {m:.4g} GeV "
                                 f"they do not: choose final states without hadrons")
        split = {c: by_table.get(t, 0.0) for c, t in _TABLE_OF.items()}
        f_c = float(kaon_charged_fraction(m))
        split["K+K-"], split["KSKL"] = f_c * by_table.get("kk", 0.0), (1.0 - f_c) * by_table.get("kk", 0.0)
    brs = {"ee": float(dec.br_ee[0]), "mumu": float(dec.br_mumu[0]), **split}
    open_ = [c for c in CHANNELS if c.final_state in final_states and brs.get(c.name, 0.0) > 0 and m > c.threshold]
    if not open_:
        raise GammastarError(f"none of the final states {', '.join(final_states)} is open at m = {m:.4g} GeV")
    return ChannelShares(m, tuple(open_), np.array([brs[c.name] for c in open_]), br_vis)


def decay_channel(pair: np.ndarray, h: np.ndarray, channel: Channel, rng: np.random.Generator,
                  beam: Beam | float) -> list[np.ndarray]:
    """Lab four-momenta (N, 4) of the daughters of A' ``pair`` (N, 4) in ``channel``, with polarisation ``h``
    ((N, 6) components xx, yy, zz, xy, xz, yz or (N, 3, 3), Collins-Soper axes), in the order of ``channel.pids``."""
    d = _decays(pair, h, (channel,), np.zeros(len(pair), dtype=np.intp), rng, beam)
    return [np.ascontiguousarray(d.p4[slot]) for slot in range(len(channel.pids))]


@dataclass(frozen=True)
class Daughters:
    """The daughters of N decays in a mixture of channels: ``MAX_DAUGHTERS`` slots of (N, 4) lab four-momenta (each
    the transposed view of a (4, N) array, so that a component is a contiguous column), their
    PDG codes (N, MAX_DAUGHTERS; 0 in a slot a channel does not fill, whose four-momentum is 0) and each decay's
    channel (its position in :data:`CHANNELS`)."""

    p4: list[np.ndarray]
    pid: np.ndarray
    channel: np.ndarray

    @property
    def present(self) -> np.ndarray:
        """(N, MAX_DAUGHTERS): whether each slot holds a daughter."""
        return np.asarray(self.pid != 0)


def decay_mixture(pair: np.ndarray, h: np.ndarray, shares: ChannelShares, rng: np.random.Generator,
                  beam: Beam | float) -> Daughters:
    """Decays of the A' ``pair`` (N, 4) with polarisations ``h`` (as :func:`decay_channel`), each into a channel
    drawn with its share of ``shares``."""
    n = len(pair)
    which = rng.choice(len(shares.channels), n, p=shares.probabilities) if len(shares.channels) > 1 else np.zeros(n, int)
    d = _decays(pair, h, shares.channels, which, rng, beam)
    return Daughters(d.p4, d.pid, shares.index()[which])


#: each law as a + b n.H.n with (a, b) for a spin-0 (or a photon) first daughter; "dirac" has b = -beta^2
_LAW = {"scalar": (0.0, 1.0), "magnetic": (1.0, -1.0), "three_pion": (0.0, 1.0), "dirac": (1.0, -1.0)}


def _decays(pair: np.ndarray, h: np.ndarray, channels: tuple[Channel, ...], which: np.ndarray,
            rng: np.random.Generator, beam: Beam | float) -> Daughters:
    """Decays of ``pair`` each into ``channels[which]``, all at once: every law is a + b n.H.n, so one accept-reject
    draws every decay's direction (the first daughter's, or the three pions' plane normal N); the daughters are
    built in the Collins-Soper frame, and one fused rotation and boost per slot takes them to the lab (the last
    daughter as the pair minus the others: four-momentum conserved to rounding)."""
    n = len(pair)
    m = np.sqrt(np.maximum(pair[:, 3] ** 2 - np.einsum("ij,ij->i", pair[:, :3], pair[:, :3]), 0.0))
    low = np.array([c.threshold for c in channels])[which] >= m
    if np.any(low):
        i = int(np.flatnonzero(low)[0])
        raise GammastarError(f"A' of mass {m[i]:.4g} GeV cannot decay to {channels[which[i]].name}")
    first = np.array([c.masses[0] for c in channels])[which]
    second = np.array([c.masses[1] for c in channels])[which]
    k = two_body_momentum(m, first, second)  # of the two-body decays' first daughter (unused for three pions)
    a = np.array([_LAW[c.law][0] for c in channels])[which]
    b = np.array([_LAW[c.law][1] for c in channels])[which]
    dirac = np.array([c.law == "dirac" for c in channels])[which]
    b = np.where(dirac, -(k * k) / (k * k + first * first), b)
    nx, ny, nz = sample_law_directions(h, lambda nhn, i: a[i] + b[i] * nhn, rng)
    frame = collins_soper_frame(pair, beam)
    store = [np.zeros((4, n)) for _ in range(MAX_DAUGHTERS)]
    frame.to_lab(k * nx, k * ny, k * nz, np.sqrt(k * k + first * first), out=store[0])
    np.subtract(pair.T, store[0], out=store[1])  # two-body: the second daughter; three pions: replaced below
    three = np.flatnonzero(np.array([c.law == "three_pion" for c in channels])[which])
    if three.size:
        plus, minus = _three_pion_rest(m[three], (nx[three], ny[three], nz[three]), rng)
        sub = frame.take(three)
        lab_p, lab_m = sub.to_lab(*plus), sub.to_lab(*minus)
        store[0][:, three], store[1][:, three] = lab_p, lab_m
        store[2][:, three] = pair[three].T - lab_p - lab_m
    pids = np.array([c.pids + (0,) * (MAX_DAUGHTERS - len(c.pids)) for c in channels], dtype=np.int32)
    return Daughters([x.T for x in store], pids[which], which)


def _pion_masses() -> tuple[float, float]:
    return mass("pi+"), mass("pi0")


def _three_pion_weight(m: float, s_p0: np.ndarray, s_m0: np.ndarray) -> np.ndarray:
    """|p+ x p-|^2 |F|^2 at Dalitz points (s_{+0}, s_{-0}) of an A' of mass ``m`` (0 outside the Dalitz region)."""
    mc, m0 = _pion_masses()
    e_p = (m * m + mc * mc - s_m0) / (2 * m)  # pi+ energy: recoils against the (pi- pi0) system
    e_m = (m * m + mc * mc - s_p0) / (2 * m)
    e_0 = m - e_p - e_m
    q_p, q_m, q_0 = e_p**2 - mc**2, e_m**2 - mc**2, e_0**2 - m0**2
    dot = 0.5 * (q_0 - q_p - q_m)  # p+.p- (3-vectors), as p0 = -(p+ + p-)
    cross2 = np.maximum(q_p * q_m - dot**2, 0.0)
    s_pm = m * m + 2 * mc * mc + m0 * m0 - s_p0 - s_m0
    m_r, g_r = mass("rho"), width("rho")
    b = m_r * g_r
    re: np.ndarray | float = 0.0
    im: np.ndarray | float = 0.0  # F = sum 1/(a - i b) = sum (a + i b)/(a^2 + b^2), in real arithmetic
    for s in (s_pm, s_p0, s_m0):
        a = m_r * m_r - s
        d = 1.0 / (a * a + b * b)
        re, im = re + a * d, im + b * d
    return cross2 * (re * re + im * im)


#: cells per axis of the three-pion envelope, and lattice points per cell side its bounds are taken on
_ENVELOPE_CELLS, _ENVELOPE_LATTICE = 64, 6


@cache
def _three_pion_envelope(m: float) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], float, float]:
    """A piecewise-constant bound of :func:`_three_pion_weight` at ``m`` on 64 x 64 cells of the Dalitz rectangle,
    its alias table (for drawing cells), the rectangle's lower edge and the cells' width.

    Each cell's bound is 1.1 times the largest weight on a lattice of 7 x 7 points on it and on its eight
    neighbours (so that a cell the region's edge only clips is covered too), and at least 2% of the largest weight
    anywhere; the weight is smooth on these scales (a cell is <= 1/30 of the rho's width), and a proposal above its
    cell's bound would be an error, never a bias.
    """
    mc, m0 = _pion_masses()
    lo, hi = (mc + m0) ** 2, (m - mc) ** 2
    g, k = _ENVELOPE_CELLS, _ENVELOPE_LATTICE
    t = np.linspace(lo, hi, g * k + 1)
    a, b = np.meshgrid(t, t, indexing="ij")
    w = _three_pion_weight(m, a.ravel(), b.ravel()).reshape(a.shape)
    cell = sliding_window_view(w, (k + 1, k + 1))[::k, ::k].max(axis=(2, 3))
    around = sliding_window_view(np.pad(cell, 1), (3, 3)).max(axis=(2, 3))
    bound = np.maximum(1.1 * around, 0.02 * float(w.max())).ravel()
    return bound, _alias_table(bound), lo, (hi - lo) / g


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of ``weights`` (Vose's construction): the probability of keeping a cell drawn
    uniformly, and the cell taken otherwise; a draw costs one uniform cell and one comparison."""
    n = weights.size
    scaled = weights * (n / weights.sum())
    keep, alias = np.ones(n), np.arange(n, dtype=np.intp)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, big = small.pop(), large[-1]
        keep[s], alias[s] = scaled[s], big
        scaled[big] -= 1.0 - scaled[s]
        if scaled[big] < 1.0:
            small.append(large.pop())
    return keep, alias


def three_pion_dalitz(m: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` Dalitz points (s_{+0}, s_{-0}) of A' -> pi+ pi- pi0 at mass ``m``, from |p+ x p-|^2 |F|^2 dPhi_3
    (phase space is uniform in the Dalitz plane): proposals from the envelope of :func:`_three_pion_envelope` (a
    cell by its bound, a point uniformly in it), accepted with weight / bound, exactly."""
    bound, (keep, alias), lo, width = _three_pion_envelope(float(m))
    g = _ENVELOPE_CELLS
    out_a, out_b = np.empty(n), np.empty(n)
    have, efficiency = 0, 0.5
    for _ in range(10_000):
        size = int((n - have) / efficiency * 1.05) + 64  # all that are missing at once, at the acceptance seen
        u = rng.random(size) * (g * g)  # one uniform: its integer part a cell, its fraction the alias test
        cell = u.astype(np.intp)
        cell = np.where(u - cell < keep[cell], cell, alias[cell])
        i, j = np.divmod(cell, g)
        a, b = lo + (i + rng.random(size)) * width, lo + (j + rng.random(size)) * width
        w = _three_pion_weight(m, a, b)
        top = bound[cell]
        if np.any(w > top):  # the envelope's margin covers a smooth weight: this would be a bug, not a draw
            raise GammastarError(f"three-pion sampling at m = {m:.4g} GeV: the weight exceeds its envelope")
        ok = np.flatnonzero(rng.random(size) * top < w)
        efficiency = max(ok.size / size, 1e-3)
        take = ok[: n - have]
        out_a[have : have + take.size], out_b[have : have + take.size] = a[take], b[take]
        have += take.size
        if have == n:
            return out_a, out_b
    raise GammastarError(f"three-pion sampling at m = {m:.4g} GeV did not converge")


def _three_pion_rest(m: np.ndarray, normal: tuple[np.ndarray, np.ndarray, np.ndarray], rng: np.random.Generator
                     ) -> tuple[Components, Components]:
    """pi+ and pi- four-momenta in the A' rest frame (Collins-Soper components) for A' masses ``m`` whose three pions
    lie in the plane of unit ``normal`` (drawn from N.H.N); the pi0 is the A' minus the two."""
    mc, m0 = _pion_masses()
    n = m.size
    s_p0, s_m0 = np.empty(n), np.empty(n)
    # the Dalitz plane depends on the mass only; A' of one mass differ by the rounding of sqrt(E^2 - p^2)
    grid = np.round(m, 9)
    for value in np.unique(grid):
        at = np.flatnonzero(grid == value)
        s_p0[at], s_m0[at] = three_pion_dalitz(float(value), at.size, rng)
    e_p = (m * m + mc * mc - s_m0) / (2 * m)
    e_m = (m * m + mc * mc - s_p0) / (2 * m)
    q_p, q_m = np.sqrt(np.maximum(e_p**2 - mc**2, 0.0)), np.sqrt(np.maximum(e_m**2 - mc**2, 0.0))
    q_0sq = (m - e_p - e_m) ** 2 - m0**2
    cos_pm = np.clip((q_0sq - q_p**2 - q_m**2) / np.maximum(2 * q_p * q_m, 1e-300), -1.0, 1.0)
    psi = rng.uniform(0.0, 2 * np.pi, n)  # the orientation in the plane: uniform, the law does not depend on it
    cos_psi, sin_psi = np.cos(psi), np.sin(psi)
    sin_pm = np.sqrt(1.0 - cos_pm * cos_pm)  # p- at the angle between them, counter-clockwise: p+ x p- along +N
    # unit vectors u, v spanning the plane: u = e - (e.N) N for e = x (or y, where N is near x), v = N x u
    nx, ny, nz = normal
    along_x = np.abs(nx) < 0.9
    dot = np.where(along_x, nx, ny)
    inv = 1.0 / np.sqrt(1.0 - dot * dot)
    ux = (np.where(along_x, 1.0, 0.0) - dot * nx) * inv
    uy = (np.where(along_x, 0.0, 1.0) - dot * ny) * inv
    uz = -dot * nz * inv
    vx, vy, vz = ny * uz - nz * uy, nz * ux - nx * uz, nx * uy - ny * ux
    # p+ at the angle psi in the plane, p- at psi + the angle between them (the sum's cosine and sine expanded)
    out = []
    for q, cos_a, sin_a, e in ((q_p, cos_psi, sin_psi, e_p),
                               (q_m, cos_psi * cos_pm - sin_psi * sin_pm, sin_psi * cos_pm + cos_psi * sin_pm, e_m)):
        a, b = q * cos_a, q * sin_a
        out.append((a * ux + b * vx, a * uy + b * vy, a * uz + b * vz, e))
    return out[0], out[1]
