"""The conditional flow's networks: what they learn and how.

What is learned, per pair (lab frame, beam along +z):

* the pair kinematics given the pair mass, p(log pT, y [, phi] | m): a
  ``zuko`` neural spline flow with coupling layers (``passes=2``, so density
  and sampling are each one network pass per transform), on standardised
  log pT and y with the standardised log m as context;
* the decay angles of the positive lepton in the Collins-Soper frame given
  the pair, p(cos theta_CS, phi_CS | m, pT, y).  Current conservation fixes
  their law to dN/dOmega ~ 1 - beta_l^2 n.H.n with H a real, symmetric,
  positive semi-definite 3x3 matrix of unit trace (docs/physics.md section 2), so
  instead of a generic flow a network predicts H(m, pT, y) (as L L^T / tr,
  L lower-triangular: positive and unit-trace by construction) and is trained
  by the same likelihood.  This is exact where a generic density estimator
  is only approximate, and it matters: the scalar-mCP law n.H.n is the
  *anisotropy* of the lepton law divided by beta_l^2, so any error of a
  generic angular density would be amplified several-fold.  With H known,
  every spin's law is exact (:mod:`gammastar.physics.angular`).

The pair azimuth phi is modelled as uniform only if the data say so: a chi2
test of the weighted phi histogram is made at training time (p > 1e-3) and
stored with the model; otherwise phi becomes a third flow feature.

The trained model (these networks with their table, spectrum and provenance) is
:mod:`.model`; training is in :mod:`.train`, sampling in :mod:`.sample`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GammastarError
from ..physics.beams import Beam
from ..spectrum.resolution import MassResolution
from .features import pair_from_raw, raw_pair_features

if TYPE_CHECKING:
    import torch

__all__ = ["FlowConfig", "KinematicsFlow", "h_from_raw", "angular_log_prob", "check_device"]


@dataclass
class FlowConfig:
    """Training settings (defaults: the configuration the bench measures)."""

    transforms: int = 3
    hidden: tuple[int, ...] = (64, 64)
    bins: int = 8
    epochs: int = 30
    batch_size: int = 4096
    learning_rate: float = 2e-3
    patience: int = 4
    val_fraction: float = 0.1
    seed: int = 1
    device: str = "cpu"
    #: the beams of the training data: a fixed-target beam energy (GeV), or with ``collider`` its sqrt(s) (GeV)
    beam_energy: float = 400.0
    holdout_mass: tuple[float, float] | None = None
    collider: float | None = None
    #: the detector's mass resolution as (mass, sigma) points, GeV (None: not given)
    mass_resolution: tuple[tuple[float, float], ...] | None = None

    def with_beam(self, beam: Beam) -> FlowConfig:
        """This configuration for data from ``beam``."""
        if beam.kind == "collider":
            return dataclasses.replace(self, collider=beam.energy)
        return dataclasses.replace(self, beam_energy=beam.energy, collider=None)

    @property
    def resolution(self) -> MassResolution | None:
        """The detector's mass resolution the data were taken with, when given."""
        return MassResolution.from_points(self.mass_resolution, "model") if self.mass_resolution else None

    @property
    def beam(self) -> Beam:
        """The beams (they define the Collins-Soper frame of the angular laws)."""
        return Beam.collider(self.collider) if self.collider is not None else Beam.fixed_target(self.beam_energy)


def check_device(device: str) -> None:
    """A one-line error for an unknown device or a CUDA device this machine does not have."""
    if device == "cpu":
        return
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GammastarError(f"device {device!r} asked for, but no CUDA device is available here")
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise GammastarError(f"unknown device {device!r} (use cpu, cuda or cuda:N)") from None


def h_from_raw(raw: torch.Tensor) -> torch.Tensor:
    """(N, 6) network outputs -> (N, 3, 3) H = L L^T / tr(L L^T), L lower-triangular."""
    import torch

    n = raw.shape[0]
    ell = torch.zeros(n, 3, 3, dtype=raw.dtype, device=raw.device)
    rows, cols = torch.tril_indices(3, 3, device=raw.device)
    ell[:, rows, cols] = raw
    h = ell @ ell.transpose(1, 2)
    return h / (torch.diagonal(h, dim1=1, dim2=2).sum(-1)[:, None, None] + 1e-12)


def angular_log_prob(h: torch.Tensor, n: torch.Tensor, beta2: torch.Tensor) -> torch.Tensor:
    """log of the lepton law (1 - beta^2 n.H.n) / (4 pi (1 - beta^2/3)) per steradian."""
    import torch

    nhn = torch.einsum("ni,nij,nj->n", n, h, n)
    return torch.log(torch.clamp(1.0 - beta2 * nhn, min=1e-12)) - torch.log(4.0 * math.pi * (1.0 - beta2 / 3.0))


class KinematicsFlow:
    """The pair flow, the angular (H-tensor) network, and their input standardisation.

    Holds two torch modules (``pair``, ``hnet``) on ``device`` and the numbers
    that map physics variables to network inputs and back.
    """

    def __init__(self, config: FlowConfig, pair_features: list[str], norm: dict[str, Any],
                 state: Callable[[], dict[str, Any]] | None = None) -> None:
        self.config = config
        self.pair_features = list(pair_features)
        self.norm = {k: np.asarray(v, dtype=float) for k, v in norm.items()}
        # the networks are built (and torch imported) when first used: generating from a stored
        # pair-density table needs the standardisation only; ``state`` gives their weights then
        self._state = state
        self._nets: tuple[Any, Any] | None = None

    def _networks(self) -> tuple[Any, Any]:
        if self._nets is None:
            import torch
            import zuko

            pair = zuko.flows.NSF(features=len(self.pair_features), context=1, transforms=self.config.transforms,
                                  hidden_features=tuple(self.config.hidden), bins=self.config.bins, passes=2)
            layers: list[Any] = []
            width_in = 3
            for width in self.config.hidden:
                layers += [torch.nn.Linear(width_in, width), torch.nn.SiLU()]
                width_in = width
            last = torch.nn.Linear(width_in, 6)
            with torch.no_grad():  # start at H = 1/3 (isotropic), so training begins from the unpolarised law
                last.weight.mul_(0.01)
                last.bias.copy_(torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0]))
            hnet = torch.nn.Sequential(*layers, last)
            self._nets = (pair.to(self.device), hnet.to(self.device))
            if self._state is not None:
                state, self._state = self._state, None
                self.load_state_dict(state())
        return self._nets

    @property
    def pair(self) -> Any:
        """The pair flow (a ``zuko`` conditional NSF) on the device."""
        return self._networks()[0]

    @property
    def hnet(self) -> Any:
        """The H-tensor network on the device."""
        return self._networks()[1]

    @property
    def device(self) -> torch.device:
        import torch

        return torch.device(self.config.device)

    # -- feature maps (numpy, float64) ---------------------------------------

    def mass_context(self, m: np.ndarray) -> np.ndarray:
        """(N, 1) standardised log m: the flow's context."""
        return np.asarray(((np.log(m) - self.norm["logm_mean"]) / self.norm["logm_std"])[:, None])

    @property
    def pt_scale(self) -> float | None:
        """T (GeV) of the ``pt_probit`` feature's reference law (None for a model in log pT)."""
        return float(self.norm["pt_scale"]) if "pt_scale" in self.norm else None

    def pair_to_features(self, v: dict[str, np.ndarray]) -> np.ndarray:
        """(N, k) standardised pair features (:mod:`.features`) from the physics variables."""
        raw = raw_pair_features(v, self.pair_features, self.pt_scale)
        return np.asarray((raw - self.norm["pair_mean"]) / self.norm["pair_std"])

    def features_to_pair(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """pT, y [, phi] from standardised features (the inverse of :meth:`pair_to_features`)."""
        return pair_from_raw(z * self.norm["pair_std"] + self.norm["pair_mean"], self.pair_features, self.pt_scale)

    # -- torch ------------------------------------------------------------------

    def tensor(self, x: np.ndarray) -> torch.Tensor:
        """A float32 tensor on the model's device."""
        import torch

        return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=self.device)

    @staticmethod
    def angle_inputs(mass_ctx: torch.Tensor, pair_z: torch.Tensor) -> torch.Tensor:
        """Inputs of the H network: standardised log m, log pT, y (on the device)."""
        import torch

        return torch.cat([mass_ctx, pair_z[:, :2]], dim=1)

    def log_prob_pair(self, z: np.ndarray, mass_ctx: np.ndarray) -> np.ndarray:
        """log density of the standardised pair features (no Jacobian to physics variables)."""
        import torch

        with torch.no_grad():
            return np.asarray(self.pair(self.tensor(mass_ctx)).log_prob(self.tensor(z)).double().cpu().numpy())

    def state_dict(self) -> dict[str, Any]:
        return {
            **{f"pair.{k}": v.detach().cpu() for k, v in self.pair.state_dict().items()},
            **{f"hnet.{k}": v.detach().cpu() for k, v in self.hnet.state_dict().items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._state = None
        self.pair.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("pair.")})
        self.hnet.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("hnet.")})
