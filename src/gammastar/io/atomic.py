"""Files appear complete or not at all.

Every file gammastar writes goes through :func:`atomic_path`: the content is
written to a temporary file of its own in the target directory (a random
name, created exclusively, so it never follows a symlink and never collides
with another run), flushed to disk, and renamed over the target only when
complete.  Any error, and SIGINT, SIGTERM or SIGHUP in the command line
(:func:`handle_signals`), removes the temporary file; the target is then
untouched.  Two runs writing one path each leave either their own complete
file or a clear error.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

from ..errors import GammastarError

__all__ = ["atomic_path", "WriteBack", "write_text", "Interrupted", "handle_signals", "raise_if_interrupted", "check_output",
           "deterministic_uuid"]


class Interrupted(BaseException):
    """Raised by the signal handlers of :func:`handle_signals`, so that every ``finally`` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def handle_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP (what ``kill``, ``timeout`` and batch schedulers send)
    raise :class:`Interrupted` and SIGINT raises KeyboardInterrupt, so that temporary files are removed.

    Each signal interrupts once: its handler then ignores it, so that a repeat cannot cut the clean-up
    short or escape the command's own handling (once, under load, a second KeyboardInterrupt escaped
    after the first had been handled, and the process died of SIGINT).  A signal that fired stays
    ignored after the block: the command is ending.  SIGINT is left alone when it was ignored already
    (a background job of a non-interactive shell).
    """
    _PENDING.clear()

    def once(signum: int, frame: FrameType | None) -> None:
        signal.signal(signum, signal.SIG_IGN)
        _PENDING.append(signum)
        _raise_for(signum)

    signals = [signal.SIGTERM, signal.SIGHUP]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signals.append(signal.SIGINT)
    old = {sig: signal.signal(sig, once) for sig in signals}
    try:
        yield
        raise_if_interrupted()  # a signal whose exception was swallowed (see raise_if_interrupted)
    finally:
        for sig, handler in old.items():
            if sig not in _PENDING:
                signal.signal(sig, handler)
        _PENDING.clear()


#: signals :func:`handle_signals` caught while its block runs
_PENDING: list[int] = []


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Interrupted(signum)


def raise_if_interrupted() -> None:
    """Raise for a signal that arrived earlier, if one did.

    A signal handler's exception is lost when the signal lands while Python
    runs a callback that cannot raise (a weakref callback, ``__del__``, an
    import-lock clean-up: "Exception ignored in ..."); the run would then
    go on and write its output.  Outputs check here before they are renamed
    into place, and the command's block on its way out.
    """
    if _PENDING:
        _raise_for(_PENDING[0])


class WriteBack:
    """Disk writes of a file started while it is being written (``poke`` after each part): a thread flushes what
    is written so far whenever the last flush is done, so that the flush before the rename has only the last
    part left (a 0.85 GB event file: 0.5-1 s of waiting at the end otherwise, with both cores idle).  Errors here
    are left to that last flush to report."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="gammastar-writeback")
        self.pending: Future[None] | None = None

    def poke(self) -> None:
        if self.pending is None or self.pending.done():
            self.pending = self.pool.submit(_quiet_sync, self.fd)

    def __enter__(self) -> WriteBack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        os.close(self.fd)


def _quiet_sync(fd: int) -> None:
    with suppress(OSError):
        getattr(os, "fdatasync", os.fsync)(fd)  # the data, not the times (macOS has only fsync)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # some file systems do not open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; when the block succeeds, rename it to ``path``.

    The temporary file (``.NAME.XXXXXXXX.partial``) exists, empty, when the
    block starts; write it by name.  Write errors (a full disk, a file-size
    limit) become one-line :class:`GammastarError`; the temporary file is
    removed whatever happens.
    """
    path = Path(path)
    if path.is_dir():
        raise GammastarError(f"{path}: is a directory; give a file name")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=parent)
    except OSError as exc:
        raise GammastarError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        raise_if_interrupted()  # never put an output in place after a stop was asked for
        _fsync(tmp)
        os.chmod(tmp, _default_mode())
        inode = tmp.stat().st_ino
        os.replace(tmp, path)
        _fsync_dir(parent)
        if path.stat().st_ino != inode:
            raise GammastarError(f"{path} was replaced by another run writing the same file at the same time; "
                                 "its file is kept, this run's is not")
    except OSError as exc:
        raise GammastarError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file (JSON, CSV) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def deterministic_uuid(meta: dict[str, str]) -> uuid.UUID:
    """A UUID that depends only on a file's metadata (ROOT headers carry one): same request, same bytes."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "gammastar:" + json.dumps(meta, sort_keys=True))


def check_output(out: str | Path, *inputs: str | Path | None, directory: bool = False) -> None:
    """Refuse an output path that is one of ``inputs`` (or, for a file, an existing directory), before any work."""
    out = Path(out)
    if not directory and out.is_dir():
        raise GammastarError(f"{out}: is a directory; give a file name")
    if directory and out.exists() and not out.is_dir():
        raise GammastarError(f"{out}: exists and is not a directory")
    for inp in inputs:
        if inp is None:
            continue
        p = Path(inp)
        same = out.resolve() == p.resolve()
        if not same and out.exists() and p.exists():
            same = os.path.samefile(out, p)
        if same:
            raise GammastarError(f"{out} is also an input of this command; write the output elsewhere")
