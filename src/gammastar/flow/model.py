"""The trained model: the flow's networks with everything needed to generate and normalise.

A :class:`TrainedModel` holds the networks (:mod:`.networks`), the fine-binned
mass spectrum of the training data (the normalisation), the flow's pair
density tabulated on (mass, pT, y) (:mod:`.density`: what generation draws
from), where the training pairs are (the support), the replicas' tables when
trained with them (:mod:`.replicas`), and its provenance.  It is written to
and read from one model file (:meth:`TrainedModel.save`, :func:`load_model`;
the format is :mod:`.modelfile`).
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GammastarError
from ..physics.pdg import Lepton
from ..rates.support import Support
from ..samples import Normalised
from ..spectrum.estimator import MassSpectrum
from .density import PairDensity, ReplicaTables
from .modelfile import REPLICAS, WEIGHTS, npy_bytes, read_model_file, write_model_file
from .networks import FlowConfig, KinematicsFlow, check_device

__all__ = ["TrainedModel", "TrainingSummary", "load_model"]


@dataclass(frozen=True)
class TrainingSummary:
    """What a training did (``gammastar train --json`` prints it): epochs run, the best validation loss, the time
    taken, the pair features learned (and the p-value that decided whether the pair azimuth is one), the mass
    range, the beams and the replicas fitted."""

    epochs_run: int
    best_val_loss: float
    seconds: float
    pair_features: list[str]
    phi_uniform_pvalue: float
    mass_range: list[float]
    beam: str
    replicas: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrainedModel(Normalised):
    """A trained flow with everything needed to generate and normalise."""

    flow: KinematicsFlow
    spectrum: MassSpectrum
    lepton: Lepton
    n_collisions: float | None
    mass_range: tuple[float, float]
    pair_range: tuple[list[float], list[float]]
    phi_uniform_pvalue: float
    provenance: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    #: the flow's pair density tabulated on (mass, log pT, y) (None: phi is modelled, or not tabulated yet)
    density: PairDensity | None = None
    #: the pair densities of flows refitted to resampled data (None: trained without replicas; :mod:`.replicas`)
    replicas: ReplicaTables | None = None
    #: where the training pairs are (:mod:`gammastar.rates.support`; None: a model from before it was kept)
    support: Support | None = None

    @property
    def config(self) -> FlowConfig:
        return self.flow.config

    @property
    def tabulates_pairs(self) -> bool:
        """Whether pairs are drawn from the tabulated density: the pair azimuth is uniform (not a flow feature)."""
        return "phi" not in self.flow.pair_features

    def pair_density(self) -> PairDensity:
        """The tabulated pair density (stored in the model file; tabulated now for files written before)."""
        if not self.tabulates_pairs:
            raise GammastarError("the pair azimuth is modelled by this flow: its pairs are drawn from the flow itself")
        if self.density is None:
            self.density = PairDensity.from_flow(self.flow, self.mass_range, self.pair_range)
        if self.density.log_pt_edges is None:  # a table stored before the edges were
            self.density.set_physical(self.flow.features_to_pair)
        return self.density

    def summary(self) -> TrainingSummary:
        """What its training did."""
        return TrainingSummary(len(self.history), float(self.provenance["best_val_loss"]),
                               float(self.history[-1]["seconds"]), list(self.flow.pair_features), self.phi_uniform_pvalue,
                               list(self.mass_range), self.config.beam.to_text(),
                               0 if self.replicas is None else self.replicas.count)

    def save(self, path: str | Path) -> Path:
        """Write the one self-describing model file (atomically; see :mod:`.modelfile`)."""
        import torch

        members = {f"spectrum/{k}.npy": npy_bytes(v) for k, v in self.spectrum.to_arrays().items()}
        if self.tabulates_pairs:
            members.update({f"density/{k}.npy": npy_bytes(v) for k, v in self.pair_density().to_arrays().items()})
        if self.support is not None:
            members.update({f"support/{k}.npy": npy_bytes(v) for k, v in self.support.to_arrays().items()})
        weights = io.BytesIO()
        torch.save(self.flow.state_dict(), weights)
        members[WEIGHTS] = weights.getvalue()
        meta = {
            "config": {**dataclasses.asdict(self.config), "device": "cpu"},
            "pair_features": self.flow.pair_features,
            "norm": {k: v.tolist() for k, v in self.flow.norm.items()},
            "lepton": self.lepton,
            "n_collisions": self.n_collisions,
            "mass_range": list(self.mass_range),
            "pair_range": [list(self.pair_range[0]), list(self.pair_range[1])],
            "phi_uniform_pvalue": self.phi_uniform_pvalue,
            "spectrum": {"m_lepton": self.spectrum.m_lepton, "rel_bin": self.spectrum.rel_bin},
            "provenance": self.provenance,
            "history": self.history,
        }
        if self.replicas is not None:
            members[REPLICAS] = npy_bytes(self.replicas.prob)
            meta["replicas"] = self.replicas.fits
        return write_model_file(path, meta, members)


def load_model(path: str | Path, device: str = "cpu") -> TrainedModel:
    """Read a model file written by :meth:`TrainedModel.save` (or by an earlier release), its networks on
    ``device`` (built, and torch imported, only when first used)."""
    check_device(device)
    f = read_model_file(path)
    with f.damaged():
        meta = f.meta
        cfg = dict(meta["config"])
        cfg["hidden"] = tuple(cfg["hidden"])
        cfg["holdout_mass"] = tuple(cfg["holdout_mass"]) if cfg.get("holdout_mass") else None
        if cfg.get("mass_resolution"):
            cfg["mass_resolution"] = tuple((float(m), float(s)) for m, s in cfg["mass_resolution"])
        cfg["device"] = device
        flow = KinematicsFlow(FlowConfig(**cfg), meta["pair_features"], meta["norm"], state=f.weights)
        spec = MassSpectrum.from_arrays(f.spectrum, meta["spectrum"]["m_lepton"], meta["spectrum"]["rel_bin"],
                                        meta["lepton"])
        return TrainedModel(
            flow, spec, meta["lepton"], meta["n_collisions"], tuple(meta["mass_range"]),
            (meta["pair_range"][0], meta["pair_range"][1]), meta["phi_uniform_pvalue"], meta["provenance"],
            meta["history"], f.density, f.replicas, f.support,
        )
