"""``gammastar train``, ``generate aprime|mcp`` and ``validate``: the conditional flow as a fast Monte Carlo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import gammastar
from gammastar.io.atomic import check_output
from gammastar.io.events import EVENT_FORMATS, FORMATS, SUFFIXES, format_from_path
from gammastar.io.events.base import Chunk
from gammastar.io.jsontext import dumps
from gammastar.physics.beams import Beam
from gammastar.reach.events import (
    APRIME_DETECTOR_COLUMNS,
    MCP_DETECTOR_COLUMNS,
    aprime_detector_events,
    mcp_detector_events,
)
from gammastar.reach.experiment import PRESETS, Experiment, load_experiment
from gammastar.spectrum.resolution import parse_resolution

from .common import (
    GENERATE_MAX,
    POSITIVE,
    SEED,
    Count,
    F,
    Number,
    beam_option,
    check_disk,
    check_not_input,
    cluster_options,
    data_options,
    note,
    open_data,
    parse_window,
    plot_option,
)


@click.command()
@data_options
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Model file to write.")
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=4096, show_default=True)
@click.option("--learning-rate", type=POSITIVE, default=2e-3, show_default=True)
@click.option("--transforms", type=click.IntRange(min=1), default=3, show_default=True,
              help="Spline coupling transforms per flow.")
@click.option("--hidden", default="64,64", show_default=True, help="Hidden layer widths.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--holdout-mass", default=None, help="LO:HI: leave pairs in this mass window out of training.")
@click.option("--replicas", type=int, default=None, metavar="K",
              help="Also fit K flows to bootstrap resamples of the data (K times the training time, in parallel where "
                   "cores allow) and keep them in the model: signal counts then carry the uncertainty the finite data "
                   "leave on the kinematics. 10 or more for an error to 25%.")
@click.option("--from-model", "from_model", type=click.Path(path_type=Path), default=None,
              help="With --replicas: add them to this model (trained on the same --data) instead of training anew.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes fitting replicas at once [default: one per core].")
def train(data_path: Path, lepton: str | None, n_collisions: float | None, as_json: bool, out_path: Path, epochs: int,
          batch_size: int, learning_rate: float, transforms: int, hidden: str, device: str, seed: int,
          holdout_mass: str | None, replicas: int | None, from_model: Path | None, workers: int | None,
          **opts: Any) -> None:
    """Train the conditional flow on dilepton pairs; write one self-describing model file."""
    if replicas is not None and replicas < 1:
        raise gammastar.GammastarError(f"--replicas must be at least 1, not {replicas}")
    if from_model is not None:
        _add_replicas(data_path, lepton, n_collisions, as_json, out_path, from_model, replicas, workers, device, opts)
        return
    try:
        hidden_t = tuple(int(x) for x in hidden.split(","))
    except ValueError:
        raise gammastar.GammastarError(f"--hidden {hidden!r}: use comma-separated widths, e.g. 64,64") from None
    if min(hidden_t) < 1:
        raise gammastar.GammastarError(f"--hidden {hidden!r}: every width must be at least 1")
    window = parse_window(holdout_mass)
    check_not_input(out_path, data_path, opts)
    check_disk(out_path, 1, 20e6, "model file")
    data = open_data(data_path, lepton, n_collisions, opts, stream=False).events()
    beam = data.beam or Beam()
    cfg = gammastar.FlowConfig(transforms=transforms, hidden=hidden_t, epochs=epochs, batch_size=batch_size,
                               learning_rate=learning_rate, seed=seed, device=device, holdout_mass=window
                               ).with_beam(beam)
    model = gammastar.train(data, cfg, replicas=replicas or 0, workers=workers)
    model.save(out_path)
    done = model.summary()
    if as_json:
        click.echo(dumps({"model": str(out_path), **done.to_dict()}))
    else:
        phi = "uniform" if "phi" not in done.pair_features else "modelled"
        click.echo(f"wrote {out_path}: {done.epochs_run} epochs in {done.seconds:.0f} s, best validation loss "
                   f"{done.best_val_loss:.4f}; pair phi {phi} "
                   f"(p = {model.phi_uniform_pvalue:.3g}); masses {model.mass_range[0]:.4g}-{model.mass_range[1]:.4g} GeV; "
                   f"{model.config.beam.describe()}" + (f"; {replicas} replicas" if replicas else ""))


def _add_replicas(data_path: Path, lepton: str | None, n_collisions: float | None, as_json: bool, out_path: Path,
                  from_model: Path, replicas: int | None, workers: int | None, device: str, opts: dict[str, Any]) -> None:
    """``train --from-model M --replicas K``: M with K replicas fitted to its own data, written to --out."""
    if replicas is None:
        raise gammastar.GammastarError("--from-model adds replicas to a model: give --replicas K")
    check_not_input(out_path, data_path, opts)
    check_output(out_path, from_model)
    model = gammastar.load_model(from_model, device)
    if model.replicas is not None:
        raise gammastar.GammastarError(f"{from_model} already has {model.replicas.count} replicas")
    data = open_data(data_path, lepton, n_collisions, opts, stream=False, beam=model.config.beam)
    gammastar.add_replicas(model, data, replicas, workers).save(out_path)
    if as_json:
        click.echo(dumps({"model": str(out_path), "from_model": str(from_model), "replicas": replicas}))
    else:
        click.echo(f"wrote {out_path}: {from_model} with {replicas} replicas")


@click.group()
def generate() -> None:
    """Events from a trained model: aprime or mcp (Parquet, CSV, ROOT, HepMC3 or LHE)."""


def _gen_options(f: F) -> F:
    f = cluster_options(f, "generate on")
    f = click.option("--device", default="cpu", show_default=True)(f)
    f = click.option("--seed", type=SEED, default=0, show_default=True)(f)
    f = click.option("--experiment", "experiment_spec", default=None,
                     help=f"Detector-level events for this experiment (a preset, {', '.join(PRESETS)}, or a TOML "
                          "file): A' that decay in its volume, with the decay point and the daughters of every "
                          "final state; chi that cross its mCP detector. Weights: expected signal events in its "
                          "run. Needs --eps.")(f)
    f = click.option("--eps", type=Number(high=1.0), default=None,
                     help="Kinetic mixing / charge in units of e, in (0, 1] [default: 1; required with --experiment].")(f)
    f = click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
                     help=f"Output format [default: from the extension {' '.join(s.suffixes[0] for s in EVENT_FORMATS)}].")(f)
    f = click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
                     help="File to write; with --workers or --scheduler a directory of shards part-NNNNN.parquet, "
                          "whose rows, in order, are the serial file's.")(f)
    f = click.option("--n-events", "--n", "n_events", type=Count(GENERATE_MAX), required=True,
                     help="Events to generate (1e6 notation ok; at most 1e11, and as many as the disk holds).")(f)
    f = click.option("--model", "model_path", type=click.Path(path_type=Path), required=True)(f)
    return f


def _check_generate(out: Path, fmt: str | None, model: Path, n: int, columns: int, particles: int,
                    sharded: bool = False) -> str:
    """The output format, after refusing an output that is the model or that the disk cannot hold."""
    if sharded:  # a directory: the format from --format, a known suffix of its name, else Parquet
        fmt = fmt or (format_from_path(out) if out.suffix.lower() in SUFFIXES else "parquet")
        check_output(out, model, directory=True)
    else:
        fmt = format_from_path(out, fmt)
        check_output(out, model)
    # measured sizes: 8 bytes a column (Parquet, ROOT), ~20 (CSV); ~330 + 120 a particle (HepMC3), ~450 + 170 (LHE)
    each = {"parquet": 8 * columns, "root": 8 * columns, "csv": 20 * columns, "hepmc3": 330 + 120 * particles,
            "lhe": 450 + 170 * particles}.get(fmt, 1000)
    check_disk(out, n, each, "events")
    return fmt


def _sharded(model: Path, kind: str, request: dict[str, Any], out: Path, fmt: str, device: str, workers: int | None,
             scheduler: str | None) -> Any:
    """Generate on a Dask cluster, one shard per chunk (see :mod:`gammastar.distributed`); the request is checked
    before the cluster starts."""
    from gammastar.distributed import cluster, plan_shards, run_shards

    plan = plan_shards(model, kind, request, out, fmt)
    with cluster(workers, scheduler) as client:
        return run_shards(client, plan, device)


def _per(gen: gammastar.Generator) -> str:
    return "per collision" if gen.model.normalization == "per_collision" else "per sample"


@generate.command("aprime")
@_gen_options
@click.option("--mass", type=POSITIVE, required=True, help="A' mass, GeV.")
@click.option("--decay", is_flag=True, help="Also write the A' -> l+ l- daughters (the data's lepton flavour).")
@plot_option
def generate_aprime(model_path: Path, n_events: int, out_path: Path, fmt: str | None, eps: float | None, seed: int,
                    device: str, workers: int | None, scheduler: str | None, experiment_spec: str | None, mass: float,
                    decay: bool, plot: Path | None) -> None:
    """A' four-momenta (px, py, pz, e, weight) at one mass; weights sum to A' per collision.

    With --experiment: A' decaying in the experiment's volume (decay point, channel, daughters); weights sum to the
    expected signal events of its run, as reach aprime counts them."""
    sharded = workers is not None or scheduler is not None
    if experiment_spec is not None:
        _detector_aprime(model_path, n_events, out_path, fmt, _eps_for(eps), seed, device, workers, scheduler,
                         experiment_spec, mass, plot)
        return
    if plot is not None:
        raise gammastar.GammastarError("--plot draws where the A' decay in an experiment: give --experiment")
    eps = 1.0 if eps is None else eps
    fmt = _check_generate(out_path, fmt, model_path, n_events, 13 if decay else 5, 3 if decay else 1, sharded)
    if sharded:
        request = {"m_aprime": mass, "n": n_events, "eps": eps, "seed": seed, "decay": decay}
        run = _sharded(model_path, "aprime", request, out_path, fmt, device, workers, scheduler)
        total, err = run.metadata["expected_yield"], run.metadata["expected_yield_err"]
        note(f"wrote {run.n_events} A' events at m = {mass:.4g} GeV to {out_path}/ in {len(run.files)} shards ({fmt}); "
             f"sum of weights = {total:.4g} +- {err:.2g} A' {run.metadata['normalization'].replace('_', ' ')} "
             f"(eps = {eps:g})")
        return
    gen = gammastar.Generator.load(model_path, device)
    events = gen.aprime_events(mass, n_events, eps, seed, decay=decay)
    gammastar.write_events(out_path, events, fmt)
    total, err = events.metadata["expected_yield"], events.metadata["expected_yield_err"]
    note(f"wrote {n_events} A' events at m = {mass:.4g} GeV to {out_path} ({fmt}); sum of weights = "
         f"{total:.4g} +- {err:.2g} A' {_per(gen)} (eps = {eps:g})")


@generate.command("mcp")
@_gen_options
@click.option("--mchi", type=POSITIVE, required=True, help="mCP mass, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
def generate_mcp(model_path: Path, n_events: int, out_path: Path, fmt: str | None, eps: float | None, seed: int,
                 device: str, workers: int | None, scheduler: str | None, experiment_spec: str | None, mchi: float,
                 spin: str) -> None:
    """chi (_pos) and chibar (_neg) four-momenta and weights; weights sum to pairs per collision.

    With --experiment: pairs with a chi crossing its mCP detector, the crossing points, weights the expected
    detected chi of its run (as reach mcp counts them)."""
    sharded = workers is not None or scheduler is not None
    if experiment_spec is not None:
        _detector_mcp(model_path, n_events, out_path, fmt, _eps_for(eps), seed, device, workers, scheduler,
                      experiment_spec, mchi, spin)
        return
    eps = 1.0 if eps is None else eps
    fmt = _check_generate(out_path, fmt, model_path, n_events, 9, 2, sharded)
    if sharded:
        request = {"m_chi": mchi, "n": n_events, "spin": spin, "eps": eps, "seed": seed}
        run = _sharded(model_path, "mcp", request, out_path, fmt, device, workers, scheduler)
        _note_incomplete(run.metadata, mchi)
        note(f"wrote {run.n_events} {spin} chi-chibar events at m_chi = {mchi:.4g} GeV to {out_path}/ in "
             f"{len(run.files)} shards ({fmt}); sum of weights = {run.metadata['expected_yield']:.4g} pairs "
             f"{run.metadata['normalization'].replace('_', ' ')}")
        return
    gen = gammastar.Generator.load(model_path, device)
    events = gen.mcp_events(mchi, n_events, spin, eps, seed)
    _note_incomplete(events.metadata, mchi)
    gammastar.write_events(out_path, events, fmt)
    note(f"wrote {n_events} {spin} chi-chibar events at m_chi = {mchi:.4g} GeV to {out_path} ({fmt}); "
         f"sum of weights = {events.metadata['expected_yield']:.4g} pairs {_per(gen)}")


def _eps_for(eps: float | None) -> float:
    if eps is None:
        raise gammastar.GammastarError("--experiment needs --eps: where an A' decays (its lifetime) and how often a "
                                       "chi is detected depend on it")
    return eps


#: events a --plot is drawn from at most (the first chunk's)
PLOT_EVENTS = 200_000


def _summing(keep: tuple[str, ...] = ()) -> tuple[Callable[[Chunk], None], list[float], dict[str, Any]]:
    """An observer for :func:`gammastar.write_events` noting each chunk's sum of weights in the list returned, and
    the columns ``keep`` of the first chunk's first :data:`PLOT_EVENTS` events in the dict returned."""
    sums: list[float] = []
    kept: dict[str, Any] = {}

    def observe(chunk: Chunk) -> None:
        if not sums and keep:
            kept.update({k: chunk[k][:PLOT_EVENTS].copy() for k in keep})
        sums.append(float(chunk["weight"].sum()))

    return observe, sums, kept


def _detector_run(model_path: Path, kind: str, request: dict[str, Any], experiment_spec: str, experiment: Experiment,
                  out_path: Path, fmt: str, device: str, workers: int | None, scheduler: str | None,
                  keep: tuple[str, ...] = ()) -> tuple[dict[str, Any], float, str, dict[str, Any]]:
    """Detector-level ``kind`` events as ``request`` asks, in shards or serially: (metadata, sum of weights, where
    they went, the columns ``keep`` of the first chunk's first events, serial runs only)."""
    if workers is not None or scheduler is not None:
        run = _sharded(model_path, kind, {**request, "experiment": experiment_spec}, out_path, fmt, device, workers,
                       scheduler)
        return run.metadata, run.sum_weights, f"{out_path}/ in {len(run.files)} shards ({fmt})", {}
    gen = gammastar.Generator.load(model_path, device)
    events = aprime_detector_events if kind == "aprime" else mcp_detector_events
    stream = events(gen, experiment, **request)
    observe, sums, first = _summing(keep)
    gammastar.write_events(out_path, stream, fmt, observe=observe)
    return stream.metadata, sum(sums), f"{out_path} ({fmt})", first


def _detector_aprime(model_path: Path, n_events: int, out_path: Path, fmt: str | None, eps: float, seed: int,
                     device: str, workers: int | None, scheduler: str | None, experiment_spec: str, mass: float,
                     plot_path: Path | None) -> None:
    """``generate aprime --experiment``: A' decaying in the volume."""
    experiment = load_experiment(experiment_spec)
    sharded = workers is not None or scheduler is not None
    if plot_path is not None:
        if sharded:
            raise gammastar.GammastarError("--plot is drawn in a serial run: leave out --workers and --scheduler")
        check_output(plot_path, model_path)
    fmt = _check_generate(out_path, fmt, model_path, n_events, len(APRIME_DETECTOR_COLUMNS), 4, sharded)
    where = f"decaying in {experiment.name}'s volume at m = {mass:.4g} GeV, eps = {eps:g}"
    request = {"m_aprime": mass, "n": n_events, "eps": eps, "seed": seed}
    columns = ("vx_m", "vz_m", "channel", "weight") if plot_path is not None else ()
    meta, total, dest, first = _detector_run(model_path, "aprime", request, experiment_spec, experiment, out_path, fmt,
                                             device, workers, scheduler, columns)
    if plot_path is not None:
        from gammastar.reach.plots import plot_decay_vertices

        first["weight"] = first["weight"] * (n_events / len(first["weight"]))  # the run's signal, from a part
        title = f"{experiment.name}\n$m_{{A'}}$ = {mass:.4g} GeV, $\\varepsilon$ = {eps:.3g}"
        plot_decay_vertices(first, experiment, plot_path, title)
    note(f"wrote {n_events} A' events {where} to {dest}; sum of weights = {total:.4g} signal events in "
         f"{experiment.n_collisions:.3g} collisions (expected {meta['expected_signal']:.4g} +- "
         f"{meta['expected_signal_err']:.2g}, as reach aprime)")
    if meta["br_untabulated"] > 0.01 * meta["br_visible"]:
        note(f"note: {meta['br_untabulated'] / meta['br_visible']:.1%} of the visible decays at {mass:.4g} GeV go to "
             "hadronic channels the decay table does not split (4 pi, eta gamma, ...): not generated, not in the "
             "weights")


def _detector_mcp(model_path: Path, n_events: int, out_path: Path, fmt: str | None, eps: float, seed: int, device: str,
                  workers: int | None, scheduler: str | None, experiment_spec: str, mchi: float, spin: str) -> None:
    """``generate mcp --experiment``: chi-chibar pairs with a chi crossing the mCP detector."""
    experiment = load_experiment(experiment_spec)
    sharded = workers is not None or scheduler is not None
    fmt = _check_generate(out_path, fmt, model_path, n_events, len(MCP_DETECTOR_COLUMNS), 2, sharded)
    request = {"m_chi": mchi, "n": n_events, "spin": spin, "eps": eps, "seed": seed}
    meta, total, dest, _ = _detector_run(model_path, "mcp", request, experiment_spec, experiment, out_path, fmt, device,
                                         workers, scheduler)
    _note_incomplete(meta, mchi)
    note(f"wrote {n_events} {spin} chi-chibar events crossing {experiment.name}'s mCP detector at m_chi = {mchi:.4g} "
         f"GeV, eps = {eps:g} to {dest}; sum of weights = {total:.4g} detected chi in {experiment.n_collisions:.3g} "
         f"collisions (expected {meta['expected_signal']:.4g} +- {meta['expected_signal_err']:.2g}, as reach mcp)")


def _note_incomplete(meta: dict[str, Any], mchi: float) -> None:
    if meta["incomplete"]:
        note(f"note: 2 m_chi < {meta['covered_from']:.4g} GeV, the lowest pair mass the data cover: lighter pairs are "
             "not in the data and not generated (incomplete)")


@click.command("validate")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True)
@data_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("gammastar-validation"),
              show_default=True)
@click.option("--holdout-mass", default=None,
              help="LO:HI window to report separately [default: the window the model was trained without].")
@click.option("--n-events", "--max-pairs", "n_events", type=Count(1e8), default=500_000, show_default=True,
              help="Held-out pairs compared at most (a random subset of larger samples).")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
def validate(model_path: Path, data_path: Path, lepton: str | None, n_collisions: float | None, as_json: bool,
             out_dir: Path, holdout_mass: str | None, n_events: int, seed: int, device: str, **opts: Any) -> None:
    """Classifier AUC, KL divergences and ratio plots of the flow vs held-out data (not used in training).

    The held-out data are read with the options of rates and train; their
    beams (and mass resolution) are the model's, and others given are refused.
    """
    check_output(out_dir, model_path, data_path, directory=True)
    check_not_input(out_dir / "validation.json", data_path, opts)
    model = gammastar.load_model(model_path, device)
    given = beam_option(opts.get("beam_energy"), opts.get("collider"))
    if given is not None and given != model.config.beam:
        raise gammastar.GammastarError(f"the data's beams ({given.describe()}) are not the model's "
                                       f"({model.config.beam.describe()}): validate a model on data like its own")
    resolution = parse_resolution(opts.get("mass_resolution"))
    if resolution is not None and (model.config.resolution is None
                                   or resolution.points() != model.config.resolution.points()):
        had = "none" if model.config.resolution is None else model.config.mass_resolution
        raise gammastar.GammastarError(f"--mass-resolution is not the model's ({had}): the flow learned the data as "
                                       "the detector saw them, so validate it on data from the same detector")
    data = open_data(data_path, lepton, n_collisions, opts, stream=False, beam=model.config.beam).events()
    res = gammastar.validate(model, data, out_dir, parse_window(holdout_mass), seed=seed, max_pairs=n_events)
    if as_json:
        click.echo(dumps(res.to_dict()))
        return
    ov = res.classifier.overall
    click.echo(f"classifier AUC {ov.auc:.4f} +- {ov.auc_err:.4f} on {res.n_pairs} held-out pairs; "
               f"max 1-D KL {res.max_kl_1d:.2g}")
    for win in res.classifier.windows:
        if win.auc is not None:
            click.echo(f"  m in [{win.lo:.3f}, {win.hi:.3f}) GeV: AUC {win.auc:.4f} +- {win.auc_err:.4f}")
    if res.holdout is not None:
        h = res.holdout.classifier.overall
        click.echo(f"held-out window {list(res.holdout_mass or ())}: AUC {h.auc:.4f} +- {h.auc_err:.4f}")
    click.echo(f"wrote {out_dir / 'validation.json'} and ratio plots in {out_dir}")

