"""The pair features the flow learns, and why transverse momentum enters as a probit.

The pair flow learns p(x_pT, y [, phi] | m) on standardised features.  For the
pair's transverse momentum the feature is

    x_pT = Phi^-1( F_ref(pT) ),    F_ref(pT) = 1 - (1 + pT/T) exp(-pT/T),

the probit (inverse normal CDF) of the cumulative distribution of a reference
law dN/d^2pT ~ exp(-pT/T), with T = <pT>/2 of the training pairs (the
reference's mean pT is 2T).

Why not log pT.  A normalizing flow deforms a Gaussian; zuko's spline
transforms act on [-5, 5] and are the identity outside, where the density is
the Gaussian base's.  But the pair density of any physical process is finite
per d^2pT at pT = 0, so dN/dlog pT ~ pT^2 there: in log pT the log-density
falls *linearly* towards small pT, an exponential tail that reaches 8-9
standard deviations below the mean in a sample of 1e6 pairs.  A flow in
log pT cannot put mass beyond the splines' range (on the built-in mock it put
none below pT = 7 MeV, where 2e-4 of the A' lie) and bends the region just
inside to make up for it; and that region is where a far-forward detector
looks: the A' it sees have pT/p below its angular size.

Why the probit works.  The reference has the same pT^2 behaviour at small pT
and the exponential fall of thermal spectra at large pT, so any physical
spectrum differs from it by a factor that is smooth and bounded at both ends:
in x_pT such a spectrum is a standard normal up to a smooth deformation,
whose tails are Gaussian like the flow's base.  Its whole range then lies
inside the splines' range (x_pT = -5 is a probability of 3e-7), and the
low-pT region is resolved as finely as the bulk.  Nothing about the
reference needs to be right: it only sets the coordinates.

Models trained before this feature (``log_pt``) still load and generate as
they did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..physics.beams import Beam
from ..physics.kinematics import collins_soper_angles, pair_kinematics
from ..samples import EventSample

__all__ = ["PT_FEATURES", "pt_scale", "pt_probit", "pt_from_probit", "raw_pair_features", "pair_from_raw", "pair_variables"]

#: the transverse-momentum features a model may use: the probit (models of now) and log pT (older models)
PT_FEATURES = ("pt_probit", "log_pt")
_SHRINK = 1.0 - 1e-7  # keeps atanh finite at phi = +-pi
PT_MIN = 1e-6  # GeV: smaller pT (a pair along the beam to the last digit) is taken as this


def pt_scale(pt: np.ndarray, weight: np.ndarray) -> float:
    """T of the reference law dN/d^2pT ~ exp(-pT/T): half the weighted mean pT (GeV)."""
    return float(0.5 * np.sum(weight * pt) / np.sum(weight))


def pt_probit(pt: np.ndarray, scale: float) -> np.ndarray:
    """x_pT = Phi^-1(F_ref(pT)), evaluated in whichever tail keeps its precision."""
    from scipy import special

    t = np.maximum(np.asarray(pt, dtype=float), PT_MIN) / scale
    lower = special.gammainc(2.0, t)  # F_ref = P(2, t), accurate for small t
    return np.asarray(np.where(lower < 0.5, special.ndtri(lower), -special.ndtri(special.gammaincc(2.0, t))))


def pt_from_probit(x: np.ndarray, scale: float) -> np.ndarray:
    """pT of the feature x_pT (the inverse of :func:`pt_probit`)."""
    from scipy import special

    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        t = np.where(x < 0, special.gammaincinv(2.0, special.ndtr(x)), special.gammainccinv(2.0, special.ndtr(-x)))
    return np.asarray(t * scale)


def raw_pair_features(v: dict[str, np.ndarray], features: Sequence[str], scale: float | None = None) -> np.ndarray:
    """(N, k) the pair features before standardisation, from the pair variables ``pt`` (or ``log_pt``), ``y``,
    ``phi``; ``scale`` is T of the ``pt_probit`` feature."""
    cols = []
    for name in features:
        if name == "pt_probit":
            assert scale is not None
            pt = v["pt"] if "pt" in v else np.exp(v["log_pt"])
            cols.append(pt_probit(pt, scale))
        elif name == "log_pt":
            cols.append(v["log_pt"] if "log_pt" in v else np.log(np.maximum(v["pt"], PT_MIN)))
        elif name == "y":
            cols.append(v["y"])
        elif name == "phi":
            cols.append(np.arctanh(v["phi"] / np.pi * _SHRINK))
        else:
            raise ValueError(f"unknown pair feature {name!r}")
    return np.column_stack(cols)


def pair_from_raw(x: np.ndarray, features: Sequence[str], scale: float | None = None) -> dict[str, np.ndarray]:
    """``pt``, ``y`` [, ``phi``] from raw (unstandardised) features: the inverse of :func:`raw_pair_features`."""
    out = {}
    for i, name in enumerate(features):
        if name == "pt_probit":
            assert scale is not None
            out["pt"] = pt_from_probit(x[:, i], scale)
        elif name == "log_pt":
            out["pt"] = np.exp(x[:, i])
        elif name == "y":
            out["y"] = x[:, i]
        elif name == "phi":
            out["phi"] = np.pi * np.tanh(x[:, i]) / _SHRINK
        else:
            raise ValueError(f"unknown pair feature {name!r}")
    return out


def pair_variables(data: EventSample, beam: Beam | float) -> dict[str, np.ndarray]:
    """Per-pair m, log pT, y, phi and the Collins-Soper angles (cos theta, phi) of the positive lepton."""
    k = pair_kinematics(data.pos, data.neg)
    cos_t, phi_cs = collins_soper_angles(data.pos, data.neg, beam)
    return {
        "m": data.mass,
        "pt": k.pt,
        "log_pt": np.log(np.maximum(k.pt, PT_MIN)),
        "y": k.y,
        "phi": k.phi,
        "cos_cs": cos_t,
        "phi_cs": phi_cs,
    }
