"""The one sampling chain of the flow: pair features -> H tensor -> decay angles.

Every sampler (A' events with their decays, chi-chibar pairs, the validation
twins of held-out pairs) goes through the same steps:

1. pair features z at masses m: drawn from the pair flow on the model's device
   (:func:`sample_pairs`), or given (:func:`given_pairs`, e.g. from the
   tabulated density at a fixed A' mass);
2. the hadronic tensor H(m, pT, y) from the angular network, evaluated on the
   device from the same tensors (no trip back to the host in between);
3. decay angles in the Collins-Soper frame from an exact angular law given H
   (:func:`decay_angles`; :mod:`gammastar.physics.angular`).

z and H come to the host once each, as float64 numpy arrays, for the
kinematics (boosts) that follow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..physics.angular import DecayLaw, sample_law
from .networks import KinematicsFlow, h_from_raw

if TYPE_CHECKING:
    import torch

__all__ = ["DevicePairs", "sample_pairs", "given_pairs", "h_tensor", "decay_angles"]

_H_CHUNK = 262_144
_SEEDED = threading.Lock()


@dataclass
class DevicePairs:
    """Pairs on the model's device: mass context (N, 1) and standardised pair features z (N, k), float32."""

    context: torch.Tensor
    z: torch.Tensor

    def features(self) -> np.ndarray:
        """z on the host, float64."""
        return self.z.double().cpu().numpy()


def sample_pairs(flow: KinematicsFlow, m: np.ndarray, seed: int) -> DevicePairs:
    """Draw one pair from the flow at each mass in ``m``, with torch's generator seeded by ``seed``.

    The global torch RNG state is restored afterwards, so sampling never
    disturbs anything else that draws from it.
    """
    import torch

    ctx = flow.tensor(flow.mass_context(m))
    with _SEEDED:  # the global generator is seeded for this draw alone, also when chunks are made in threads
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            with torch.no_grad():
                z = flow.pair(ctx).sample()
        finally:
            torch.random.set_rng_state(state)
    return DevicePairs(ctx, z)


def given_pairs(flow: KinematicsFlow, m: np.ndarray, z: np.ndarray) -> DevicePairs:
    """Pairs whose features were drawn elsewhere (uploaded to the device once)."""
    return DevicePairs(flow.tensor(flow.mass_context(m)), flow.tensor(z))


def h_tensor(flow: KinematicsFlow, pairs: DevicePairs) -> np.ndarray:
    """(N, 3, 3) H(m, pT, y) in the Collins-Soper frame, evaluated on the device, returned as float64."""
    import torch

    inputs = flow.angle_inputs(pairs.context, pairs.z)
    with torch.no_grad():
        return np.concatenate([h_from_raw(flow.hnet(inputs[i : i + _H_CHUNK])).double().cpu().numpy()
                               for i in range(0, len(inputs), _H_CHUNK)])


def decay_angles(
    flow: KinematicsFlow, pairs: DevicePairs, beta2: np.ndarray, law: DecayLaw, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(cos theta_CS, phi_CS) of the positive daughter from ``law`` with the learned H.

    ``law`` is :func:`gammastar.physics.angular.decay_law` of the daughters' spin; ``beta2``
    their velocity squared in the pair frame, per pair.
    """
    h = h_tensor(flow, pairs)
    return sample_law(h, lambda nhn, i: law(nhn, beta2[i]), rng)
