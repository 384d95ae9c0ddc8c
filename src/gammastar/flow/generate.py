"""Fast Monte Carlo from a trained model: A' events at a mass, chi-chibar events at an m_chi.

Why it is fast (measured numbers in the README)
----------------------------------------------
* A' at a fixed mass M needs only p(pT, y | M): the pair azimuth is uniform
  whenever the training data passed the uniformity test.  At each requested
  mass the flow's own density is tabulated once on a fine grid in its
  standardised (log pT, y) features (400 x 400 cells spanning the training
  data plus a margin; 1.6e5 density evaluations, about a second), and
  events are drawn from the tabulated inverse CDF with numpy: millions of
  events per second, with no network pass per event.  The grid cell is
  ~1/30 of a standard deviation, far below the statistical resolution of the
  validation; the probability the flow puts outside the grid is reported.
* chi-chibar pairs need p(pT, y | m) at a different m for every event: the
  pair flow is sampled in batches (coupling layers, one pass per
  transform).  The chi decay law is exact (PHYSICS.md section 2) given the
  learned H(m, pT, y): isotropic directions accepted with probability
  1 - beta_chi^2 n.H.n (Dirac fermion) or n.H.n (complex scalar).

Everything is generated in fixed-size chunks with per-chunk seeds: memory is
flat in the number of events, and the same seed gives the same file.
:meth:`Generator.aprime_events` and :meth:`Generator.mcp_events` hand the
chunks, with what they are and their metadata, to
:func:`gammastar.io.events.write_events`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import GammastarError
from ..io.events.base import EventInfo, EventStream
from ..physics.angular import DecayLaw, decay_law
from ..physics.formulas import check_spin
from ..physics.kinematics import decay_in_collins_soper, from_pt_y_phi
from ..rates.mcp import covered_from
from .model import TrainedModel
from .modelfile import load_model
from .sample import DevicePairs, decay_angles, given_pairs, sample_pairs

__all__ = ["Generator", "APRIME_COLUMNS", "MCP_COLUMNS"]

APRIME_COLUMNS = ("px", "py", "pz", "e", "weight")
MCP_COLUMNS = ("px_pos", "py_pos", "pz_pos", "e_pos", "px_neg", "py_neg", "pz_neg", "e_neg", "weight")
#: cells per axis of the (log pT, y) table the A' pairs are drawn from at each mass
GRID = 400


class Generator:
    """Generate A' and chi-chibar events from a trained model.

    >>> gen = Generator.load("model.pt")
    >>> ev = gen.aprime(0.4, 100_000, eps=1e-3, seed=1)   # dict of numpy arrays
    >>> ev["weight"].sum()                                  # expected A' per collision
    """

    def __init__(self, model: TrainedModel, source: str = "", grid: int = GRID) -> None:
        if grid < 16:
            raise GammastarError(f"the sampling grid needs at least 16 cells per axis, not {grid}")
        self.model = model
        #: cells per axis of the (log pT, y) table A' pairs are drawn from: its cost per mass goes as grid^2
        self.grid = int(grid)
        self.flow = model.flow
        self.m_lepton = model.m_lepton
        self.beam = model.config.beam
        #: where the model came from (the path as given), recorded in the events' metadata
        self.source = source
        self._tables: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
        self._mcp_tables: dict[tuple[float, str], tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", grid: int = GRID) -> Generator:
        """Read a model file (see :func:`gammastar.flow.modelfile.load_model`)."""
        return cls(load_model(path, device), str(path), grid)

    # ------------------------------------------------------------------ A'

    def _check_mass(self, m: float, what: str = "A' mass") -> None:
        lo, hi = self.model.mass_range
        if not np.isfinite(m) or m <= 2.0 * self.m_lepton:
            raise GammastarError(f"{what} {m:.4g} GeV is at or below the pair threshold 2 m_{self.model.lepton} = "
                                 f"{2 * self.m_lepton:.4g} GeV")
        if not lo <= m <= hi:
            raise GammastarError(f"{what} {m:.4g} GeV is outside the model's trained range {lo:.4g}-{hi:.4g} GeV")
        if m >= self.beam.sqrt_s:
            raise GammastarError(f"{what} {m:.4g} GeV is above what the beams can make ({self.beam.describe()})")

    def aprime_yield(self, m_aprime: float) -> tuple[float, float]:
        """(A' per collision per eps^2, its error) at ``m_aprime``: the ``rates aprime`` number."""
        self._check_mass(m_aprime)
        res = self.model.config.resolution
        pt = self.model.spectrum.estimate(float(m_aprime), resolution=None if res is None else res(m_aprime))
        return pt.n_v * self.model.scale, pt.n_v_err * self.model.scale

    def _table(self, m_aprime: float):
        """Cumulative distribution of the flow's density on the (log pT, y) grid at one mass."""
        if m_aprime not in self._tables:
            lo = np.asarray(self.model.pair_range[0][:2]) - 0.5
            hi = np.asarray(self.model.pair_range[1][:2]) + 0.5
            ex, ey = np.linspace(lo[0], hi[0], self.grid + 1), np.linspace(lo[1], hi[1], self.grid + 1)
            cx, cy = 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1])
            grid = np.column_stack([np.repeat(cx, self.grid), np.tile(cy, self.grid)])
            ctx = self.flow.mass_context(np.full(grid.shape[0], float(m_aprime)))
            logp = np.concatenate([self.flow.log_prob_pair(grid[i : i + 65536], ctx[i : i + 65536])
                                   for i in range(0, grid.shape[0], 65536)])
            p = np.exp(logp) * (ex[1] - ex[0]) * (ey[1] - ey[0])
            coverage = float(p.sum())
            cdf = np.cumsum(p)
            cdf /= cdf[-1]
            self._tables[m_aprime] = (cdf, ex, ey, coverage)
        return self._tables[m_aprime]

    def grid_coverage(self, m_aprime: float) -> float:
        """Probability the flow puts inside the sampling grid at ``m_aprime`` (should be ~1)."""
        return self._table(float(m_aprime))[3]

    def _within_beams(self, m: np.ndarray, z: np.ndarray, redraw: Callable[[np.ndarray, int], np.ndarray]
                      ) -> tuple[np.ndarray, dict[str, np.ndarray], bool]:
        """Pair features ``z`` at masses ``m`` with every pair the beams cannot make drawn again.

        The flow's tails may reach beyond the energy a collision has (E_beam + m_p
        on a fixed target, sqrt(s) at a collider); such pairs are redrawn by
        ``redraw(indices, attempt)``.  Returns (z, the pair variables, whether any
        was redrawn).  With no pair beyond, the random streams are untouched.
        """
        changed = False
        for attempt in range(1, 101):
            v = self.flow.features_to_pair(z)
            bad = np.flatnonzero(self.beam.beyond(m, np.sqrt(m**2 + v["pt"] ** 2) * np.cosh(v["y"])))
            if bad.size == 0:
                return z, v, changed
            z = z.copy()
            z[bad] = redraw(bad, attempt)
            changed = True
        raise GammastarError(f"the model keeps putting pairs beyond what the beams ({self.beam.describe()}) can make "
                             f"at m = {float(np.median(m)):.4g} GeV; was it trained with the right --beam-energy or --collider?")

    def _redraw(self, m: np.ndarray, seed: int) -> Callable[[np.ndarray, int], np.ndarray]:
        """Fresh flow draws at the masses ``m[indices]``, seeded by ``seed`` + the attempt."""
        return lambda bad, attempt: sample_pairs(self.flow, m[bad], seed + attempt).features()

    def _pair_at_mass(self, m_aprime: float, n: int, rng: np.random.Generator, seed: int
                      ) -> tuple[np.ndarray, Callable[[], DevicePairs]]:
        """n pair four-momenta of mass ``m_aprime`` from the flow, and how to have their features on the device."""
        m = np.full(n, m_aprime)
        if "phi" in self.flow.pair_features:  # azimuth not uniform in the data: sample the flow itself
            pairs = sample_pairs(self.flow, m, seed)
            z, v, changed = self._within_beams(m, pairs.features(), self._redraw(m, seed))
            if changed:
                pairs = given_pairs(self.flow, m, z)
            return from_pt_y_phi(v["pt"], v["y"], v["phi"], m), lambda: pairs
        cdf, ex, ey, _ = self._table(m_aprime)

        def draw(k: int) -> np.ndarray:
            idx = np.searchsorted(cdf, rng.random(k), side="right").clip(0, cdf.size - 1)
            ix, iy = np.divmod(idx, self.grid)
            return np.column_stack([ex[ix] + (ex[1] - ex[0]) * rng.random(k), ey[iy] + (ey[1] - ey[0]) * rng.random(k)])

        z, v, _ = self._within_beams(m, draw(n), lambda bad, attempt: draw(bad.size))
        # uploaded only if the decay needs H (the grid path itself stays on the host)
        return from_pt_y_phi(v["pt"], v["y"], rng.uniform(-np.pi, np.pi, n), m), lambda: given_pairs(self.flow, m, z)

    def _decay(self, p4: np.ndarray, m: np.ndarray, m_f: float, pairs: DevicePairs, law: DecayLaw,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Daughters of mass ``m_f`` of the pairs ``p4`` (masses ``m``) with the angular law ``law(nhn, b2)``.

        H(m, pT, y) comes from the angular network; b2 is the daughters' beta^2.
        """
        b2 = np.clip(1.0 - 4.0 * m_f**2 / m**2, 0.0, 1.0)
        cos_t, phi = decay_angles(self.flow, pairs, b2, law, rng)
        return decay_in_collins_soper(p4, cos_t, phi, m_f, self.beam)

    def iter_aprime(
        self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, chunk: int = 1_000_000, decay: bool = False
    ) -> Iterator[dict[str, np.ndarray]]:
        """A' events in chunks of at most ``chunk``: dicts of ``px, py, pz, e, weight``.

        Every event has weight N_A'(m) eps^2 / n, so the weights of all ``n``
        events add up to the expected number of A' per collision.  With
        ``decay``, the A' -> l+ l- daughters (the data's lepton flavour) are
        added as ``px_pos ... e_neg``, with the dileptons' own angular law
        1 - beta_l^2 n.H.n at the A' kinematics.
        """
        m_aprime = float(m_aprime)
        _check_request(n, eps, chunk)
        total, _ = self.aprime_yield(m_aprime)
        w = total * eps**2 / n
        for j, start in enumerate(range(0, n, chunk)):
            k = min(chunk, n - start)
            rng = np.random.default_rng([seed, j])
            p4, on_device = self._pair_at_mass(m_aprime, k, rng, _torch_seed(seed, j))
            out = {"px": p4[:, 0], "py": p4[:, 1], "pz": p4[:, 2], "e": p4[:, 3]}
            if decay:
                lp, lm = self._decay(p4, np.full(k, m_aprime), self.m_lepton, on_device(), decay_law("fermion"), rng)
                out.update(_columns(lp, "_pos"))
                out.update(_columns(lm, "_neg"))
            out["weight"] = np.full(k, w)
            yield out

    def aprime(self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, decay: bool = False) -> dict[str, np.ndarray]:
        """``n`` A' events at once (see :meth:`iter_aprime`)."""
        return _concat(self.iter_aprime(m_aprime, n, eps, seed, decay=decay))

    def aprime_events(self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, decay: bool = False
                      ) -> EventStream:
        """A' events for :func:`~gammastar.io.events.write_events`: the chunks, what they are, their metadata.

        The metadata record the request, the expected yield (the sum of the
        weights) with its error, the normalisation, the model and the version.
        """
        total, err = self.aprime_yield(m_aprime)
        if "phi" not in self.flow.pair_features:
            self._table(float(m_aprime))  # the grid now, so that the writer's progress bar counts events only
        meta: dict[str, Any] = {
            "kind": "aprime", "mass": m_aprime, "eps": eps, "seed": seed, "n_events": n, "decay": decay,
            "beam": self.beam.to_text(),
            "expected_yield": total * eps**2, "expected_yield_err": err * eps**2,
            "normalization": self.model.normalization, "model": self.source, "version": __version__}
        info = EventInfo("aprime", m_aprime, self.model.lepton, self.beam)
        return EventStream(info, n, self.iter_aprime(m_aprime, n, eps, seed, decay=decay), meta)

    # ------------------------------------------------------------------ mCP

    def _mcp_bins(self, m_chi: float, spin: str) -> tuple[np.ndarray, np.ndarray]:
        """Per fine mass bin: signed contribution w R_chi/R_l and the lower edge for sampling (kept per m_chi, spin)."""
        if (m_chi, spin) not in self._mcp_tables:
            s = self.model.spectrum
            contrib, _ = s.mcp_contributions(m_chi, spin)
            if len(self._mcp_tables) >= 16:  # bounded, like the lru_cache it replaces
                self._mcp_tables.pop(next(iter(self._mcp_tables)))
            self._mcp_tables[(m_chi, spin)] = contrib, np.maximum(s.edges[:-1], 2.0 * m_chi)
        return self._mcp_tables[(m_chi, spin)]

    def mcp_yield(self, m_chi: float, spin: str = "fermion") -> float:
        """chi-chibar pairs per collision per eps^2 over the data's pair masses (the ``rates mcp`` number)."""
        contrib, _ = self._mcp_bins(*self._check_mcp(m_chi, spin))
        return float(contrib.sum()) * self.model.scale

    def _check_mcp(self, m_chi: float, spin: str) -> tuple[float, str]:
        check_spin(spin)
        m_chi = float(m_chi)
        if not (np.isfinite(m_chi) and m_chi > 0):
            raise GammastarError(f"m_chi must be positive, not {m_chi}")
        if 2.0 * m_chi >= self.model.mass_range[1]:
            raise GammastarError(f"2 m_chi = {2 * m_chi:.4g} GeV is above the model's highest pair mass "
                                 f"{self.model.mass_range[1]:.4g} GeV")
        return m_chi, spin

    def _mcp_weight(self, m_chi: float, spin: str) -> float:
        """|weight| x events per eps^2: the summed |contributions| (each event carries +- this over n)."""
        contrib, _ = self._mcp_bins(*self._check_mcp(m_chi, spin))
        return float(np.abs(contrib).sum()) * self.model.scale

    def mcp_incomplete(self, m_chi: float) -> bool:
        """True when 2 m_chi is below the lowest pair mass the data cover (2 m_l, or where they start):
        lighter pairs are not in the data, so not generated."""
        return 2.0 * m_chi < covered_from(self.model.spectrum.m_min, self.m_lepton)

    def iter_mcp(
        self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0, chunk: int = 200_000
    ) -> Iterator[dict[str, np.ndarray]]:
        """chi (``*_pos``) and chibar (``*_neg``) four-momenta and weights, in chunks.

        Pair masses are drawn from dN_ll/dm R_chi/R_l (the data's fine mass
        bins), pair kinematics from the flow, decay angles from the exact law.
        The weights add up to the expected pairs per collision for ``eps``.
        """
        m_chi, spin = self._check_mcp(m_chi, spin)
        _check_request(n, eps, chunk)
        contrib, lower = self._mcp_bins(m_chi, spin)
        absc = np.abs(contrib)
        cum = np.cumsum(absc)
        if cum[-1] <= 0 or contrib.sum() <= 0:
            raise GammastarError(f"m_chi = {m_chi:.4g} GeV: no positive dilepton yield above 2 m_chi")
        s = self.model.spectrum
        w_abs = self._mcp_weight(m_chi, spin) * eps**2 / n
        for j, start in enumerate(range(0, n, chunk)):
            k = min(chunk, n - start)
            rng = np.random.default_rng([seed, j])
            b = np.searchsorted(cum, rng.random(k) * cum[-1], side="right").clip(0, cum.size - 1)
            m = lower[b] + (s.edges[b + 1] - lower[b]) * rng.random(k)
            pairs = sample_pairs(self.flow, m, _torch_seed(seed, j))
            z, v, changed = self._within_beams(m, pairs.features(), self._redraw(m, _torch_seed(seed, j)))
            if changed:
                pairs = given_pairs(self.flow, m, z)
            phi_pair = v["phi"] if "phi" in v else rng.uniform(-np.pi, np.pi, k)
            pair = from_pt_y_phi(v["pt"], v["y"], phi_pair, m)
            # exact laws given H (PHYSICS.md 2): Dirac fermion 1 - beta_chi^2 n.H.n, complex scalar n.H.n
            a, bb = self._decay(pair, m, m_chi, pairs, decay_law(spin), rng)
            yield {**_columns(a, "_pos"), **_columns(bb, "_neg"), "weight": w_abs * np.sign(contrib[b])}

    def mcp(self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
        """``n`` chi-chibar events at once (see :meth:`iter_mcp`)."""
        return _concat(self.iter_mcp(m_chi, n, spin, eps, seed))

    def mcp_events(self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0
                   ) -> EventStream:
        """chi-chibar events for :func:`~gammastar.io.events.write_events` (see :meth:`aprime_events`)."""
        total = self.mcp_yield(m_chi, spin)
        meta: dict[str, Any] = {
            "kind": "mcp", "m_chi": m_chi, "spin": spin, "eps": eps, "seed": seed, "n_events": n,
            "beam": self.beam.to_text(),
            "expected_yield": total * eps**2, "max_abs_weight": self._mcp_weight(m_chi, spin) * eps**2 / n,
            "incomplete": self.mcp_incomplete(m_chi),
            "normalization": self.model.normalization, "model": self.source, "version": __version__}
        info = EventInfo("mcp", m_chi, self.model.lepton, self.beam)
        return EventStream(info, n, self.iter_mcp(m_chi, n, spin, eps, seed), meta)


def _check_request(n: int, eps: float, chunk: int) -> None:
    if int(n) != n or n < 1:
        raise GammastarError(f"number of events must be a positive whole number, not {n}")
    if not (math.isfinite(eps) and eps > 0):
        raise GammastarError(f"eps must be positive, not {eps}")
    if chunk < 1:
        raise GammastarError(f"chunk must be at least 1, not {chunk}")


def _columns(p4: np.ndarray, suffix: str) -> dict[str, np.ndarray]:
    return {f"{c}{suffix}": p4[:, i] for i, c in enumerate(("px", "py", "pz", "e"))}


def _torch_seed(seed: int, chunk: int) -> int:
    return (int(seed) * 1_000_003 + chunk * 7919) % (2**63 - 1)


def _concat(chunks: Iterator[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = list(chunks)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
