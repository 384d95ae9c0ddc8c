"""Issue-3 acceptance at full size: the trained flow vs held-out data and vs direct meson decays.

Needs the models from bench/train_flow.py (with and without --holdout-mass 0.40:0.45).

    python bench/flow_acceptance.py [--model bench/out/model.pt] [--holdout-model bench/out/model_holdout.pt]

Prints and writes bench/out/flow_acceptance.json:
* validate on a separate 1e6-pair mock sample: overall AUC (goal <= 0.53), max 1-D KL (goal <= 0.005);
* the held-out-window model inside 0.40-0.45 GeV: AUC (goal <= 0.55);
* A' at three masses vs direct decays: AUC (goal <= 0.55) and sum of weights vs the direct formula (within 5%);
* fermion and scalar mCP at m_chi = 0.15 GeV, decay angles included: same goals.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchutil import HERE
from gammastar import Generator, load_model, read_dileptons, validate, write_dileptons
from gammastar.flow.validate import classifier_auc
from gammastar.physics.kinematics import collins_soper_angles
from gammastar.truth.cocktail import MockConfig
from gammastar.truth.direct import direct_aprime_events, direct_mcp_events
from gammastar.truth.mock import generate_mock

N_EVENTS = 200_000


def lab_vars(a: np.ndarray, b: np.ndarray | None = None) -> dict[str, np.ndarray]:
    p = a if b is None else a + b
    pt = np.hypot(p[:, 0], p[:, 1])
    out = {"m": np.sqrt(np.clip(p[:, 3] ** 2 - np.sum(p[:, :3] ** 2, axis=1), 0, None)), "log_pt": np.log(pt),
           "y": 0.5 * np.log((p[:, 3] + p[:, 2]) / (p[:, 3] - p[:, 2])), "phi": np.arctan2(p[:, 1], p[:, 0])}
    if b is not None:
        out["cos_cs"], out["phi_cs"] = collins_soper_angles(a, b, 400.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=HERE / "out" / "model.pt")
    ap.add_argument("--holdout-model", type=Path, default=HERE / "out" / "model_holdout.pt")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "flow_acceptance.json")
    args = ap.parse_args()
    held_path = HERE / "out" / "heldout_mock_1000000_seed1001.parquet"
    if not held_path.exists():
        data, sid, _ = generate_mock(MockConfig(n_events=1_000_000, seed=1001))
        write_dileptons(held_path, data, {"source_id": sid})
    held = read_dileptons(held_path)
    res: dict = {}

    v = validate(load_model(args.model), held, HERE / "out" / "validation")
    vd = v.to_dict()
    res["validation"] = {"auc": vd["classifier"]["overall"], "kl_1d": v.kl_1d, "max_kl_1d": v.max_kl_1d,
                         "windows": vd["classifier"]["windows"]}
    print(f"held-out data: AUC {v.classifier.overall.auc:.4f} +- {v.classifier.overall.auc_err:.4f}"
          f" (goal <= 0.53), max 1-D KL {v.max_kl_1d:.2g} (goal <= 0.005): "
          + ", ".join(f"{k} {x:.1e}" for k, x in v.kl_1d.items()))
    if args.holdout_model.exists():
        vh = validate(load_model(args.holdout_model), held, HERE / "out" / "validation_holdout", holdout=(0.40, 0.45))
        assert vh.holdout is not None
        res["holdout_window"] = vh.holdout.classifier.overall.to_dict()
        print(f"window 0.40-0.45 GeV held out of training: AUC {res['holdout_window']['auc']:.4f} +- "
              f"{res['holdout_window']['auc_err']:.4f} (goal <= 0.55)")

    gen = Generator.load(args.model)
    cfg = MockConfig()
    res["aprime"] = []
    for mass in (0.3, 0.5, 0.7):
        ev = gen.aprime(mass, N_EVENTS, seed=5)
        p4 = np.column_stack([ev["px"], ev["py"], ev["pz"], ev["e"]])
        direct, truth = direct_aprime_events(cfg, mass, N_EVENTS, seed=6)
        auc = classifier_auc(lab_vars(direct), lab_vars(p4), names=("log_pt", "y", "phi")).overall.to_dict()
        ratio = ev["weight"].sum() / truth
        res["aprime"].append({"mass": mass, "auc": auc, "sum_weight": ev["weight"].sum(), "truth": truth, "ratio": ratio})
        print(f"A' {mass} GeV: AUC {auc['auc']:.4f} +- {auc['auc_err']:.4f} (goal <= 0.55); "
              f"sum w / direct formula = {ratio:.4f} (goal within 5%)")
    res["mcp"] = []
    for spin in ("fermion", "scalar"):
        ev = gen.mcp(0.15, N_EVENTS, spin=spin, seed=5)
        a = np.column_stack([ev[f"{c}_pos"] for c in ("px", "py", "pz", "e")])
        b = np.column_stack([ev[f"{c}_neg"] for c in ("px", "py", "pz", "e")])
        ta, tb, truth = direct_mcp_events(cfg, 0.15, spin, N_EVENTS, seed=6)
        auc = classifier_auc(lab_vars(ta, tb), lab_vars(a, b)).overall.to_dict()
        ratio = ev["weight"].sum() / truth
        res["mcp"].append({"spin": spin, "m_chi": 0.15, "auc": auc, "sum_weight": ev["weight"].sum(), "truth": truth,
                           "ratio": ratio})
        print(f"mCP {spin} 0.15 GeV: AUC {auc['auc']:.4f} +- {auc['auc_err']:.4f} (goal <= 0.55); "
              f"sum w / direct formula = {ratio:.4f} (goal within 5%)")
    args.out.write_text(json.dumps(res, indent=1, default=float))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
