"""``gammastar mock``: a dilepton sample with a known truth (the built-in cocktail or Pythia8)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import MOCK_MAX, POSITIVE, SEED, Count, check_disk, note


@click.command()
@click.option("--n-events", type=Count(MOCK_MAX), default=1_000_000, show_default=True,
              help="Pairs to generate (at most 1e8: the sample is made in memory, ~200 bytes a pair).")
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help=".parquet or .csv[.gz]")
@click.option("--lepton", type=click.Choice(["mu", "e"]), default="mu", show_default=True)
@click.option("--beam-energy", type=POSITIVE, default=400.0, show_default=True, help="Proton beam energy, GeV.")
@click.option("--sources", default="all", show_default=True,
              help="Comma list of pi0 (electrons),eta,etap,omega,phi,rho_ll,omega_ll,phi_ll,continuum, or "
                   "'dalitz'/'all' (pythia8: pi0 (electrons),eta,omega,phi).")
@click.option("--generator", type=click.Choice(["cocktail", "pythia8"]), default="cocktail", show_default=True,
              help="The built-in cocktail, or Pythia8 soft-QCD p-p collisions with forced Dalitz decays "
                   "(needs pip install 'gammastar[pythia]').")
def mock(n_events: int, seed: int, out: Path, lepton: str, beam_energy: float, sources: str, generator: str) -> None:
    """Generate a dilepton sample with its truth record.

    The built-in NA60-like p-A cocktail, or (--generator pythia8) an independent
    cross-check from Pythia8 whose truth is Pythia's own meson multiplicities.
    Writes the input schema plus a source_id column, the number of collisions
    as metadata (Parquet; a sidecar OUT.meta.json for CSV), and the truth as OUT.truth.json.
    """
    from gammastar.io.atomic import check_output
    from gammastar.io.readers import reader_for
    from gammastar.truth.mock import save_mock

    check_output(out)
    reader_for(out)  # a pair format the rates can read back
    check_disk(out, n_events, 180 if out.name.lower().endswith(".csv") else 90, "mock pairs")
    if generator == "pythia8":
        from gammastar.truth.pythia import PythiaConfig, generate_pythia

        data, sid, truth = generate_pythia(PythiaConfig(n_events=n_events, seed=seed, lepton=lepton,
                                                        beam_energy=beam_energy, sources=sources))
        names = list(truth["sources"])
    else:
        from gammastar.truth.cocktail import MockConfig, parse_sources
        from gammastar.truth.mock import generate_mock

        cfg = MockConfig(n_events=n_events, seed=seed, lepton=lepton, beam_energy=beam_energy,
                         sources=parse_sources(sources))
        data, sid, truth = generate_mock(cfg)
        names = list(truth["sources"])  # the sources that make pairs of this lepton
    _, truth_path = save_mock(out, data, sid, truth)
    note(f"wrote {len(data)} {lepton}{lepton} pairs ({', '.join(names)}) standing for "
         f"{data.n_collisions:.4g} collisions to {out}; truth in {truth_path}")
