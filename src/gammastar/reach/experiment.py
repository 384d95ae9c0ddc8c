"""An experiment's geometry and detection, from a TOML file or a shipped preset (``--experiment NAME|FILE``).

Geometry, so that every tool computes the same thing: the target is a point
at the origin and the beam runs along +z.  An A' (or chi) flies in a straight
line along its momentum; it is *in acceptance* when that line crosses the
plane z = z_end (z_m for mCP) inside the shape, centred on the beam axis
(or at ``centre_x_m, centre_y_m`` for an off-axis detector).  An A' in
acceptance decays inside the volume with probability

    P = exp(-z_start / (lambda cos theta)) - exp(-z_end / (lambda cos theta)),
    lambda = (|p|/m) c tau(m, eps),   cos theta = p_z/|p|.

``daughters_in_acceptance`` adds: every decay product (of the channel drawn
among the final states, :mod:`gammastar.physics.channels`), from the decay
point, crosses z_end inside the shape.  The schema (every key; unknown ones are
errors, so that a typo cannot pass silently)::

    name = "toy-dump"
    beam_energy_gev = 400
    n_collisions = 1e18            # collisions (or protons on target) the search stands for
    [decay_volume]
    z_start_m = 50
    z_end_m = 100
    shape = "circle"               # or "rectangle" with half_x_m, half_y_m
    radius_m = 2.5
    centre_x_m = 0                 # optional: an off-axis volume (default 0, 0)
    centre_y_m = 0
    [detection]
    final_states = ["ee", "mumu"]  # any of ee, mumu, hadrons
    efficiency = 1.0
    daughters_in_acceptance = false
    [mcp_detector]                 # optional: mCP detection downstream
    z_m = 100
    shape = "rectangle"
    half_x_m = 0.5
    half_y_m = 0.5
    model = "scintillator"         # P = (1 - exp(-eps^2 npe_per_layer))^layers
    layers = 4
    npe_per_layer = 1e5
    # or model = "electron-recoil": length_m, electron_density_per_m3, recoil_min_gev, recoil_max_gev
    [sources]                      # optional: where each number comes from (text)
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GammastarError
from ..physics.kinematics import AngularWindow

__all__ = ["Shape", "DecayVolume", "Detection", "McpDetector", "Experiment", "load_experiment", "PRESETS"]

#: the shipped presets (``--experiment NAME``): 400 GeV SPS proton dumps
PRESETS = ("ship", "na62-dump", "charm")
FINAL_STATES = ("ee", "mumu", "hadrons")


class _Table:
    """One TOML table being read: typed getters with one-line errors naming the file and the key."""

    def __init__(self, data: dict[str, Any], where: str, section: str) -> None:
        self.data, self.where, self.section = data, where, section
        self.used: set[str] = set()

    def _fail(self, key: str, msg: str) -> GammastarError:
        at = f"[{self.section}] " if self.section else ""
        return GammastarError(f"experiment {self.where}: {at}{key} {msg}")

    def get(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self._fail(key, "is missing")
            return default
        return self.data[key]

    def number(self, key: str, default: Any = ..., low: float = -math.inf, closed: bool = True,
               high: float = math.inf) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, f"must be a number, not {value!r}")
        value = float(value)
        inside = (value >= low if closed else value > low) and value <= high
        if not (math.isfinite(value) and inside):
            bound = f"{'>=' if closed else '>'} {low:g}" + (f" and <= {high:g}" if math.isfinite(high) else "")
            raise self._fail(key, f"must be a finite number {bound}, not {value:g}")
        return value

    def text(self, key: str, choices: tuple[str, ...] | None = None, default: Any = ...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str) or (choices is not None and value not in choices):
            want = f"one of {', '.join(repr(c) for c in choices)}" if choices else "a string"
            raise self._fail(key, f"must be {want}, not {value!r}")
        return value

    def table(self, key: str, required: bool = True) -> _Table | None:
        value = self.get(key, ... if required else None)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._fail(key, "must be a table ([" + key + "])")
        return _Table(value, self.where, key)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self._fail(unknown[0], f"is not a key of this table (known: {', '.join(sorted(self.used))})")


@dataclass(frozen=True)
class Shape:
    """A circle (``radius``) or rectangle (``half_x``, ``half_y``) in a plane z = const, metres."""

    kind: str
    radius: float = 0.0
    half_x: float = 0.0
    half_y: float = 0.0
    centre_x: float = 0.0
    centre_y: float = 0.0

    @classmethod
    def read(cls, t: _Table) -> Shape:
        kind = t.text("shape", ("circle", "rectangle"))
        cx, cy = t.number("centre_x_m", 0.0), t.number("centre_y_m", 0.0)
        if kind == "circle":
            return cls(kind, radius=t.number("radius_m", low=0.0, closed=False), centre_x=cx, centre_y=cy)
        return cls(kind, half_x=t.number("half_x_m", low=0.0, closed=False),
                   half_y=t.number("half_y_m", low=0.0, closed=False), centre_x=cx, centre_y=cy)

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        dx, dy = np.asarray(x) - self.centre_x, np.asarray(y) - self.centre_y
        if self.kind == "circle":
            return dx * dx + dy * dy <= self.radius**2
        return (np.abs(dx) <= self.half_x) & (np.abs(dy) <= self.half_y)

    def crossed_at(self, z: float, p: np.ndarray, x0: np.ndarray | float = 0.0, y0: np.ndarray | float = 0.0,
                   z0: np.ndarray | float = 0.0) -> np.ndarray:
        """Whether lines from (x0, y0, z0) (default: the target) along momenta ``p`` (..., 3) cross the plane ``z``
        inside the shape, going forward."""
        pz = p[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (z - z0) / pz
            ok = (pz > 0) & (t >= 0)
            return np.asarray(ok & self.contains(x0 + t * p[..., 0], y0 + t * p[..., 1]))

    def line_interval(self, h0: np.ndarray, h1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For points h0 + t h1 ((N, 2) each, moving linearly with a parameter t), the interval of t where the point
        lies inside the shape: (lo, hi), empty where lo > hi (a circle's condition is quadratic in t, a rectangle's
        linear in each axis, so the set is one interval)."""
        d = h0 - np.array([self.centre_x, self.centre_y])
        inf = np.full(h0.shape[0], np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "circle":
                a = np.sum(h1 * h1, axis=1)
                b = 2.0 * np.sum(h1 * d, axis=1)
                c = np.sum(d * d, axis=1) - self.radius**2
                root = np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))
                lo, hi = (-b - root) / (2.0 * a), (-b + root) / (2.0 * a)
                miss = b * b - 4.0 * a * c < 0
                still = a == 0  # the point does not move: inside for every t, or for none
                lo = np.where(still, np.where(c <= 0, -inf, inf), np.where(miss, inf, lo))
                hi = np.where(still, np.where(c <= 0, inf, -inf), np.where(miss, -inf, hi))
                return lo, hi
            lo, hi = -inf, inf
            for axis, half in ((0, self.half_x), (1, self.half_y)):
                s0, s1 = (-half - d[:, axis]) / h1[:, axis], (half - d[:, axis]) / h1[:, axis]
                still = h1[:, axis] == 0
                inside = np.abs(d[:, axis]) <= half
                lo = np.maximum(lo, np.where(still, np.where(inside, -inf, inf), np.minimum(s0, s1)))
                hi = np.minimum(hi, np.where(still, np.where(inside, inf, -inf), np.maximum(s0, s1)))
            return lo, hi

    def angular_window(self, z: float) -> AngularWindow:
        """A window of directions from the origin holding every line that crosses the plane ``z`` inside the shape."""
        cx, cy = self.centre_x, self.centre_y
        if self.kind == "circle":
            d = math.hypot(cx, cy)
            r_lo, r_hi = max(d - self.radius, 0.0), d + self.radius
            half = math.asin(self.radius / d) if d > self.radius else math.pi
        else:
            corners = [(cx + sx * self.half_x, cy + sy * self.half_y) for sx in (-1, 1) for sy in (-1, 1)]
            r_hi = max(math.hypot(x, y) for x, y in corners)
            # the shape's point nearest the axis: the origin clamped into the rectangle
            r_lo = math.hypot(min(max(0.0, cx - self.half_x), cx + self.half_x),
                              min(max(0.0, cy - self.half_y), cy + self.half_y))
            centre = math.atan2(cy, cx)
            half = math.pi if r_lo == 0 else max(abs(math.remainder(math.atan2(y, x) - centre, 2 * math.pi))
                                                 for x, y in corners)
        margin = 1e-9  # rounding: the window must hold the shape's edge
        return AngularWindow(max(math.atan2(r_lo, z) - margin, 0.0), math.atan2(r_hi, z) + margin, math.atan2(cy, cx),
                             min(half + margin, math.pi))

    def describe(self) -> str:
        size = f"radius {self.radius:g} m" if self.kind == "circle" else f"{2 * self.half_x:g} x {2 * self.half_y:g} m"
        off = f" centred at ({self.centre_x:g}, {self.centre_y:g}) m" if self.centre_x or self.centre_y else ""
        return size + off


@dataclass(frozen=True)
class DecayVolume:
    z_start: float
    z_end: float
    shape: Shape


@dataclass(frozen=True)
class Detection:
    final_states: tuple[str, ...]
    efficiency: float = 1.0
    daughters_in_acceptance: bool = False


@dataclass(frozen=True)
class McpDetector:
    """Where chi pairs are detected, and how: ``scintillator`` (layers, npe_per_layer) or ``electron-recoil``."""

    z: float
    shape: Shape
    model: str
    layers: int = 0
    npe_per_layer: float = 0.0
    length: float = 0.0
    electron_density: float = 0.0
    recoil_min: float = 0.0
    recoil_max: float = 0.0


@dataclass(frozen=True)
class Experiment:
    """A fixed-target or beam-dump search: beams, collisions, decay volume, detection (and an mCP detector)."""

    name: str
    beam_energy: float
    n_collisions: float
    decay_volume: DecayVolume
    detection: Detection
    mcp_detector: McpDetector | None = None
    sources: dict[str, str] = field(default_factory=dict)
    origin: str = ""

    def describe(self) -> str:
        v = self.decay_volume
        return (f"{self.name}: {self.n_collisions:.3g} collisions at {self.beam_energy:g} GeV, decay volume "
                f"z = {v.z_start:g}-{v.z_end:g} m, {v.shape.describe()}")


def _read(data: dict[str, Any], where: str) -> Experiment:
    top = _Table(data, where, "")
    name = top.text("name")
    beam = top.number("beam_energy_gev", low=1.0)
    n_coll = top.number("n_collisions", low=0.0, closed=False)
    dv = top.table("decay_volume")
    assert dv is not None
    z0 = dv.number("z_start_m", low=0.0)
    z1 = dv.number("z_end_m", low=z0, closed=False)
    volume = DecayVolume(z0, z1, Shape.read(dv))
    dv.done()
    det = top.table("detection")
    assert det is not None
    states = det.get("final_states")
    if not (isinstance(states, list) and states and all(s in FINAL_STATES for s in states)):
        raise det._fail("final_states", f"must be a non-empty list of {', '.join(FINAL_STATES)}, not {states!r}")
    daughters = det.get("daughters_in_acceptance", False)
    if not isinstance(daughters, bool):
        raise det._fail("daughters_in_acceptance", f"must be true or false, not {daughters!r}")
    detection = Detection(tuple(dict.fromkeys(states)), det.number("efficiency", 1.0, low=0.0, closed=False, high=1.0),
                          daughters)
    det.done()
    mcp = None
    md = top.table("mcp_detector", required=False)
    if md is not None:
        z = md.number("z_m", low=0.0, closed=False)
        shape = Shape.read(md)
        model = md.text("model", ("scintillator", "electron-recoil"))
        if model == "scintillator":
            layers = md.number("layers", low=1.0)
            if layers != int(layers):
                raise md._fail("layers", f"must be a whole number, not {layers:g}")
            mcp = McpDetector(z, shape, model, layers=int(layers), npe_per_layer=md.number("npe_per_layer", low=0.0,
                                                                                          closed=False))
        else:
            lo = md.number("recoil_min_gev", low=0.0, closed=False)
            mcp = McpDetector(z, shape, model, length=md.number("length_m", low=0.0, closed=False),
                              electron_density=md.number("electron_density_per_m3", low=0.0, closed=False),
                              recoil_min=lo, recoil_max=md.number("recoil_max_gev", low=lo, closed=False))
        md.done()
    src = top.get("sources", {})
    if not (isinstance(src, dict) and all(isinstance(v, str) for v in src.values())):
        raise top._fail("sources", "must be a table of text")
    top.done()
    return Experiment(name, beam, n_coll, volume, detection, mcp, dict(src), where)


def load_experiment(spec: str | Path) -> Experiment:
    """A preset by name (:data:`PRESETS`) or a TOML file."""
    if str(spec) in PRESETS:
        ref = resources.files("gammastar") / "data" / "experiments" / f"{spec}.toml"
        return _read(tomllib.loads(ref.read_text()), str(spec))
    path = Path(spec)
    if not path.is_file():
        raise GammastarError(f"`experiment` {spec}: neither a preset ({', '.join(PRESETS)}) nor a TOML file")
    try:
        data = tomllib.loads(path.read_text())
    except UnicodeDecodeError:
        raise GammastarError(f"experiment {path}: not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise GammastarError(f"experiment {path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise GammastarError(f"experiment {path}: cannot read it ({exc.strerror or exc})") from None
    return _read(data, str(path))
