"""The package as a whole: what importing it does and does not do."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_plots_leaves_the_matplotlib_backend_alone() -> None:
    # a notebook's inline backend must survive `import gammastar...plots` (the library chose Agg at import before)
    code = ("import matplotlib; matplotlib.use('svg'); "
            "import gammastar.figures, gammastar.rates.plots, gammastar.flow.plots, gammastar.reach.plots, gammastar.demo; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"


def test_every_public_name_resolves_and_import_alone_loads_no_heavy_library() -> None:
    code = ("import sys, gammastar; heavy = [m for m in ('torch', 'scipy', 'matplotlib', 'pyarrow') if m in sys.modules]; "
            "missing = [n for n in gammastar.__all__ if getattr(gammastar, n, None) is None]; print(heavy, missing)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"


def test_generating_detector_events_leaves_the_reach_s_plots_unimported() -> None:
    # `generate --experiment` needs gammastar.reach.events, not matplotlib (0.5 s of every run's start); the
    # package's names still resolve, each when first used
    code = ("import sys, gammastar.reach.events; mpl = 'matplotlib' in sys.modules; import gammastar.reach as r; "
            "missing = [n for n in r.__all__ if getattr(r, n, None) is None]; print(mpl, missing)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False []"


def test_public_names_are_the_stub_s_and_renamed_ones_warn() -> None:
    import importlib.resources

    import pytest

    import gammastar

    stub = (importlib.resources.files("gammastar") / "__init__.pyi").read_text()
    for name in ("Generator", "aprime_yield", "open_sample", "write_events", "reach"):
        assert name in gammastar.__all__ and f" as {name}" in stub
    assert (importlib.resources.files("gammastar") / "py.typed").is_file()  # annotations are for users' type checkers
    for old, new in gammastar.RENAMED.items():
        with pytest.warns(DeprecationWarning, match=f"gammastar.{old} is now gammastar.{new}"):
            assert getattr(gammastar, old) is getattr(gammastar, new)


def test_names_of_earlier_releases_still_work_and_warn(gen) -> None:
    import pytest

    import gammastar
    import gammastar.flow.validate as validate
    import gammastar.rates.compare as compare

    for module, old, new in ((compare, "compare_aprime", "aprime_comparison"), (compare, "Comparison", "YieldComparison"),
                             (validate, "Comparison", "FlowComparison"), (gammastar, "compare_mcp", "mcp_comparison")):
        with pytest.warns(DeprecationWarning, match=f"{old} is now .*{new}"):
            assert getattr(module, old) is getattr(module, new)
    # Generator.aprime_yield gives what gammastar.aprime_yield gives (an AprimeYield); unpacked as the (value,
    # error) of earlier releases it still works, with a warning
    y = gen.aprime_yield([0.3, 0.4])
    assert isinstance(y, gammastar.AprimeYield) and y.mass.tolist() == [0.3, 0.4] and y.n_per_eps2.size == 2
    with pytest.warns(DeprecationWarning, match="unpacking it as"):
        value, error = gen.aprime_yield(0.3)
    assert (value, error) == (y.n_per_eps2[0], y.n_err[0])
