"""ROOT: a TTree ``events`` with one branch per column (uproot); the metadata as TObjStrings."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import deterministic_uuid
from .base import Chunk, EventInfo, EventSink

__all__ = ["RootSink"]


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class RootSink(EventSink):
    format = "root"
    suffixes = (".root",)

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import uproot

        # through a file object, with a UUID from the metadata: no temporary name or random UUID in the header
        self.handle = open(path, "r+b")
        self.file = uproot.recreate(self.handle, uuid_function=lambda: deterministic_uuid(meta))
        for k, v in meta.items():
            # a TObjString holds UTF-8: a string from a non-UTF-8 file name is stored JSON-escaped
            self.file[k.replace(".", "_")] = v if v.isascii() or _utf8(v) else json.dumps(v)[1:-1]
        self.started = False

    def write(self, chunk: Chunk) -> None:
        if not self.started:  # mktree: a TTree (plain assignment would make an RNTuple)
            self.file.mktree("events", {k: v.dtype for k, v in chunk.items()})
            self.started = True
        self.file["events"].extend(chunk)

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.handle.close()
