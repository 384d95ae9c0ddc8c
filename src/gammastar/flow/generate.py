"""Fast Monte Carlo from a trained model: A' events at a mass, chi-chibar events at an m_chi.

Why it is fast (measured numbers: docs/flow.md)
----------------------------------------------
* A' at a fixed mass M needs only p(pT, y | M): the pair azimuth is uniform
  whenever the training data passed the uniformity test.  The flow's own
  density, tabulated on (mass, log pT, y) when the model was trained and
  stored with it (:mod:`.density`), is interpolated to M, and events are
  drawn from its inverse CDF with numpy (a guide table, :mod:`.cells`, not a
  binary search per event): millions of events per second, with no network
  pass per event and without importing torch.  The grid cell is ~1/12 of a
  standard deviation, below the statistical resolution of the validation;
  the probability the flow puts outside the grid is reported.
* chi-chibar pairs need p(pT, y | m) at a different m for every event: each
  pair takes its kinematics from the same table at its own mass (the lower
  or upper mass node, with the interpolation's weights), or, where the
  azimuth is a flow feature, from the pair flow in batches.  The chi decay
  law is exact (docs/physics.md section 2) given the learned H(m, pT, y), one
  network pass per batch: isotropic directions accepted with probability
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
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import __version__
from ..errors import GammastarError
from ..io.events.base import Chunk, EventInfo, EventStream, concat_chunks, p4_columns
from ..physics.angular import DecayLaw, decay_law, sample_law
from ..physics.formulas import check_spin
from ..physics.kinematics import AngularWindow, decay_in_collins_soper, from_pt_y_phi
from ..rates.support import Support
from ..rates.yields import AprimeYield
from ..spectrum.mcp import covered_from
from .cells import CellSampler
from .density import PairDensity
from .model import TrainedModel, load_model
from .sample import DevicePairs, given_pairs, h_tensor, sample_pairs

__all__ = ["Generator", "APRIME_COLUMNS", "MCP_COLUMNS", "APRIME_CHUNK", "MCP_CHUNK"]

APRIME_COLUMNS = ("px", "py", "pz", "e", "weight")
MCP_COLUMNS = ("px_pos", "py_pos", "pz_pos", "e_pos", "px_neg", "py_neg", "pz_neg", "e_neg", "weight")
#: events a chunk (and a shard of a distributed run) holds at most: A', chi-chibar pairs
APRIME_CHUNK = 1_000_000
MCP_CHUNK = 200000


class Generator:
    """Generate A' and chi-chibar events from a trained model.

    >>> gen = Generator.load("model.pt")
    >>> ev = gen.aprime(0.4, 100_000, eps=1e-3, seed=1)   # dict of numpy arrays
    >>> ev["weight"].sum()                                  # expected A' per collision
    """

    def __init__(self, model: TrainedModel, source: str = "", grid: int | None = None) -> None:
        if grid is not None and grid < 16:
            raise GammastarError(f"the sampling grid needs at least 16 cells per axis, not {grid}")
        self.model = model
        self.flow = model.flow
        self.m_lepton = model.m_lepton
        self.beam = model.config.beam
        #: where the model came from (the path as given), recorded in the events' metadata
        self.source = source
        #: cells per axis of the (log pT, y) table pairs are drawn from (None: the model's own table)
        self.grid = grid
        self._density: PairDensity | None = None
        self._tables: dict[tuple[float, AngularWindow | None], CellSampler] = {}
        self._mcp_tables: dict[tuple[float, str], tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", grid: int | None = None) -> Generator:
        """Read a model file (see :func:`gammastar.flow.modelfile.load_model`)."""
        return cls(load_model(path, device), str(path), grid)

    @property
    def density(self) -> PairDensity:
        """The pair-density table pairs are drawn from: the model's, or one of ``grid`` cells per axis."""
        if self._density is None:
            stored = self.model.density
            if self.grid is None or (stored is not None and stored.grid == self.grid):
                self._density = self.model.pair_density()
            else:
                self._density = PairDensity.from_flow(self.flow, self.model.mass_range, self.model.pair_range, self.grid)
        return self._density

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

    def aprime_yield(self, m_aprime: ArrayLike) -> AprimeYield:
        """The A' yield per eps^2 at ``m_aprime`` (one mass or several) from the data the model was trained on, as
        :func:`gammastar.aprime_yield` gives it from those data (the ``rates aprime`` numbers)."""
        masses = np.atleast_1d(np.asarray(m_aprime, dtype=float))
        for m in masses:
            self._check_mass(float(m))
        res = self.model.config.resolution
        points = [self.model.spectrum.estimate(float(m), resolution=None if res is None else res(float(m)))
                  for m in masses]
        s = self.model.scale
        return AprimeYield(masses, np.array([p.n_v for p in points]) * s, np.array([p.n_v_err for p in points]) * s,
                           np.array([p.bandwidth for p in points]), self.model.normalization, self.model.lepton,
                           provenance={"model": self.source})

    def _aprime_total(self, m_aprime: float) -> tuple[float, float]:
        """(A' per eps^2, its error) at one mass."""
        y = self.aprime_yield(m_aprime)
        return float(y.n_per_eps2[0]), float(y.n_err[0])

    def _table(self, m_aprime: float, window: AngularWindow | None = None) -> CellSampler:
        """The cells of the pair-density table at one mass, ready to draw from (only those with pairs that can
        fly into ``window``, when given)."""
        key = (m_aprime, window)
        if key not in self._tables:
            if len(self._tables) >= 16:  # bounded: a reach over hundreds of masses needs one at a time
                self._tables.pop(next(iter(self._tables)))
            self._tables[key] = CellSampler(self._cells_toward(m_aprime, window)[1])
        return self._tables[key]

    def _cells_toward(self, m_aprime: float, window: AngularWindow | None) -> tuple[np.ndarray, np.ndarray]:
        """The table's cells at ``m_aprime``, and the same with those whose pairs cannot reach ``window`` at 0."""
        cells = self.density.cells_at(m_aprime)
        if window is None:
            return cells, cells
        lo, hi = self.density.cell_angles(m_aprime)
        return cells, np.where((hi >= window.theta_min) & (lo <= window.theta_max), cells, 0.0)

    def grid_coverage(self, m_aprime: float) -> float:
        """Probability the flow puts inside the sampling grid at ``m_aprime`` (should be ~1)."""
        return self._table(float(m_aprime)).total

    def window_share(self, m_aprime: float, window: AngularWindow | None) -> float:
        """The share of the A' of mass ``m_aprime`` that :meth:`aprime` draws from with ``window``: those in table
        cells that can reach it, at azimuths inside it (1 without a window, or where pairs come from the flow)."""
        if window is None or not self.model.tabulates_pairs:
            return 1.0
        cells, toward = self._cells_toward(float(m_aprime), window)
        return float(toward.sum() / cells.sum()) * window.phi_share

    def _within_beams(self, m: np.ndarray, z: np.ndarray, redraw: Callable[[np.ndarray, int], np.ndarray],
                      to_pair: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None
                      ) -> tuple[np.ndarray, dict[str, np.ndarray], bool]:
        """Pair features ``z`` at masses ``m`` with every pair the beams cannot make drawn again.

        The flow's tails may reach beyond the energy a collision has (E_beam + m_p
        on a fixed target, sqrt(s) at a collider); such pairs are redrawn by
        ``redraw(indices, attempt)``.  Returns (z, the pair variables, whether any
        was redrawn).  With no pair beyond, the random streams are untouched.
        ``to_pair`` maps features to pT, y [, phi] (default: the flow's own map; the table's for pairs from it).
        """
        to_pair = to_pair or self.flow.features_to_pair
        v = to_pair(z)
        todo = np.arange(len(m))
        for attempt in range(1, 101):
            mt = np.sqrt(m[todo] ** 2 + v["pt"][todo] ** 2)
            bad = todo[self.beam.beyond(m[todo], mt * np.cosh(v["y"][todo]))]
            if bad.size == 0:
                return z, v, attempt > 1
            if attempt == 1:
                z = z.copy()
            z[bad] = redraw(bad, attempt)
            for key, value in to_pair(z[bad]).items():
                v[key][bad] = value
            todo = bad  # only the redrawn pairs need checking again
        raise GammastarError(f"the model keeps putting pairs beyond what the beams ({self.beam.describe()}) can make "
                             f"at m = {float(np.median(m)):.4g} GeV; was it trained with the right `beam_energy` or `collider`?")

    def _redraw(self, m: np.ndarray, seed: int) -> Callable[[np.ndarray, int], np.ndarray]:
        """Fresh flow draws at the masses ``m[indices]``, seeded by ``seed`` + the attempt."""
        return lambda bad, attempt: sample_pairs(self.flow, m[bad], seed + attempt).features()

    def _pair_at_mass(self, m_aprime: float, n: int, rng: np.random.Generator, seed: int,
                      window: AngularWindow | None = None) -> tuple[np.ndarray, np.ndarray, DevicePairs | None]:
        """n pair four-momenta of mass ``m_aprime``, their standardised features, and the pairs on the device
        where the flow drew them (None: drawn from the table); from the table only those that can fly into
        ``window`` (see :meth:`window_share`)."""
        m = np.full(n, m_aprime)
        if not self.model.tabulates_pairs:  # azimuth not uniform in the data: sample the flow itself
            pairs = sample_pairs(self.flow, m, seed)
            z, v, changed = self._within_beams(m, pairs.features(), self._redraw(m, seed))
            if changed:
                pairs = given_pairs(self.flow, m, z)
            return from_pt_y_phi(v["pt"], v["y"], v["phi"], m), z, pairs
        cells = self._table(m_aprime, window)
        z, v, _ = self._within_beams(m, self.density.draw(cells, n, rng),
                                     lambda bad, attempt: self.density.draw(cells, bad.size, rng), self.density.to_pair)
        phi = rng.uniform(-np.pi, np.pi, n) if window is None else window.phi(rng.random(n))
        return from_pt_y_phi(v["pt"], v["y"], phi, m), z, None

    def _h(self, m: np.ndarray, z: np.ndarray, rng: np.random.Generator, drawn: DevicePairs | None = None
           ) -> np.ndarray:
        """H(m, pT, y) of the pairs (as :func:`~gammastar.physics.angular.sample_law` takes it): from the model's
        table where pairs come from it (:meth:`PairDensity.h_draw`), else from the angular network (with the
        pairs the flow ``drawn`` on the device, or ``z`` uploaded)."""
        if self.model.tabulates_pairs and self.density.h is not None:
            return self.density.h_draw(m, z, rng)
        return h_tensor(self.flow, drawn if drawn is not None else given_pairs(self.flow, m, z))

    def _decay(self, p4: np.ndarray, m: np.ndarray, m_f: float, h: np.ndarray, law: DecayLaw,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Daughters of mass ``m_f`` of the pairs ``p4`` (masses ``m``, tensors ``h``) with the law ``law(nhn, b2)``,
        b2 the daughters' beta^2: exact, by accept-reject of isotropic directions."""
        b2 = np.clip(1.0 - 4.0 * m_f**2 / m**2, 0.0, 1.0)
        cos_t, phi = sample_law(h, lambda nhn, i: law(nhn, b2[i]), rng)
        return decay_in_collins_soper(p4, cos_t, phi, m_f, self.beam)

    def aprime_pairs(self, m_aprime: float, n: int, rng: np.random.Generator, seed: int = 0,
                     window: AngularWindow | None = None, keep: Callable[[np.ndarray], np.ndarray] | None = None,
                     polarisation: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """``n`` A' four-momenta (N, 4) of mass ``m_aprime`` drawn toward ``window`` (as :meth:`aprime`: the share
        :meth:`window_share` of all A'), with their polarisation H ((N, 6): xx, yy, zz, xy, xz, yz in the
        Collins-Soper axes), for decays; with ``keep`` (a mask of the four-momenta), only the A' it keeps (H is
        computed for those only; None with ``polarisation=False``, which leaves the four-momenta as they are).
        ``seed`` seeds the flow where pairs come from it rather than from the table."""
        m_aprime = float(m_aprime)
        p4, z, drawn = self._pair_at_mass(m_aprime, n, rng, seed, window)
        if keep is not None:
            mask = keep(p4)
            p4, z = p4[mask], z[mask]
            drawn = None if drawn is None else given_pairs(self.flow, np.full(len(p4), m_aprime), z)
        if not polarisation:
            return p4, None
        h = self._h(np.full(len(p4), m_aprime), z, rng, drawn)
        if h.ndim == 3:
            h = np.column_stack([h[:, 0, 0], h[:, 1, 1], h[:, 2, 2], h[:, 0, 1], h[:, 0, 2], h[:, 1, 2]])
        return p4, h

    def aprime_tasks(
        self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, chunk: int = APRIME_CHUNK, decay: bool = False,
        window: AngularWindow | None = None,
    ) -> list[Callable[[], Chunk]]:
        """The chunks of :meth:`iter_aprime` as tasks, each making its chunk alone.

        Chunk j is seeded by (``seed``, j) only, so the tasks give the same
        events in any order and on any thread (the writer makes two at a time).
        """
        m_aprime = float(m_aprime)
        check_request(n, eps, chunk)
        total, _ = self._aprime_total(m_aprime)
        share = self.window_share(m_aprime, window)
        if not share > 0:
            assert window is not None
            raise GammastarError(f"no A' of mass {m_aprime:.4g} GeV in the model's table flies into the directions "
                                 f"asked for (theta {window.theta_min:.3g}-{window.theta_max:.3g} rad)")
        w = total * share * eps**2 / n
        if not self.model.tabulates_pairs:
            window = None  # pairs from the flow itself: every direction (share 1)
        return [partial(self._aprime_chunk, m_aprime, min(chunk, n - start), w, seed, j, decay, window)
                for j, start in enumerate(range(0, n, chunk))]

    def _aprime_chunk(self, m_aprime: float, k: int, w: float, seed: int, j: int, decay: bool,
                      window: AngularWindow | None) -> Chunk:
        rng = np.random.default_rng([seed, j])
        p4, z, drawn = self._pair_at_mass(m_aprime, k, rng, _torch_seed(seed, j), window)
        out = p4_columns(p4, "")
        if decay:
            m = np.full(k, m_aprime)
            lp, lm = self._decay(p4, m, self.m_lepton, self._h(m, z, rng, drawn), decay_law("fermion"), rng)
            out.update(p4_columns(lp, "_pos"))
            out.update(p4_columns(lm, "_neg"))
        out["weight"] = np.full(k, w)
        return out

    def iter_aprime(
        self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, chunk: int = APRIME_CHUNK, decay: bool = False,
        window: AngularWindow | None = None,
    ) -> Iterator[Chunk]:
        """A' events in chunks of at most ``chunk``: dicts of ``px, py, pz, e, weight``.

        Every event has weight N_A'(m) eps^2 / n, so the weights of all ``n``
        events add up to the expected number of A' per collision.  With
        ``decay``, the A' -> l+ l- daughters (the data's lepton flavour) are
        added as ``px_pos ... e_neg``, with the dileptons' own angular law
        1 - beta_l^2 n.H.n at the A' kinematics.  With ``window``, only A' that
        can fly into it are drawn (importance sampling for a small detector:
        every event where it looks) and the weights add up to the expected A'
        so drawn, :meth:`window_share` of the total.
        """
        for task in self.aprime_tasks(m_aprime, n, eps, seed, chunk, decay, window):
            yield task()

    def aprime(self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, decay: bool = False,
               window: AngularWindow | None = None) -> dict[str, np.ndarray]:
        """``n`` A' events at once (see :meth:`iter_aprime`)."""
        return concat_chunks(self.iter_aprime(m_aprime, n, eps, seed, decay=decay, window=window))

    def aprime_events(self, m_aprime: float, n: int, eps: float = 1.0, seed: int = 0, decay: bool = False
                      ) -> EventStream:
        """A' events for :func:`~gammastar.io.events.write_events`: the chunks, what they are, their metadata.

        The metadata record the request, the expected yield (the sum of the
        weights) with its error, the normalisation, the model and the version.
        """
        total, err = self._aprime_total(m_aprime)
        if self.model.tabulates_pairs:
            self._table(float(m_aprime))  # the table now, so that the writer's progress bar counts events only
        meta: dict[str, Any] = {
            "kind": "aprime", "mass": m_aprime, "eps": eps, "seed": seed, "n_events": n, "decay": decay,
            "beam": self.beam.to_text(),
            "expected_yield": total * eps**2, "expected_yield_err": err * eps**2,
            "normalization": self.model.normalization, "model": self.source, "version": __version__}
        info = EventInfo("aprime", m_aprime, self.model.lepton, self.beam)
        tasks = self.aprime_tasks(m_aprime, n, eps, seed, decay=decay)
        return EventStream(info, n, (t() for t in tasks), meta, tasks)

    @property
    def support(self) -> Support | None:
        """Where the training pairs are (None for a model from before it was kept)."""
        return self.model.support

    # ------------------------------------------------------------------ replicas

    @property
    def replicas(self) -> int:
        """How many replicas (flows refitted to resampled data, :mod:`.replicas`) the model has."""
        return self.model.replicas.count if self.model.replicas is not None else 0

    def replica_ratios(self, p4: np.ndarray, m: np.ndarray | float) -> np.ndarray | None:
        """(K, N) importance weights p_r / p of the model's replicas for pairs of four-momenta ``p4`` (N, 4) and
        masses ``m``: an average over the model's events weighted by row r is replica r's average (None without
        replicas)."""
        if self.model.replicas is None:
            return None
        pt = np.hypot(p4[:, 0], p4[:, 1])
        y = 0.5 * np.log((p4[:, 3] + p4[:, 2]) / (p4[:, 3] - p4[:, 2]))
        z = self.flow.pair_to_features({"pt": pt, "y": y})
        return self.model.replicas.ratios(self.model.pair_density(), m, z)

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

    def mcp_abs_weight(self, m_chi: float, spin: str = "fermion") -> float:
        """|weight| x events per eps^2: the summed |contributions| (each event carries +- this over n)."""
        contrib, _ = self._mcp_bins(*self._check_mcp(m_chi, spin))
        return float(np.abs(contrib).sum()) * self.model.scale

    def mcp_incomplete(self, m_chi: float) -> bool:
        """True when 2 m_chi is below the lowest pair mass the data cover (2 m_l, or where they start):
        lighter pairs are not in the data, so not generated."""
        return 2.0 * m_chi < covered_from(self.model.spectrum.m_min, self.m_lepton)

    def mcp_tasks(
        self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0, chunk: int = MCP_CHUNK
    ) -> list[Callable[[], Chunk]]:
        """The chunks of :meth:`iter_mcp` as tasks, each making its chunk alone (see :meth:`aprime_tasks`)."""
        m_chi, spin = self._check_mcp(m_chi, spin)
        check_request(n, eps, chunk)
        contrib, lower = self._mcp_bins(m_chi, spin)
        if not np.abs(contrib).sum() > 0 or contrib.sum() <= 0:
            raise GammastarError(f"m_chi = {m_chi:.4g} GeV: no positive dilepton yield above 2 m_chi")
        bins = CellSampler(np.abs(contrib))
        w_abs = self.mcp_abs_weight(m_chi, spin) * eps**2 / n
        if self.model.tabulates_pairs:
            _ = self.density  # made once here, not by every task
        return [partial(self._mcp_chunk, m_chi, spin, min(chunk, n - start), w_abs, np.sign(contrib), lower, bins, seed, j)
                for j, start in enumerate(range(0, n, chunk))]

    def _mcp_chunk(self, m_chi: float, spin: str, k: int, w_abs: float, sign: np.ndarray, lower: np.ndarray,
                   bins: CellSampler, seed: int, j: int) -> Chunk:
        rng = np.random.default_rng([seed, j])
        b = bins.draw(rng, k)
        m = lower[b] + (self.model.spectrum.edges[b + 1] - lower[b]) * rng.random(k)
        drawn: DevicePairs | None = None
        if self.model.tabulates_pairs:
            z, v, _ = self._within_beams(m, self.density.draw_at(m, rng),
                                         lambda bad, attempt: self.density.draw_at(m[bad], rng), self.density.to_pair)
        else:
            drawn = sample_pairs(self.flow, m, _torch_seed(seed, j))
            z, v, changed = self._within_beams(m, drawn.features(), self._redraw(m, _torch_seed(seed, j)))
            if changed:
                drawn = given_pairs(self.flow, m, z)
        phi_pair = v["phi"] if "phi" in v else rng.uniform(-np.pi, np.pi, k)
        pair = from_pt_y_phi(v["pt"], v["y"], phi_pair, m)
        # exact laws given H (docs/physics.md section 2): Dirac fermion 1 - beta_chi^2 n.H.n, complex scalar n.H.n
        a, bb = self._decay(pair, m, m_chi, self._h(m, z, rng, drawn), decay_law(spin), rng)
        return {**p4_columns(a, "_pos"), **p4_columns(bb, "_neg"), "weight": w_abs * sign[b]}

    def iter_mcp(
        self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0, chunk: int = MCP_CHUNK
    ) -> Iterator[Chunk]:
        """chi (``*_pos``) and chibar (``*_neg``) four-momenta and weights, in chunks.

        Pair masses are drawn from dN_ll/dm R_chi/R_l (the data's fine mass
        bins), pair kinematics from the flow's table at that mass, decay angles
        from the exact law.  The weights add up to the expected pairs per
        collision for ``eps``.
        """
        for task in self.mcp_tasks(m_chi, n, spin, eps, seed, chunk):
            yield task()

    def mcp(self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
        """``n`` chi-chibar events at once (see :meth:`iter_mcp`)."""
        return concat_chunks(self.iter_mcp(m_chi, n, spin, eps, seed))

    def mcp_events(self, m_chi: float, n: int, spin: str = "fermion", eps: float = 1.0, seed: int = 0
                   ) -> EventStream:
        """chi-chibar events for :func:`~gammastar.io.events.write_events` (see :meth:`aprime_events`)."""
        total = self.mcp_yield(m_chi, spin)
        meta: dict[str, Any] = {
            "kind": "mcp", "m_chi": m_chi, "spin": spin, "eps": eps, "seed": seed, "n_events": n,
            "beam": self.beam.to_text(),
            "expected_yield": total * eps**2, "max_abs_weight": self.mcp_abs_weight(m_chi, spin) * eps**2 / n,
            "incomplete": self.mcp_incomplete(m_chi),
            "covered_from": covered_from(self.model.spectrum.m_min, self.m_lepton),
            "normalization": self.model.normalization, "model": self.source, "version": __version__}
        info = EventInfo("mcp", m_chi, self.model.lepton, self.beam)
        tasks = self.mcp_tasks(m_chi, n, spin, eps, seed)
        return EventStream(info, n, (t() for t in tasks), meta, tasks)


def check_request(n: int, eps: float, chunk: int) -> None:
    """Refuse a request for events that is not a positive whole number of them, at a positive eps, in chunks of one
    or more."""
    if int(n) != n or n < 1:
        raise GammastarError(f"number of events must be a positive whole number, not {n}")
    if not (math.isfinite(eps) and eps > 0):
        raise GammastarError(f"eps must be positive, not {eps}")
    if chunk < 1:
        raise GammastarError(f"chunk must be at least 1, not {chunk}")


def _torch_seed(seed: int, chunk: int) -> int:
    return (int(seed) * 1_000_003 + chunk * 7919) % (2**63 - 1)
