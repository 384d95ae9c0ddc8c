"""Validation as a module: the statistics it reports against their textbook values, and its typed result."""

import json

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("sklearn")

import gammastar  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.flow.validate import Validation, binned_kl, classifier_auc, hanley_mcneil_error  # noqa: E402


def test_hanley_mcneil_is_the_mann_whitney_null_variance_at_half():
    """At AUC = 1/2 the Hanley-McNeil variance is (n1 + n2 + 1) / (12 n1 n2), the Mann-Whitney null variance."""
    for n1, n2 in ((1_000, 1_000), (300, 5_000), (17, 4)):
        assert hanley_mcneil_error(0.5, n1, n2) == pytest.approx(np.sqrt((n1 + n2 + 1) / (12 * n1 * n2)), rel=1e-12)
    assert hanley_mcneil_error(1.0, 100, 100) == 0.0


def test_binned_kl_against_hand_values():
    assert binned_kl(np.array([3, 5, 2]), np.array([6, 10, 4])) == pytest.approx(0.0, abs=1e-15)
    # p = (1/2, 1/2), q = (1/4, 3/4): (1/2) ln 2 + (1/2) ln(2/3)
    assert binned_kl(np.array([1, 1]), np.array([1, 3])) == pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3), rel=1e-12)
    # an empty flow bin counts half an entry: q = (0.5, 2) / 2.5
    assert binned_kl(np.array([1, 1]), np.array([0, 2])) == pytest.approx(0.5 * np.log(0.5 / 0.2) + 0.5 * np.log(0.5 / 0.8))


def _gauss(rng, n, shift):
    x = rng.normal(size=(n, 2)) + [shift, 0.0]
    return {"m": rng.uniform(0.2, 0.8, n), "a": x[:, 0], "b": x[:, 1]}


def test_classifier_auc_against_the_optimal_classifier():
    """Same distributions: AUC 1/2 within its error; means apart by d: the Bayes AUC Phi(d / sqrt 2)."""
    rng = np.random.default_rng(2)
    same = classifier_auc(_gauss(rng, 20_000, 0.0), _gauss(rng, 20_000, 0.0), names=("a", "b"), seed=1,
                          windows=[(0.2, 0.5), (0.5, 0.8)])
    assert abs(same.overall.auc - 0.5) < 4 * same.overall.auc_err
    assert [w.lo for w in same.windows] == [0.2, 0.5] and sum(w.n for w in same.windows) == same.overall.n
    d = 0.5
    apart = classifier_auc(_gauss(rng, 20_000, d), _gauss(rng, 20_000, 0.0), names=("a", "b"), seed=1)
    assert apart.overall.auc == pytest.approx(stats.norm.cdf(d / np.sqrt(2)), abs=4 * apart.overall.auc_err + 0.005)


@pytest.mark.slow  # two whole validations (classifier, KL, ratio plots); CI runs it with -m slow
def test_validate_returns_and_writes_the_same_summary(tiny_model, tiny_data, tmp_path):
    held = gammastar.EventSample(tiny_data.pos, tiny_data.neg, tiny_data.weight, "mu")
    res = gammastar.validate(tiny_model, held, tmp_path / "v", holdout=(0.3, 0.4), max_pairs=3_000)
    assert isinstance(res, Validation) and res.n_pairs == 3_000
    assert json.loads((tmp_path / "v" / "validation.json").read_text()) == json.loads(json.dumps(res.to_dict()))
    assert set(res.kl_1d) == {"m", "log_pt", "y", "phi", "cos_cs", "phi_cs"} and len(res.kl_2d) == 15
    assert res.max_kl_1d == max(res.kl_1d.values())
    assert res.holdout is not None and res.holdout_mass == (0.3, 0.4)
    assert (res.classifier.windows[-1].lo, res.classifier.windows[-1].hi) == (0.3, 0.4)
    every = gammastar.validate(tiny_model, held, tmp_path / "w", holdout=(0.3, 0.4))  # no subsampling
    lo, hi = tiny_model.mass_range
    m = held.mass[(held.mass >= lo) & (held.mass <= hi)]
    assert every.n_pairs == m.size and every.holdout is not None
    assert every.holdout.n_pairs == np.sum((m >= 0.3) & (m < 0.4))
    for png in ("ratios.png", "ratios_holdout.png"):
        assert (tmp_path / "v" / png).stat().st_size > 10_000


def test_validate_refuses_what_it_cannot_compare(tiny_model, tiny_data, tmp_path):
    electrons = gammastar.EventSample(tiny_data.pos, tiny_data.neg, tiny_data.weight, "e")
    with pytest.raises(GammastarError, match="held-out data are ee pairs, the model was trained on mumu"):
        gammastar.validate(tiny_model, electrons, tmp_path)
    few = gammastar.EventSample(tiny_data.pos[:150], tiny_data.neg[:150], tiny_data.weight[:150], "mu")
    with pytest.raises(GammastarError, match="only 150 held-out pairs inside the model's mass range"):
        gammastar.validate(tiny_model, few, tmp_path)
