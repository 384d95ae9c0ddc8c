"""The library speaks in parameter names, the command line in flags."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import gammastar
from gammastar.cli import main
from gammastar.cli.flags import as_flags
from gammastar.reach.signal import parse_eps_spec

SRC = Path(gammastar.__file__).parent


def test_backticked_parameters_become_flags() -> None:
    assert as_flags("`n_events` must be at least 100, not 5") == "--n-events must be at least 100, not 5"
    assert as_flags("pass `lepton=e|mu`") == "pass --lepton e|mu"
    assert as_flags("or `fmt=parquet|csv`") == "or --format parquet|csv"
    assert as_flags("read with `spectrum=True`; `beam=Beam.collider(SQRT_S)`") == "read with --spectrum; --collider SQRT_S"
    # not parameters: code with spaces, metadata keys outside backticks, words without them
    text = "tables go to `gammastar rates ... --spectrum`; gammastar.n_collisions; n_events"
    assert as_flags(text) == text


def test_library_errors_name_parameters_and_the_cli_names_flags(capsys) -> None:
    with pytest.raises(gammastar.GammastarError, match="cannot parse `eps` 'x'"):
        parse_eps_spec("x")
    rc = main(["reach", "aprime", "--model", "none.pt", "--experiment", "ship", "--mass", "0.3", "--eps", "x",
               "--out", "r/"])
    assert rc == 2 and capsys.readouterr().err.startswith("error: cannot parse --eps 'x': use LO:HI:N")
    rc = main(["generate", "aprime", "--model", "none.pt", "--mass", "0.3", "--n-events", "1000", "--out", "x.foo"])
    assert rc == 2 and capsys.readouterr().err.rstrip().endswith("or --format parquet|csv|root|hepmc3|lhe")


def _strings_outside_docstrings(tree: ast.AST) -> list[ast.Constant]:
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_no_library_message_names_a_flag() -> None:
    flag = re.compile(r"(?<![\w`-])--[a-z]")
    found = [f"{f.relative_to(SRC)}:{s.lineno}: {s.value!r}" for f in sorted(SRC.rglob("*.py")) if "cli" not in f.parts
             for s in _strings_outside_docstrings(ast.parse(f.read_text())) if flag.search(s.value)]
    assert not found, "library messages should name parameters (`name`), not flags:\n" + "\n".join(found)


def test_a_failed_mass_crosses_processes_whole() -> None:
    import pickle

    from gammastar.errors import EstimateError

    e = pickle.loads(pickle.dumps(EstimateError("too few pairs", "statistics")))  # as Dask sends it back
    assert isinstance(e, EstimateError) and (str(e), e.kind) == ("too few pairs", "statistics")
