"""The ``gammastar`` command line: one thin module per command group.

``mock`` (:mod:`.mock`), ``rates photon|aprime|mcp`` (:mod:`.rates`), ``compare aprime|mcp`` (:mod:`.compare`),
``train``, ``generate aprime|mcp``, ``validate`` (:mod:`.flow`), ``widths``
(:mod:`.widths`), ``reach aprime`` (:mod:`.reach`), ``demo`` (:mod:`.demo`).  Commands call the public API; bad input becomes one line
``error: ...`` and exit status 2 (:func:`main`).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any, TextIO

import click

from .. import __version__
from ..errors import GammastarError
from ..io.atomic import Interrupted, handle_signals
from .flags import as_flags

#: command -> its module in this package: imported only when the command runs, so that a command pays for its own
#: imports only
COMMANDS = {"mock": "mock", "rates": "rates", "compare": "compare", "train": "flow", "generate": "flow",
            "validate": "flow", "widths": "widths", "reach": "reach", "demo": "demo"}
#: the line ``gammastar --help`` shows for each command: the first sentence of its own help, kept here so that
#: listing the commands imports none of them (0.95 -> 0.2 s; tests/cli/test_cli.py keeps the two equal)
SUMMARIES = {
    "mock": "Generate a dilepton sample with its truth record.",
    "rates": "Yields vs mass from dilepton data: photon, aprime, mcp.",
    "compare": "Data-driven yields against meson-decay models (multiplicities x form factors): aprime, mcp.",
    "train": "Train the conditional flow on dilepton pairs; write one self-describing model file.",
    "generate": "Events from a trained model: aprime or mcp (Parquet, CSV, ROOT, HepMC3 or LHE).",
    "validate": "Classifier AUC, KL divergences and ratio plots of the flow vs held-out data (not used in training).",
    "widths": "A' c tau at eps = 1 (metres; scales as 1/eps^2) and branching ratios: exact below 2 m_pi, tabulated "
              "above.",
    "reach": "Signal events in an experiment and the reach in (mass, eps).",
    "demo": "Mock -> rates -> plots on the built-in dimuon cocktail, in one go.",
}


class _Commands(click.Group):
    """The command groups, each imported from its module when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        import importlib

        command = getattr(importlib.import_module(f".{COMMANDS[cmd_name]}", __name__), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in COMMANDS])


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gammastar")
def cli() -> None:
    """Dark-photon and millicharged-particle yields, events and reach from measured dilepton pairs."""


class _NoteHandler(logging.Handler):
    """Library notes (INFO records of the ``gammastar`` logger) as ``note: ...`` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"note: {as_flags(record.getMessage())}", err=True)


_NOTES = _NoteHandler(logging.INFO)


# ----------------------------------------------------------------------------- entry


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    click.echo(f"warning: {as_flags(str(message))}", err=True)


def _close_bars() -> None:
    """Close progress bars an error left open, so that the next line starts on a line of its own."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", [])):
        bar.close()


def _error(msg: str) -> int:
    _close_bars()
    click.echo(f"error: {as_flags(msg)}", err=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the CLI and turns bad input into one-line errors (exit status 2).

    SIGINT, SIGTERM and SIGHUP stop the run cleanly: temporary files are
    removed and the exit status is 128 + the signal number.
    """
    # the command line draws off screen whatever the session's display (the library leaves the backend alone)
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.showwarning = _show_warning
    log = logging.getLogger("gammastar")
    log.addHandler(_NOTES)
    level = log.level
    log.setLevel(logging.INFO)
    try:
        # every run says its warnings, as a fresh process would (not once per session, when run in-process)
        with handle_signals(), warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            rv: Any = cli.main(args=argv, prog_name="gammastar", standalone_mode=False)
    except GammastarError as exc:
        return _error(str(exc))
    except click.ClickException as exc:
        hint = f" (see {exc.ctx.command_path} --help)" if isinstance(exc, click.UsageError) and exc.ctx else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        return 2 if exc.exit_code == 2 else exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        _close_bars()
        click.echo("interrupted", err=True)
        return 130
    except Interrupted as exc:
        _close_bars()
        click.echo(f"interrupted ({exc})", err=True)
        return 128 + exc.signum
    except OSError as exc:
        return _error(str(exc))
    finally:
        log.removeHandler(_NOTES)
        log.setLevel(level)
    return rv if isinstance(rv, int) else 0


def run() -> None:
    """The ``gammastar`` command (and ``python -m gammastar``): :func:`main`, then exit with its status.

    After a signal (status 128 + N) the process ends with ``os._exit`` once its output is flushed (its
    temporary files are gone by then). Without it, a handled SIGINT sometimes still ended with the process
    killed by SIGINT during interpreter shutdown (status -2, not 130): 4 in 200 interrupted LHE runs, each
    time with the signal landing in the ``exec()`` that mpmath runs while pylhe imports it; 0 in 150 with this.
    """
    rc = main()
    if rc >= 128:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":
    run()
