"""The event writers as modules (no model needed): every registered format read back by the field's own readers."""

import json
import os
import time

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

pyhepmc = pytest.importorskip("pyhepmc")
pylhe = pytest.importorskip("pylhe")
uproot = pytest.importorskip("uproot")

from gammastar.errors import GammastarError  # noqa: E402
from gammastar.io.events import (  # noqa: E402
    APRIME_ID,
    CHI_ID,
    EVENT_FORMATS,
    FORMATS,
    EventInfo,
    EventStream,
    format_from_path,
    write_events,
)
from gammastar.physics.beams import Beam  # noqa: E402

M_MU = 0.1056583755
M_AP = 0.4
SIZES = (400, 400, 250)
P4 = ("px", "py", "pz", "e")


def _decays(n, rng):
    """A' of mass M_AP and its mu+ mu- daughters (back to back in the A' frame, then boosted), lab frame."""
    p = rng.normal(0, 1, (n, 3)) * [0.5, 0.5, 20.0]
    e = np.sqrt(np.sum(p**2, axis=1) + M_AP**2)
    k = np.sqrt(M_AP**2 / 4 - M_MU**2)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    beta = p / e[:, None]
    gamma = 1 / np.sqrt(1 - np.sum(beta**2, axis=1))

    def boost(q, eq):
        bq = np.sum(beta * q, axis=1)
        coef = (gamma - 1) * bq / np.sum(beta**2, axis=1) + gamma * eq
        return np.column_stack([q + coef[:, None] * beta, gamma * (eq + bq)])

    ed = np.full(n, M_AP / 2)
    return np.column_stack([p, e]), boost(k * d, ed), boost(-k * d, ed)


def _chunks(kind, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        a, lp, lm = _decays(n, rng)
        w = rng.uniform(0.5, 1.5, n) * 1e-9
        if kind == "aprime":
            out.append({**dict(zip(P4, a.T, strict=True)), **{f"{c}_pos": lp[:, i] for i, c in enumerate(P4)},
                        **{f"{c}_neg": lm[:, i] for i, c in enumerate(P4)}, "weight": w})
        else:
            out.append({**{f"{c}_pos": lp[:, i] for i, c in enumerate(P4)},
                        **{f"{c}_neg": lm[:, i] for i, c in enumerate(P4)}, "weight": w})
    return out


def _stream(kind):
    chunks = _chunks(kind)
    info = EventInfo(kind, M_AP if kind == "aprime" else M_MU, "mu", Beam.fixed_target(400.0))
    return EventStream(info, sum(SIZES), chunks, {"kind": kind, "mass": M_AP, "n_events": sum(SIZES),
                                                  "expected_yield": float(sum(c["weight"].sum() for c in chunks))})


def _all(chunks, col):
    return np.concatenate([c[col] for c in chunks])


def test_registry():
    assert FORMATS == ("parquet", "csv", "root", "hepmc3", "lhe")
    assert [format_from_path(f"x{s}") for s in (".parquet", ".pq", ".csv", ".root", ".hepmc", ".hepmc3", ".lhe")] == \
        ["parquet", "parquet", "csv", "root", "hepmc3", "hepmc3", "lhe"]
    assert format_from_path("x.dat", "lhe") == "lhe"
    with pytest.raises(GammastarError, match="cannot tell the format from '.dat'"):
        format_from_path("x.dat")
    with pytest.raises(GammastarError, match="unknown format 'hepmc2'; choose from parquet, csv, root, hepmc3, lhe"):
        format_from_path("x.hepmc", "hepmc2")
    assert all(f.suffixes for f in EVENT_FORMATS)


@pytest.mark.parametrize("name", ["a.parquet", "a.csv", "a.root"])
def test_columnar_formats_hold_every_column(tmp_path, name):
    events = _stream("aprime")
    ref = _chunks("aprime")
    seen = []
    path = write_events(tmp_path / "new" / name, events, progress=False, observe=seen.append)
    # the observer saw every chunk, in order, as written
    assert tuple(len(c["weight"]) for c in seen) == SIZES
    np.testing.assert_array_equal(_all(seen, "px"), _all(ref, "px"))
    if name.endswith(".parquet"):
        t = pq.read_table(path)
        cols = t.to_pydict()
        assert not any(f.nullable for f in t.schema)  # no column has missing values, and the file says so
        assert t.schema.metadata[b"gammastar.mass"] == b"0.4" and t.schema.metadata[b"gammastar.kind"] == b"aprime"
    elif name.endswith(".csv"):
        cols = pacsv.read_csv(path).to_pydict()
    else:
        f = uproot.open(path)
        cols = f["events"].arrays(library="np")
        assert str(f["gammastar_kind"]) == "aprime" and json.loads(str(f["gammastar_n_events"])) == sum(SIZES)
    assert list(cols) == list(ref[0])
    for c in ref[0]:
        np.testing.assert_array_equal(np.asarray(cols[c]), _all(ref, c))


def test_hepmc3_events(tmp_path):
    ref = _chunks("aprime")
    path = write_events(tmp_path / "a.hepmc", _stream("aprime"), progress=False)
    with pyhepmc.open(str(path)) as f:
        events = list(f)
    assert len(events) == sum(SIZES)
    a_ref = np.column_stack([_all(ref, c) for c in P4])
    for i in (0, 401, sum(SIZES) - 1):
        ev = events[i]
        ap = [p for p in ev.particles if p.pid == APRIME_ID][0]
        assert ap.status == 2 and ap.generated_mass == pytest.approx(M_AP)
        np.testing.assert_allclose(list(ap.momentum), a_ref[i], rtol=1e-12)
        kids = sorted(ap.end_vertex.particles_out, key=lambda p: p.pid)
        assert [p.pid for p in kids] == [-13, 13] and [p.status for p in kids] == [1, 1]
        np.testing.assert_allclose(list(kids[0].momentum), [_all(ref, f"{c}_pos")[i] for c in P4], rtol=1e-12)
        beams = [p for p in ev.particles if p.pid == 2212]
        assert [p.status for p in beams] == [4, 4] and beams[0].momentum.e == pytest.approx(400.0)
        assert ev.weight() == pytest.approx(_all(ref, "weight")[i], rel=1e-12)
    assert events[0].run_info.tools[0].name == "gammastar"


def test_lhe_events(tmp_path):
    ref = _chunks("mcp")
    path = write_events(tmp_path / "c.lhe", _stream("mcp"), progress=False)
    text = path.read_text()
    meta = json.loads(text.split("<!-- gammastar ", 1)[1].split(" -->", 1)[0])
    assert meta["gammastar.kind"] == "mcp" and float(meta["gammastar.expected_yield"]) > 0
    events = list(pylhe.LHEFile.fromfile(str(path)).events)
    assert len(events) == sum(SIZES)
    chi = np.column_stack([_all(ref, f"{c}_pos") for c in P4])
    for i, ev in enumerate(events):
        out = {p.id: p for p in ev.particles if p.status == 1}
        assert set(out) == {CHI_ID, -CHI_ID} and [p.status for p in ev.particles[:2]] == [-1, -1]
        np.testing.assert_allclose([out[CHI_ID].px, out[CHI_ID].py, out[CHI_ID].pz, out[CHI_ID].e], chi[i], rtol=1e-14)
    assert sum(ev.eventinfo.weight for ev in events) == pytest.approx(float(meta["gammastar.expected_yield"]), rel=1e-12)


@pytest.mark.parametrize("name", ["f.parquet", "f.csv", "f.root", "f.hepmc", "f.lhe"])
def test_a_failure_mid_stream_leaves_nothing(tmp_path, name):
    chunks = _chunks("aprime")

    def failing():
        yield chunks[0]
        raise RuntimeError("the generator broke")

    events = EventStream(EventInfo("aprime", M_AP), sum(SIZES), failing(), {})
    with pytest.raises(RuntimeError, match="the generator broke"):
        write_events(tmp_path / name, events, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_the_disk_writes_start_while_the_file_grows(tmp_path, monkeypatch):
    """WriteBack flushes what is written so far in a thread of its own, one flush at a time (a poke while one runs
    starts none), and lets go of its descriptor at the end."""
    import threading

    from gammastar.io.atomic import WriteBack

    calls, release = [], threading.Event()

    def slow_sync(fd):
        calls.append(fd)
        release.wait(5)

    monkeypatch.setattr(os, "fdatasync" if hasattr(os, "fdatasync") else "fsync", slow_sync)
    path = tmp_path / "growing.bin"
    path.write_bytes(b"x" * 4096)
    with WriteBack(path) as disk:
        for _ in range(5):
            disk.poke()  # the first starts a flush; the others find it running
        time.sleep(0.05)
        assert len(calls) == 1
        release.set()
        disk.pending.result(timeout=5)
        disk.poke()  # the last is done: a new one starts
        disk.pending.result(timeout=5)
        assert len(calls) == 2
    with pytest.raises(OSError):
        os.fstat(calls[0])  # closed
