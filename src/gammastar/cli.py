"""The ``gammastar`` command line: mock, rates (photon, aprime, mcp), demo."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import click
import numpy as np

from . import __version__
from .data import BEAM_ENERGY_KEY, read_dileptons, write_dileptons
from .errors import GammastarError
from .yields import aprime_yield, mcp_yield, parse_mass_spec, photon_yield


class _Count(click.ParamType):
    """A whole number that may be written 1e6."""

    name = "count"

    def convert(self, value, param, ctx):
        try:
            f = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not f.is_integer() or f < 1:
            self.fail(f"{value!r} is not a positive whole number", param, ctx)
        return int(f)


COUNT = _Count()


def _note(msg: str) -> None:
    click.echo(msg, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gammastar")
def cli() -> None:
    """Dark-photon and millicharged-particle yields from measured dilepton pairs."""


# ----------------------------------------------------------------------------- mock


@cli.command()
@click.option("--n-events", type=COUNT, default=1_000_000, show_default=True, help="Pairs to generate.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help=".parquet or .csv[.gz]")
@click.option("--lepton", type=click.Choice(["mu", "e"]), default="mu", show_default=True)
@click.option("--beam-energy", type=float, default=400.0, show_default=True, help="Proton beam energy, GeV.")
@click.option("--sources", default="all", show_default=True,
              help="Comma list of eta,etap,omega,phi,rho_ll,omega_ll,phi_ll,continuum, or 'dalitz'/'all' "
                   "(pythia8: pi0 (electrons),eta,omega,phi).")
@click.option("--generator", type=click.Choice(["cocktail", "pythia8"]), default="cocktail", show_default=True,
              help="The built-in cocktail, or Pythia8 soft-QCD p-p collisions with forced Dalitz decays "
                   "(needs pip install 'gammastar[pythia]').")
def mock(n_events, seed, out, lepton, beam_energy, sources, generator):
    """Generate a dilepton sample with its truth record.

    The built-in NA60-like p-A cocktail, or (--generator pythia8) an independent
    cross-check from Pythia8 whose truth is Pythia's own meson multiplicities.
    Writes the input schema plus a source_id column, the number of collisions
    as metadata (Parquet), and the truth as OUT.truth.json.
    """
    if generator == "pythia8":
        from .pythia import PythiaConfig, generate_pythia

        cfg = PythiaConfig(n_events=n_events, seed=seed, lepton=lepton, beam_energy=beam_energy, sources=sources)
        data, sid, truth = generate_pythia(cfg)
        names = list(truth["sources"])
    else:
        from .mock import MockConfig, generate_mock, parse_sources

        cfg = MockConfig(n_events=n_events, seed=seed, lepton=lepton, beam_energy=beam_energy,
                         sources=parse_sources(sources))
        data, sid, truth = generate_mock(cfg)
        names = list(cfg.sources)
    write_dileptons(out, data, {"source_id": sid})
    truth_path = out.with_name(out.name + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1))
    _note(f"wrote {len(data)} {lepton}{lepton} pairs ({', '.join(names)}) standing for "
          f"{data.n_collisions:.4g} collisions to {out}; truth in {truth_path}")


# ---------------------------------------------------------------------------- rates


def _data_options(f):
    f = click.option("--acceptance-floor", type=float, default=0.01, show_default=True,
                     help="Smallest acceptance used in 1/A.")(f)
    f = click.option("--acceptance", default=None,
                     help="Acceptance map A(m, pT, y): .npz or .root[:TH3 name]; pairs get weight / A.")(f)
    f = click.option("--like-sign-bin", type=float, default=0.01, show_default=True,
                     help="Mass bin width (GeV) of the like-sign subtraction.")(f)
    f = click.option("--like-sign-r", type=float, default=1.0, show_default=True,
                     help="R in N_sig = N+- - 2 R sqrt(N++ N--).")(f)
    f = click.option("--max-abs-eta", type=float, default=None, help="Lepton |eta| cut before pairing (--leptons).")(f)
    f = click.option("--min-pt", type=float, default=None, help="Lepton pT cut (GeV) before pairing (--leptons).")(f)
    f = click.option("--background", type=click.Choice(["like-sign"]), default=None,
                     help="Subtract the combinatorial background (needs --leptons).")(f)
    f = click.option("--leptons", default=None,
                     help="Build pairs from this event-level collection of a ROOT file: Muon or Electron.")(f)
    f = click.option("--tree", default=None, help="ROOT tree [events for pair trees, Events with --leptons].")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout instead of a table.")(f)
    f = click.option("--n-collisions", type=float, default=None,
                     help="Collisions (or protons on target) the sample stands for; yields become per collision.")(f)
    f = click.option("--lepton", type=click.Choice(["e", "mu"]), default=None,
                     help="Force the lepton flavour (default: inferred from the leptons' masses).")(f)
    f = click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
                     help="Dilepton pairs: .parquet, .csv, .csv.gz or .root.")(f)
    return f


def _rates_options(f):
    """The data options, with --data or a published --spectrum table."""
    f = _data_options(f)
    for p in f.__click_params__:
        if p.name == "data_path":
            p.required = False
            p.help = "Dilepton pairs: .parquet, .csv, .csv.gz or .root (or use --spectrum)."
    return click.option("--spectrum", "spectrum_path", type=click.Path(path_type=Path), default=None,
                        help="A published dN/dm table instead of events: HEPData YAML/CSV or m_lo,m_hi,value,err CSV.")(f)


def _load(data_path: Path | None, lepton, n_collisions, opts: dict, stream: bool = False):
    spectrum_path = opts.pop("spectrum_path", None)
    if spectrum_path is not None:
        from .published import read_spectrum

        if data_path is not None:
            raise GammastarError("give either --data (events) or --spectrum (a published table), not both")
        if any(opts[k] is not None for k in ("tree", "leptons", "background", "min_pt", "max_abs_eta", "acceptance")):
            raise GammastarError("--tree, --leptons, --background, --acceptance and the lepton cuts apply to events, "
                                 "not to --spectrum")
        table = read_spectrum(spectrum_path, lepton=lepton, n_collisions=n_collisions)
        if table.n_collisions is None:
            _note("note: no --n-collisions: yields are in the table's own normalisation (per collision if it is)")
        return table
    if data_path is None:
        raise GammastarError("give the dilepton data with --data FILE (or a published table with --spectrum FILE)")
    from .published import looks_like_table
    from .stream import scan_dileptons, should_stream

    if should_stream(data_path):
        if not stream:
            raise GammastarError(f"{data_path}: this command needs the pairs in memory; give it a single file "
                                 f"(directories and files over 2e7 pairs are for the rates)")
        if any(opts[k] is not None for k in ("leptons", "background", "min_pt", "max_abs_eta")):
            raise GammastarError("pair building (--leptons) reads a whole file; it cannot be streamed")
        _note(f"note: {data_path} is large or a directory: reading it in chunks; mCP yields from 1e-4-relative mass bins")
        data = scan_dileptons(data_path, lepton=lepton, n_collisions=n_collisions, tree=opts["tree"],
                              acceptance=opts["acceptance"], acceptance_floor=opts["acceptance_floor"])
        if data.n_collisions is None:
            _note("note: no --n-collisions and no gammastar.n_collisions metadata: yields are per sample")
        return data

    if looks_like_table(data_path):
        raise GammastarError(f"{data_path} is a binned spectrum table, and this needs events: "
                             "tables go to `gammastar rates ... --spectrum`")
    data = read_dileptons(data_path, lepton=lepton, n_collisions=n_collisions, **opts)
    if data.n_collisions is None:
        _note("note: no --n-collisions and no gammastar.n_collisions metadata: yields are per sample")
    return data


def _header(title: str, data) -> str:
    norm = ("per collision (n_collisions = %.6g)" % data.n_collisions) if data.n_collisions else "per sample"
    what = (f"published {data.lepton}{data.lepton} spectrum, {len(data.lo)} bins" if hasattr(data, "lo")
            else f"{len(data)} {data.lepton}{data.lepton} pairs")
    return f"# gammastar {title}: {data.source}, {what}, yields {norm}"


def _emit(payload: dict, table_rows: list[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=1))
    else:
        click.echo("\n".join(table_rows))


@cli.group()
def rates() -> None:
    """Yields vs mass from dilepton data: photon, aprime, mcp."""


_bandwidth_option = click.option(
    "--bandwidth", type=float, default=None,
    help="Fixed half-width (GeV) of the local spectrum estimate; adaptive by default.")


@rates.command()
@_rates_options
@click.option("--mass", "mass_spec", required=True, help="LO:HI:STEP or a comma list, GeV.")
@_bandwidth_option
def photon(data_path, lepton, n_collisions, as_json, mass_spec, bandwidth, **opts):
    """Off-shell photon yield N_V(m) and dN_ll/dm: the model-independent product."""
    masses = parse_mass_spec(mass_spec)
    data = _load(data_path, lepton, n_collisions, opts, stream=True)
    res = photon_yield(data, masses, bandwidth=bandwidth, progress=True)
    rows = [_header("rates photon", data),
            "# mass[GeV]      N_V      N_V_err   dN_ll/dm[1/GeV]  err   half-width[GeV]"]
    rows += [f"{m:10.5f} {n:11.4e} {e:9.2e} {d:11.4e} {de:9.2e} {h:8.4f}"
             for m, n, e, d, de, h in zip(res.mass, res.n_v, res.n_v_err, res.dn_ll_dm, res.dn_ll_dm_err, res.bandwidth)]
    _emit({**res.to_dict(), "n_collisions": data.n_collisions, "data": data.source}, rows, as_json)


@rates.command()
@_rates_options
@click.option("--mass", "mass_spec", required=True, help="A' masses: LO:HI:STEP or a comma list, GeV.")
@_bandwidth_option
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also draw a PNG.")
def aprime(data_path, lepton, n_collisions, as_json, mass_spec, bandwidth, plot, **opts):
    """Dark photons produced per collision for eps = 1 (multiply by eps^2)."""
    masses = parse_mass_spec(mass_spec)
    data = _load(data_path, lepton, n_collisions, opts, stream=True)
    res = aprime_yield(data, masses, bandwidth=bandwidth, progress=True)
    rows = [_header("rates aprime", data), "# mass[GeV]  N_A'/eps^2    error    rel.err  half-width[GeV]"]
    rows += [f"{m:10.5f} {n:11.4e} {e:9.2e} {e / abs(n) if n else np.inf:8.1%} {h:8.4f}"
             for m, n, e, h in zip(res.mass, res.n_per_eps2, res.n_err, res.bandwidth)]
    _emit({**res.to_dict(), "n_collisions": data.n_collisions, "data": data.source}, rows, as_json)
    if plot:
        from .plots import plot_aprime

        _note(f"plot: {plot_aprime(res, plot)}")


@rates.command()
@_rates_options
@click.option("--mchi", "mchi_spec", required=True, help="m_chi values: LO:HI:STEP or a comma list, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also draw a PNG.")
def mcp(data_path, lepton, n_collisions, as_json, mchi_spec, spin, plot, **opts):
    """Millicharged chi-chibar pairs per collision for eps = 1 (multiply by eps^2)."""
    m_chi = parse_mass_spec(mchi_spec)
    data = _load(data_path, lepton, n_collisions, opts, stream=True)
    res = mcp_yield(data, m_chi, spin=spin, progress=True)
    if res.incomplete:
        _note(f"note: for m_chi < m_{data.lepton} = {data.m_lepton:.4g} GeV the data cannot see pair masses "
              f"below 2 m_{data.lepton} = {res.m_min:.4g} GeV; those yields are the visible part only (incomplete)")
    rows = [_header(f"rates mcp ({spin})", data),
            f"# m_chi[GeV]  N_pairs/eps^2   error   (pair masses above {res.m_min:.4g} GeV only)"]
    rows += [f"{m:10.5f} {n:11.4e} {e:9.2e}{'  incomplete' if inc else ''}"
             for m, n, e, inc in zip(res.m_chi, res.n_pairs_per_eps2, res.n_err, res.incomplete_at)]
    _emit({**res.to_dict(), "n_collisions": data.n_collisions, "data": data.source}, rows, as_json)
    if plot:
        from .plots import plot_mcp

        _note(f"plot: {plot_mcp([res], plot)}")


# ------------------------------------------------------------------------ flow


def _parse_window(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise GammastarError(f"mass window {text!r}: use LO:HI in GeV") from None
    if not lo < hi:
        raise GammastarError(f"mass window {text!r}: need LO < HI")
    return lo, hi


@cli.command()
@_data_options
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Model file to write.")
@click.option("--epochs", type=int, default=30, show_default=True)
@click.option("--batch-size", type=int, default=4096, show_default=True)
@click.option("--learning-rate", type=float, default=2e-3, show_default=True)
@click.option("--transforms", type=int, default=3, show_default=True, help="Spline coupling transforms per flow.")
@click.option("--hidden", default="64,64", show_default=True, help="Hidden layer widths.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--beam-energy", type=float, default=None,
              help="Beam energy (GeV) defining the Collins-Soper frame [file metadata, else 400].")
@click.option("--holdout-mass", default=None, help="LO:HI: leave pairs in this mass window out of training.")
def train(data_path, lepton, n_collisions, as_json, out_path, epochs, batch_size, learning_rate, transforms, hidden,
          device, seed, beam_energy, holdout_mass, **opts):
    """Train the conditional flow on dilepton pairs; write one self-describing model file."""
    from .flow import FlowConfig
    from .flow import train as train_flow

    try:
        hidden_t = tuple(int(x) for x in hidden.split(","))
    except ValueError:
        raise GammastarError(f"--hidden {hidden!r}: use comma-separated widths, e.g. 64,64") from None
    window = _parse_window(holdout_mass)
    data = _load(data_path, lepton, n_collisions, opts)
    if beam_energy is None:
        beam_energy = float(data.metadata.get(BEAM_ENERGY_KEY, 400.0))
    cfg = FlowConfig(transforms=transforms, hidden=hidden_t, epochs=epochs, batch_size=batch_size,
                     learning_rate=learning_rate, seed=seed, device=device, beam_energy=beam_energy, holdout_mass=window)
    model = train_flow(data, cfg)
    model.save(out_path)
    last = model.history[-1]
    summary = {"model": str(out_path), "epochs_run": len(model.history), "best_val_loss": model.provenance["best_val_loss"],
               "seconds": last["seconds"], "pair_features": model.flow.pair_features,
               "phi_uniform_pvalue": model.phi_uniform_pvalue, "mass_range": list(model.mass_range)}
    if as_json:
        click.echo(json.dumps(summary, indent=1))
    else:
        click.echo(f"wrote {out_path}: {len(model.history)} epochs in {last['seconds']:.0f} s, best validation loss "
                   f"{summary['best_val_loss']:.4f}; pair phi {'uniform' if 'phi' not in model.flow.pair_features else 'modelled'} "
                   f"(p = {model.phi_uniform_pvalue:.3g}); masses {model.mass_range[0]:.4g}-{model.mass_range[1]:.4g} GeV")


@cli.group()
def generate() -> None:
    """Events from a trained model: aprime or mcp (Parquet, CSV, ROOT, HepMC3 or LHE)."""


def _gen_options(f):
    f = click.option("--device", default="cpu", show_default=True)(f)
    f = click.option("--seed", type=int, default=0, show_default=True)(f)
    f = click.option("--eps", type=float, default=1.0, show_default=True, help="Kinetic mixing / charge in units of e.")(f)
    f = click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "root", "hepmc3", "lhe"]), default=None,
                     help="Output format [default: from the extension .parquet .csv .root .hepmc .lhe].")(f)
    f = click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
                     help="File to write.")(f)
    f = click.option("--n", "n_events", type=COUNT, required=True, help="Events to generate (1e6 notation ok).")(f)
    f = click.option("--model", "model_path", type=click.Path(path_type=Path), required=True)(f)
    return f


@generate.command("aprime")
@_gen_options
@click.option("--mass", type=float, required=True, help="A' mass, GeV.")
@click.option("--decay", is_flag=True, help="Also write the A' -> l+ l- daughters (the data's lepton flavour).")
def generate_aprime(model_path, n_events, out_path, fmt, eps, seed, device, mass, decay):
    """A' four-momenta (px, py, pz, e, weight) at one mass; weights sum to A' per collision."""
    from .generate import Generator
    from .writers import EventInfo, format_from_path, write_events

    fmt = format_from_path(out_path, fmt)
    gen = Generator.load(model_path, device)
    total, err = gen.aprime_yield(mass)
    meta = {"kind": "aprime", "mass": mass, "eps": eps, "seed": seed, "n_events": n_events, "decay": decay,
            "expected_yield": total * eps**2, "expected_yield_err": err * eps**2,
            "normalization": "per_collision" if gen.model.n_collisions else "per_sample",
            "model": str(model_path), "version": __version__}
    info = EventInfo("aprime", mass, gen.model.lepton, gen.beam_energy)
    write_events(out_path, gen.iter_aprime(mass, n_events, eps, seed, decay=decay), n_events, info, meta, fmt)
    _note(f"wrote {n_events} A' events at m = {mass:.4g} GeV to {out_path} ({fmt}); sum of weights = "
          f"{total * eps**2:.4g} +- {err * eps**2:.2g} A' {'per collision' if gen.model.n_collisions else 'per sample'} "
          f"(eps = {eps:g})")


@generate.command("mcp")
@_gen_options
@click.option("--mchi", type=float, required=True, help="mCP mass, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
def generate_mcp(model_path, n_events, out_path, fmt, eps, seed, device, mchi, spin):
    """chi (_pos) and chibar (_neg) four-momenta and weights; weights sum to pairs per collision."""
    from .generate import Generator
    from .writers import EventInfo, format_from_path, write_events

    fmt = format_from_path(out_path, fmt)
    gen = Generator.load(model_path, device)
    total = gen.mcp_yield(mchi, spin)
    if gen.mcp_incomplete(mchi):
        _note(f"note: m_chi < m_{gen.model.lepton}: pair masses below 2 m_{gen.model.lepton} = {2 * gen.m_lepton:.4g} GeV "
              "are not in the data and not generated (incomplete)")
    meta = {"kind": "mcp", "m_chi": mchi, "spin": spin, "eps": eps, "seed": seed, "n_events": n_events,
            "expected_yield": total * eps**2, "incomplete": gen.mcp_incomplete(mchi),
            "normalization": "per_collision" if gen.model.n_collisions else "per_sample", "model": str(model_path),
            "version": __version__}
    info = EventInfo("mcp", mchi, gen.model.lepton, gen.beam_energy)
    write_events(out_path, gen.iter_mcp(mchi, n_events, spin, eps, seed), n_events, info, meta, fmt)
    _note(f"wrote {n_events} {spin} chi-chibar events at m_chi = {mchi:.4g} GeV to {out_path} ({fmt}); "
          f"sum of weights = {total * eps**2:.4g} pairs {'per collision' if gen.model.n_collisions else 'per sample'}")


@cli.command("validate")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True)
@click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
              help="Held-out dilepton pairs (not used in training).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("gammastar-validation"),
              show_default=True)
@click.option("--holdout-mass", default=None,
              help="LO:HI window to report separately [default: the window the model was trained without].")
@click.option("--lepton", type=click.Choice(["e", "mu"]), default=None)
@click.option("--max-pairs", type=COUNT, default=500_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
def validate_cmd(model_path, data_path, out_dir, holdout_mass, lepton, max_pairs, seed, device):
    """Classifier AUC, KL divergences and ratio plots of the flow vs held-out data."""
    from .flow import load_model
    from .validate import validate

    model = load_model(model_path, device)
    data = read_dileptons(data_path, lepton=lepton)
    res = validate(model, data, out_dir, _parse_window(holdout_mass), seed=seed, max_pairs=max_pairs)
    ov = res["classifier"]["overall"]
    click.echo(f"classifier AUC {ov['auc']:.4f} +- {ov['auc_err']:.4f} on {res['n_pairs']} held-out pairs; "
               f"max 1-D KL {res['max_kl_1d']:.2g}")
    for win in res["classifier"]["windows"]:
        if win["auc"] is not None:
            click.echo(f"  m in [{win['lo']:.3f}, {win['hi']:.3f}) GeV: AUC {win['auc']:.4f} +- {win['auc_err']:.4f}")
    if "holdout" in res:
        h = res["holdout"]["classifier"]["overall"]
        click.echo(f"held-out window {res['holdout_mass']}: AUC {h['auc']:.4f} +- {h['auc_err']:.4f}")
    click.echo(f"wrote {out_dir / 'validation.json'} and ratio plots in {out_dir}")


# ----------------------------------------------------------------------------- demo


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("gammastar-demo"), show_default=True)
@click.option("--n-events", type=COUNT, default=500_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
def demo(out, n_events, seed):
    """Mock -> rates -> plots on the built-in dimuon cocktail, in one go."""
    from .mock import DALITZ, SOURCES, MockConfig, generate_mock
    from .plots import plot_aprime, plot_mass_spectrum, plot_mcp

    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    _note(f"[1/4] generating {n_events} mock mu mu pairs (seed {seed})")
    data, sid, truth = generate_mock(MockConfig(n_events=n_events, seed=seed))
    pairs_path = write_dileptons(out / "dimuons.parquet", data, {"source_id": sid})
    (out / "truth.json").write_text(json.dumps(truth, indent=1))

    _note("[2/4] reading them back and estimating A' and mCP yields")
    data = read_dileptons(pairs_path)
    masses = parse_mass_spec("0.22:1.2:0.005")
    ap = aprime_yield(data, masses, progress=True)
    m_chi = parse_mass_spec("0.01:0.45:0.01")
    mcps = [mcp_yield(data, m_chi, spin=s) for s in ("fermion", "scalar")]

    _note("[3/4] plotting")
    t_ap = truth["aprime"]
    t_by = t_ap["by_source"]
    dalitz = np.sum([t_by[s] for s in DALITZ], axis=0)
    files = [
        plot_aprime(ap, out / "aprime_yield.png", {
            "truth (all sources)": (np.array(t_ap["mass"]), np.array(t_ap["n_per_eps2"])),
            "truth, Dalitz decays only": (np.array(t_ap["mass"]), dalitz),
        }),
        plot_mcp(mcps, out / "mcp_yield.png", {
            s: (np.array(truth["mcp"]["m_chi"]), np.array(truth["mcp"][s]["n_pairs_per_eps2_visible"]))
            for s in ("fermion", "scalar")
        }),
        plot_mass_spectrum(data.mass, data.weight, out / "dimuon_mass.png", data.lepton, data.scale, data.normalization,
                           groups={s: sid == SOURCES.index(s) for s in SOURCES}),
    ]

    _note("[4/4] writing tables")
    results = {"aprime": {**ap.to_dict(), "truth_n_per_eps2": np.interp(ap.mass, t_ap["mass"], t_ap["n_per_eps2"]).tolist()},
               "mcp": {r.spin: r.to_dict() for r in mcps}, "n_collisions": data.n_collisions, "data": str(pairs_path)}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    np.savetxt(out / "aprime_yield.csv", np.column_stack([ap.mass, ap.n_per_eps2, ap.n_err, ap.bandwidth]),
               delimiter=",", header="mass_gev,n_per_eps2,n_err,bandwidth_gev", comments="", fmt="%.6g")
    np.savetxt(out / "mcp_yield.csv",
               np.column_stack([m_chi] + [c for r in mcps for c in (r.n_pairs_per_eps2, r.n_err)]),
               delimiter=",", header="m_chi_gev,fermion,fermion_err,scalar,scalar_err", comments="", fmt="%.6g")
    files += [out / "results.json", out / "aprime_yield.csv", out / "mcp_yield.csv", pairs_path, out / "truth.json"]
    click.echo(f"gammastar demo finished in {time.time() - t0:.0f} s; wrote:")
    for f in files:
        click.echo(f"  {f}")


# ----------------------------------------------------------------------------- entry


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"warning: {message}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the CLI and turns bad input into one-line errors."""
    warnings.showwarning = _show_warning
    try:
        rv = cli.main(args=argv, prog_name="gammastar", standalone_mode=False)
    except GammastarError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return 130
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
