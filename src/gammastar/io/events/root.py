"""ROOT: a TTree ``events`` with one branch per column (uproot); the metadata as TObjStrings."""

from __future__ import annotations

from pathlib import Path

from .base import Chunk, EventInfo, EventSink

__all__ = ["RootSink"]


class RootSink(EventSink):
    format = "root"
    suffixes = (".root",)

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import uproot

        self.file = uproot.recreate(path)
        for k, v in meta.items():
            self.file[k.replace(".", "_")] = v
        self.started = False

    def write(self, chunk: Chunk) -> None:
        if not self.started:  # mktree: a TTree (plain assignment would make an RNTuple)
            self.file.mktree("events", {k: v.dtype for k, v in chunk.items()})
            self.started = True
        self.file["events"].extend(chunk)

    def close(self) -> None:
        self.file.close()
