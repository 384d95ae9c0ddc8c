"""``gammastar demo``: the built-in cocktail through the whole method, with plots and tables."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gammastar.io.atomic import check_output

from .common import MOCK_MAX, SEED, Count, check_disk, note


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("gammastar-demo"), show_default=True)
@click.option("--n-events", type=Count(MOCK_MAX), default=500_000, show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
def demo(out: Path, n_events: int, seed: int) -> None:
    """Mock -> rates -> plots on the built-in dimuon cocktail, in one go."""
    from gammastar.demo import run_demo

    check_output(out, directory=True)
    check_disk(out / "dimuons.parquet", n_events, 90, "mock pairs")
    t0 = time.time()
    files = run_demo(out, n_events, seed, say=note)
    click.echo(f"gammastar demo finished in {time.time() - t0:.0f} s; wrote:")
    for f in files:
        click.echo(f"  {f}")
