"""Nothing lost, nothing corrupt, never a traceback: the fault classes of issue 9, each as it was found.

Every failure is one line ``error: ...`` with exit status 2, leaves nothing at the output path and no
temporary file; signals stop a run cleanly; files written twice with one seed are the same bytes.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("zuko")

import gammastar  # noqa: E402
from gammastar.cli import main  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.io.events import EventInfo, EventStream, write_events  # noqa: E402
from gammastar.io.pairs import PAIR_COLUMNS  # noqa: E402

FORMATS = ["parquet", "csv", "root", "hepmc", "lhe"]


@pytest.fixture(scope="module")
def files(tiny_model, tiny_data, tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    model = tiny_model.save(d / "model.pt")
    data = gammastar.write_dileptons(d / "d.parquet", tiny_data)
    return {"dir": d, "model": model, "data": data}


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".partial"))


def assert_one_line_error(rc, err, *fragments):
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2 and "Traceback" not in err, err
    assert lines and lines[-1].startswith("error: ") and sum(line.startswith("error:") for line in lines) == 1, err
    for f in fragments:
        assert f in lines[-1], lines[-1]


def _gammastar(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "gammastar", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _stream(n=50_000, seed=1):
    rng = np.random.default_rng(seed)
    ch = {c: rng.normal(size=n) for c in ("px", "py", "pz")}
    ch["e"] = np.sqrt(ch["px"] ** 2 + ch["py"] ** 2 + ch["pz"] ** 2 + 0.16)
    ch["weight"] = np.full(n, 1e-3)
    return EventStream(EventInfo("aprime", 0.4), n, [ch], {"kind": "aprime", "seed": seed})


# ------------------------------------------------------------------ 1. concurrent writers


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_concurrent_writers_never_mix(files, tmp_path, fmt):
    """Two runs, one path, different seeds: each leaves its own complete file or fails clearly."""
    out = tmp_path / f"cc.{fmt}"
    n = 400_000
    procs = []
    for seed in (1, 2):
        procs.append(_gammastar("generate", "aprime", "--model", files["model"], "--mass", "0.4", "--n", n,
                                "--seed", seed, "--out", out))
        time.sleep(0.3)
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert all(rc in (0, 2) and "Traceback" not in err for rc, err in results), results
    assert any(rc == 0 for rc, _ in results)
    if fmt == "parquet":  # complete, and one run's own (its seed is in the metadata)
        t = pq.read_table(out)
        seed = int(t.schema.metadata[b"gammastar.seed"])
        winners = [s for s, (rc, _) in zip((1, 2), results, strict=True) if rc == 0]
        assert t.num_rows == n and (seed in winners if len(winners) == 1 else seed in (1, 2))
    else:  # complete: a header and n rows pyarrow reads
        import pyarrow.csv as pacsv

        assert pacsv.read_csv(out).num_rows == n
    assert _leftovers(tmp_path) == []


# ------------------------------------------------------------------ 2. write errors: file-size limit, full disk


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=[] if f == "hepmc" else pytest.mark.slow) for f in FORMATS])
def test_file_size_limit_is_an_error(files, tmp_path, fmt):
    """ulimit -f: every writer reports it (HepMC3's C++ stream, once silent, included), and leaves nothing."""
    out = tmp_path / f"big.{fmt}"
    cmd = (f"ulimit -f 200; exec {sys.executable} -m gammastar generate aprime --model {files['model']} "
           f"--mass 0.4 --n 2e4 --out {out}")  # 2e4 events are far beyond 200 kB in every format
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300)
    assert_one_line_error(proc.returncode, proc.stderr, "cannot write")
    assert not out.exists() and _leftovers(tmp_path) == []


@pytest.fixture
def full_disk(tmp_path):
    """A 256 kB tmpfs where the machine allows mounting one; skipped otherwise (ulimit covers the case)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                                                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here; the file-size-limit test covers write errors")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_full_disk_leaves_nothing(full_disk, fmt):
    with pytest.raises(GammastarError, match="cannot write"):
        write_events(full_disk / f"x.{fmt}", _stream(), progress=False)
    assert os.listdir(full_disk) == []


def test_full_disk_for_models_pairs_and_truth(full_disk, tiny_model, tiny_data):
    with pytest.raises(GammastarError, match="cannot write"):
        tiny_model.save(full_disk / "m.pt")
    big = gammastar.EventSample(np.tile(tiny_data.pos, (4, 1)), np.tile(tiny_data.neg, (4, 1)), np.ones(4 * len(tiny_data)),
                                "mu", 1.0)
    with pytest.raises(GammastarError, match="cannot write"):
        gammastar.write_dileptons(full_disk / "p.parquet", big)
    from gammastar.truth.mock import save_mock

    small = gammastar.EventSample(tiny_data.pos[:10], tiny_data.neg[:10], np.ones(10), "mu", 1.0)
    for sample, truth in ((small, {"x": "y" * 400_000}), (big, {"x": "y"})):  # the truth, then the pairs, too big
        with pytest.raises(GammastarError, match="cannot write"):
            save_mock(full_disk / "m.parquet", sample, np.zeros(len(sample), dtype=np.int8), truth)
        assert os.listdir(full_disk) == []


def test_the_cli_checks_the_disk_before_any_work(files, tmp_path, run, monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(shutil, "disk_usage", lambda p: SimpleNamespace(total=10**9, used=10**9 - 10**6, free=10**6))
    rc, _, err = run("generate", "aprime", "--model", files["model"], "--mass", "0.4", "--n", "1e6",
                     "--out", tmp_path / "a.hepmc")
    assert_one_line_error(rc, err, "needs about", "GB free")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ 3. outputs that are inputs, directories


def test_outputs_that_are_inputs_are_refused(files, tmp_path, run):
    model, data = files["model"], files["data"]
    before = model.read_bytes(), data.read_bytes()
    cases = [
        ("generate", "aprime", "--model", model, "--mass", "0.4", "--n", "10", "--out", model, "--format", "parquet"),
        ("train", "--data", data, "--out", data, "--epochs", "1"),
        ("validate", "--model", model, "--data", data, "--out", model),
        ("generate", "aprime", "--model", model, "--mass", "0.4", "--n", "10", "--out", tmp_path),
        ("mock", "--n-events", "10", "--out", tmp_path),
    ]
    for args in cases:
        rc, _, err = run(*args)
        assert_one_line_error(rc, err)
    assert (model.read_bytes(), data.read_bytes()) == before


# ------------------------------------------------------------------ 4. model files


def _members(path):
    """(head, members) of a model file."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("gammastar.json")), {n: z.read(n) for n in z.namelist() if n != "gammastar.json"}


def _write_members(head, members, path, checksum=True):
    """A version-3 model file from its parts, with valid checksums unless told otherwise (then the head's
    checksums are those of the file the head came from)."""
    import hashlib
    import zipfile

    head = dict(head)
    if checksum:
        head["meta_sha256"] = hashlib.sha256(head["meta"].encode()).hexdigest()
        head["members"] = {n: {"size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in members.items()}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("gammastar.json", json.dumps(head))
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _v2_parts(model):
    """The head and members of ``model`` as a version-2 file had them: pairs in log pT, no physical cell edges."""
    head, members = _members(model)
    meta = json.loads(head["meta"])
    meta["pair_features"][0] = "log_pt"
    del meta["norm"]["pt_scale"]
    head["meta"] = json.dumps(meta)
    return head, {n: b for n, b in members.items() if n not in ("density/log_pt_edges.npy", "density/y_edges.npy")}


def _write_v2(head, members, path):
    """A version-2 model file (one checksum over every member) from its parts."""
    import zipfile

    from gammastar.flow.modelfile import _members_digest

    head = {"format": head["format"], "version": 2, "meta": head["meta"], "sha256": _members_digest(head["meta"], members)}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("gammastar.json", json.dumps(head))
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _npy(a):
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _v1_blob(files):
    """The model as a version-1 file held it: one torch.save dictionary."""
    import io

    head, members = _members(files["model"])
    spectrum = {n[9:-4]: torch.as_tensor(np.load(io.BytesIO(b))) for n, b in members.items() if n.startswith("spectrum/")}
    return {"format": "gammastar-model", "version": 1, "meta": head["meta"],
            "state": torch.load(io.BytesIO(members["flow.pt"]), weights_only=True), "spectrum": spectrum}


def _save_v1(blob, path, checksum=True):
    from gammastar.flow.modelfile import _digest

    blob = dict(blob)
    if checksum:
        blob["sha256"] = _digest(blob)
    torch.save(blob, path)
    return path


def test_a_flipped_bit_is_caught(files, tmp_path):
    head, members = _members(files["model"])
    w = bytearray(members["spectrum/w.npy"])
    w[len(w) // 2] ^= 1 << 6  # one bit in one bin (the 2.9e75 of the issue), CRC made afresh by zipfile
    _write_members(head, {**members, "spectrum/w.npy": bytes(w)}, tmp_path / "flip.pt", checksum=False)
    with pytest.raises(GammastarError, match="checksum does not match"):
        gammastar.load_model(tmp_path / "flip.pt")
    from gammastar.flow.modelfile import _digest

    v1 = _v1_blob(files)  # and a version-1 file, flipped after its checksum was taken
    v1["sha256"] = _digest(v1)
    flipped = v1["spectrum"]["w"].clone()
    flipped.view(torch.int64)[len(flipped) // 2] ^= 1 << 62
    torch.save({**v1, "spectrum": {**v1["spectrum"], "w": flipped}}, tmp_path / "flip1.pt")
    with pytest.raises(GammastarError, match="checksum does not match"):
        gammastar.load_model(tmp_path / "flip1.pt")


@pytest.mark.parametrize("damage,fragment", [
    ("nan_weights", "non-finite network weights"),
    ("n_collisions", "n_collisions must be positive"),
    ("lepton", "lepton 'tau' is neither e nor mu"),
    ("short_spectrum", "inconsistent sizes"),
    ("density", "pair-density table is not consistent"),
])
def test_crafted_models_are_refused_even_with_a_valid_checksum(files, tmp_path, damage, fragment):
    import io

    head, members = _members(files["model"])
    meta = json.loads(head["meta"])
    if damage == "nan_weights":
        state = torch.load(io.BytesIO(members["flow.pt"]), weights_only=True)
        key = next(k for k, v in state.items() if v.is_floating_point())
        state[key] = torch.full_like(state[key], float("nan"))
        buf = io.BytesIO()
        torch.save(state, buf)
        members["flow.pt"] = buf.getvalue()
    elif damage == "n_collisions":
        meta["n_collisions"] = -1.0
    elif damage == "lepton":
        meta["lepton"] = "tau"
    elif damage == "short_spectrum":
        members["spectrum/w.npy"] = _npy(np.load(io.BytesIO(members["spectrum/w.npy"]))[:-3])
    else:
        members["density/prob.npy"] = _npy(-np.load(io.BytesIO(members["density/prob.npy"])))
    head["meta"] = json.dumps(meta)
    path = _write_members(head, members, tmp_path / "crafted.pt")
    with pytest.raises(GammastarError, match=f"damaged gammastar model.*{fragment}"):
        model = gammastar.load_model(path)
        _ = model.flow.pair  # the weights are read (and checked) when a network is first needed


def test_a_version_2_model_still_loads_and_generates(files, tmp_path, run):
    """Files from before the pT probit: pairs in log pT, one checksum over every member, no physical cell edges."""
    import io

    head, members = _v2_parts(files["model"])
    path = _write_v2(head, members, tmp_path / "v2.pt")
    model = gammastar.load_model(path)
    assert model.flow.pair_features == ["log_pt", "y"] and model.flow.pt_scale is None
    rc, _, err = run("generate", "aprime", "--model", path, "--mass", "0.4", "--n", "2000", "--out", tmp_path / "a.parquet")
    assert rc == 0, err
    t = pq.read_table(tmp_path / "a.parquet")
    log_pt = np.log(np.hypot(t.column("px").to_numpy(), t.column("py").to_numpy()))
    z = (log_pt - model.flow.norm["pair_mean"][0]) / model.flow.norm["pair_std"][0]  # pairs in log pT, as then
    ex = np.load(io.BytesIO(members["density/ex.npy"]))
    assert z.min() >= ex[0] - 1e-9 and z.max() <= ex[-1] + 1e-9
    # its kinematics are in log pT: replicas (fitted in the probit) cannot be added to it
    rc, _, err = run("train", "--data", files["data"], "--from-model", path, "--replicas", "2", "--out", tmp_path / "r.pt")
    assert rc == 2 and "trained by an older gammastar" in err and "\n" not in err.strip()


@pytest.mark.parametrize("damage,fragment", [
    ("undeclared", "member 'extra.npy' is not declared"),
    ("foreign", "member 'notes.txt' is not in the format"),
    ("larger", "member 'spectrum/w.npy' is"),
])
def test_members_are_checked_before_they_are_read(files, tmp_path, damage, fragment):
    """Member names and sizes are facts to check first: a member that is not in the format, or larger than its
    head declares, is refused before it is inflated."""
    import hashlib

    head, members = _members(files["model"])
    if damage == "undeclared":
        path = _write_members(head, {**members, "extra.npy": b"x" * 100}, tmp_path / "m.pt", checksum=False)
    elif damage == "foreign":
        path = _write_members(head, {**members, "notes.txt": b"hello"}, tmp_path / "m.pt")
    else:
        head = {**head, "members": {**head["members"], "spectrum/w.npy": {
            "size": 100, "sha256": hashlib.sha256(members["spectrum/w.npy"][:100]).hexdigest()}}}
        path = _write_members(head, members, tmp_path / "m.pt", checksum=False)
    with pytest.raises(GammastarError, match=f"damaged gammastar model.*{fragment}"):
        gammastar.load_model(path)


def test_a_version_1_model_still_loads_and_generates(files, tmp_path, run):
    """Files from before the zip container: one torch.save dictionary, its table made when first needed."""
    old = _save_v1(_v1_blob(files), tmp_path / "v1.pt")
    model = gammastar.load_model(old)
    assert model.lepton == "mu" and model.density is None
    new = gammastar.load_model(files["model"])
    # the same table as the one stored at training
    np.testing.assert_allclose(model.pair_density().prob, new.density.prob, rtol=1e-5, atol=1e-9)
    rc, _, err = run("generate", "aprime", "--model", old, "--mass", "0.4", "--n", "100", "--out", tmp_path / "a.parquet")
    assert rc == 0, err


def test_a_model_without_checksum_still_loads_with_a_warning(files, tmp_path, run):
    old = _save_v1(_v1_blob(files), tmp_path / "old.pt", checksum=False)
    with pytest.warns(UserWarning, match="carried a checksum"):
        model = gammastar.load_model(old)
    assert model.lepton == "mu"
    rc, _, err = run("generate", "aprime", "--model", old, "--mass", "0.4", "--n", "100", "--out", tmp_path / "a.parquet")
    assert rc == 0 and sum(line.startswith("warning:") for line in err.splitlines()) == 1


def test_generating_from_the_table_imports_no_torch(files, tmp_path):
    """A' events from a stored table need numpy only: the command never imports torch (the time it costs)."""
    code = ("import sys; from gammastar.cli import main; "
            f"rc = main(['generate', 'aprime', '--model', {str(files['model'])!r}, '--mass', '0.4', '--n', '1000', "
            f"'--out', {str(tmp_path / 'a.parquet')!r}]); print(rc, 'torch' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "False", "False"]


def test_unsafe_pickles_are_refused_without_advice_to_load_them(tmp_path):
    torch.save({"format": "gammastar-model", "payload": Path("x")}, tmp_path / "pickle.pt")
    with pytest.raises(GammastarError) as exc:
        gammastar.load_model(tmp_path / "pickle.pt")
    assert "not a readable gammastar model" in str(exc.value) and "weights_only" not in str(exc.value)


# ------------------------------------------------------------------ 5. headers round-trip any string


@pytest.mark.parametrize("name", ['we--ird-->dir "q" \u00fcn\u00ef \u2603 <!-- ]]> &amp;', os.fsdecode(b"not-utf8-\xff\xfe")])
def test_any_path_round_trips_through_every_header(files, tmp_path, name):
    weird = tmp_path / name
    weird.mkdir()
    model = weird / "m--x.pt"
    shutil.copy(files["model"], model)
    for fmt in FORMATS:
        out = tmp_path / f"w.{fmt}"
        assert main(["generate", "aprime", "--model", str(model), "--mass", "0.4", "--n", "50", "--out", str(out)]) == 0
    stored = pq.read_schema(tmp_path / "w.parquet").metadata[b"gammastar.model"]
    assert stored.decode(errors="surrogateescape") == str(model)
    import uproot

    in_root = str(uproot.open(tmp_path / "w.root")["gammastar_model"])
    assert in_root == str(model) or json.loads(f'"{in_root}"') == str(model)  # JSON-escaped where not UTF-8
    text = (tmp_path / "w.lhe").read_text()
    comment = text.split("<!-- gammastar ", 1)[1].split(" -->", 1)[0]
    assert "--" not in comment and json.loads(comment)["gammastar.model"] == str(model)
    import pylhe

    assert len(list(pylhe.LHEFile.fromfile(str(tmp_path / "w.lhe")).events)) == 50


# ------------------------------------------------------------------ 6. symlinks and leftovers


def test_a_symlink_at_the_old_temp_name_is_not_followed(files, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for fmt in FORMATS:
        (tmp_path / f".sym.{fmt}.partial").symlink_to(victim)
        assert main(["generate", "aprime", "--model", str(files["model"]), "--mass", "0.4", "--n", "20",
                     "--out", str(tmp_path / f"sym.{fmt}")]) == 0
    assert victim.read_text() == "precious"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("fmt", FORMATS)
def test_signals_clean_up(files, tmp_path, fmt, sig):
    if sig == signal.SIGINT and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # children inherit the ignored SIGINT of a background job, and gammastar rightly leaves it ignored
        pytest.skip("SIGINT is ignored in this process (run in the background)")
    out = tmp_path / f"t.{fmt}"
    proc = _gammastar("generate", "aprime", "--model", files["model"], "--mass", "0.4", "--n", "5e6", "--out", out)
    deadline = time.time() + 120
    while not _leftovers(tmp_path) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert _leftovers(tmp_path), proc.stderr.read() if proc.poll() is not None else "no temporary file appeared"
    time.sleep(0.3)
    proc.send_signal(sig)
    rc = proc.wait(timeout=60)
    err = proc.stderr.read()
    assert rc == 128 + sig and "interrupted" in err and "Traceback" not in err, err
    assert not out.exists() and _leftovers(tmp_path) == []


def test_a_swallowed_signal_still_stops_the_output(tmp_path):
    """A SIGTERM landing in a callback that cannot raise (once seen: an import-lock clean-up printed "Exception
    ignored in ..." and the run went on, wrote its file and exited 0) still stops the output and the run."""
    from gammastar.io.atomic import Interrupted, atomic_path, handle_signals

    out = tmp_path / "x.txt"
    before = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(Interrupted), handle_signals():
            handler = signal.getsignal(signal.SIGTERM)
            try:
                handler(signal.SIGTERM, None)  # what the interpreter does at the signal ...
            except Interrupted:
                pass  # ... and what a callback's context does with the exception
            with atomic_path(out) as tmp:
                tmp.write_text("written after the signal")
    finally:
        signal.signal(signal.SIGTERM, before)  # the handler leaves a fired signal ignored: not in pytest's process
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with atomic_path(out) as tmp:  # the next run is not stopped by the old signal
        tmp.write_text("ok")
    assert out.read_text() == "ok"


# ------------------------------------------------------------------ 8, 9. arguments and inputs: one line each


@pytest.mark.parametrize("args,fragment", [
    (["rates", "aprime", "--data", "{data}", "--mass", "0.3", "--plot", "{tmp}/out.txt"], "extensions"),
    (["rates", "aprime", "--data", "{data}", "--mass", "0.3:0.9:1e-12"], "at most 1e+06"),
    (["rates", "aprime", "--data", "{data}", "--mass", "0.3:nan:0.1"], "must be finite"),
    (["rates", "aprime", "--data", "{data}", "--mass", "0.3:inf:0.1"], "must be finite"),
    (["rates", "aprime", "--data", "{data}", "--mass", "0.3", "--json", "--n-collisions", "1e-320"], "too small"),
    (["mock", "--seed=-1", "--n-events", "10", "--out", "{tmp}/m.parquet"], "--seed"),
    (["mock", "--n-events", "1e12", "--out", "{tmp}/m.parquet"], "above the maximum"),
    (["mock", "--n-events", "10", "--out", "{tmp}/m.txt"], "unknown file type"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--seed=-1"], "--seed"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--learning-rate", "nan"], "--learning-rate"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--learning-rate", "-1"], "--learning-rate"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--transforms", "0"], "--transforms"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--hidden", "0"], "at least 1"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--hidden", "-4"], "at least 1"),
    (["train", "--data", "{data}", "--out", "{tmp}/m.pt", "--beam-energy=-400"], "--beam-energy"),
    (["generate", "aprime", "--model", "{model}", "--mass", "0.4", "--n", "10", "--out", "{tmp}/g.parquet", "--seed=-1"],
     "--seed"),
    (["generate", "aprime", "--model", "{model}", "--mass", "0.4", "--n", "10", "--out", "{tmp}/g.parquet",
      "--eps", "1e200"], "--eps"),
    (["generate", "aprime", "--model", "{model}", "--mass", "0.4", "--n", "1e12", "--out", "{tmp}/g.parquet"], "maximum"),
    (["generate", "aprime", "--model", "{model}", "--mass", "nan", "--n", "10", "--out", "{tmp}/g.parquet"], "--mass"),
])
def test_bad_arguments_are_one_line_before_any_work(files, tmp_path, run, args, fragment):
    subst = {"data": str(files["data"]), "model": str(files["model"]), "tmp": str(tmp_path)}
    rc, out, err = run(*[a.format(**subst) for a in args])
    assert_one_line_error(rc, err, fragment)
    assert out == "" and os.listdir(tmp_path) == []


def _pairs(n=500, seed=3):
    rng = np.random.default_rng(seed)
    cols = {}
    for side in ("pos", "neg"):
        p = rng.normal(size=(n, 3))
        cols.update({f"px_{side}": p[:, 0], f"py_{side}": p[:, 1], f"pz_{side}": p[:, 2] * 3,
                     f"e_{side}": np.sqrt(np.sum(p**2, axis=1) + 8 * p[:, 2] ** 2 + 0.1056583755**2)})
    return {c: cols[c] for c in PAIR_COLUMNS}


def test_bad_inputs_are_one_line(tmp_path, run):
    cols = _pairs()
    header = ",".join(["px_pos", *PAIR_COLUMNS]) + "\n"
    (tmp_path / "dup.csv").write_text(header + "\n".join(",".join(["1"] * 9) for _ in range(3)) + "\n")
    dup = pa.table([pa.array(cols["px_pos"]), *(pa.array(cols[c]) for c in PAIR_COLUMNS)], names=["px_pos", *PAIR_COLUMNS])
    pq.write_table(dup, tmp_path / "dup.parquet")
    huge = dict(cols)
    huge["pz_pos"] = huge["pz_pos"].copy()
    huge["pz_pos"][7] = 1e300
    pq.write_table(pa.table(huge), tmp_path / "huge.parquet")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip archive" * 20)
    (tmp_path / "t1.yaml").write_text("independent_variables:\n- values: [{low: 0.3, high: 0.31}]\n"
                                      "dependent_variables:\n- values: [{value: 1.0, errors: [5]}]\n")
    (tmp_path / "t2.yaml").write_text("independent_variables:\n- values: [{low: 0.3, high: 0.31}]\n"
                                      "dependent_variables:\n- values: [{value: 1.0, errors: [{asymerror: 5}]}]\n")
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table(cols), good)
    cases = [
        (["--data", tmp_path / "dup.csv"], "more than once"),
        (["--data", tmp_path / "dup.parquet"], "more than once"),
        (["--data", tmp_path / "huge.parquet"], "above 1e+08 GeV"),
        (["--data", good, "--acceptance", tmp_path / "bad.npz"], "cannot read as .npz"),
        (["--spectrum", tmp_path / "t1.yaml", "--lepton", "mu"], "neither symerror nor asymerror"),
        (["--spectrum", tmp_path / "t2.yaml", "--lepton", "mu"], "asymerror without plus and minus"),
    ]
    for extra, fragment in cases:
        rc, _, err = run("rates", "aprime", "--mass", "0.3", *extra)
        assert_one_line_error(rc, err, fragment)


def test_a_damaged_root_file_is_one_line(tmp_path, run, tiny_data):
    path = gammastar.write_dileptons(tmp_path / "p.root", tiny_data)
    b = bytearray(path.read_bytes())
    for i in range(400, len(b) - 400, 997):
        b[i] ^= 0xFF
    path.write_bytes(bytes(b))
    rc, _, err = run("rates", "aprime", "--data", path, "--mass", "0.3")
    assert_one_line_error(rc, err, str(path))


def test_directory_members_are_checked_like_single_files(tmp_path, run):
    good = _pairs()
    for name, change in [("text", lambda c: {**c, "px_pos": np.array(["abc"] * len(c["px_pos"]))}),
                         ("empty", lambda c: {k: v[:0] for k, v in c.items()})]:
        d = tmp_path / name
        d.mkdir()
        pq.write_table(pa.table(good), d / "a.parquet")
        bad = pa.table(change(good))
        import pyarrow.csv as pacsv

        pacsv.write_csv(bad, d / "b.csv")
        rc_dir, _, err_dir = run("rates", "aprime", "--data", d, "--mass", "0.3", "--n-collisions", "1")
        rc_one, _, err_one = run("rates", "aprime", "--data", d / "b.csv", "--mass", "0.3")
        assert_one_line_error(rc_dir, err_dir)
        assert_one_line_error(rc_one, err_one)
        assert err_dir.splitlines()[-1] == err_one.splitlines()[-1], (err_dir, err_one)


def _strict(text):
    def refuse(c):
        raise ValueError(f"non-JSON constant {c}")

    return json.loads(text, parse_constant=refuse)


def test_json_outputs_are_strict(tmp_path, run):
    assert main(["mock", "--n-events", "3e4", "--seed", "2", "--out", str(tmp_path / "m.parquet")]) == 0
    truth = _strict((tmp_path / "m.parquet.truth.json").read_text())
    assert truth["sources"]["continuum"]["multiplicity"] is None and "no parent meson" in truth["sources"]["continuum"]["note"]
    _strict(pq.read_schema(tmp_path / "m.parquet").metadata[b"gammastar.truth"].decode())
    for cmd in (["rates", "aprime", "--mass", "0.3,0.5"], ["rates", "mcp", "--mchi", "0.05,0.2"],
                ["rates", "photon", "--mass", "0.3"]):
        rc, out, _ = run(*cmd, "--data", tmp_path / "m.parquet", "--json")
        assert rc == 0 and _strict(out)


def test_an_error_after_a_progress_bar_starts_a_line(tmp_path, capsys):
    from tqdm import tqdm

    bar = tqdm(total=10, file=sys.stderr, delay=0, mininterval=0)
    bar.update(3)  # drawn with a carriage return, no newline: as a bar is when an error stops the work
    rc = main(["rates", "aprime", "--data", str(tmp_path / "none.parquet"), "--mass", "0.3"])
    err = capsys.readouterr().err
    assert rc == 2 and "\nerror: " in err and bar not in getattr(tqdm, "_instances", set())


# ------------------------------------------------------------------ 7. same seed, same bytes


def test_same_seed_same_bytes_in_every_format(files, tmp_path, monkeypatch):
    """ROOT headers carry the time of writing (TDatime); with the clock fixed, every byte is equal."""
    import datetime

    import uproot.writing._cascade as cascade
    import uproot.writing._cascadetree as cascadetree
    import uproot.writing.writable as writable

    class Fixed(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 1, 2, 3, 4, 5)

    for mod in (cascade, cascadetree, writable):
        monkeypatch.setattr(mod.datetime, "datetime", Fixed)
    for fmt in FORMATS:
        outs = []
        for k in range(2):
            out = tmp_path / f"s{k}.{fmt}"
            assert main(["generate", "aprime", "--model", str(files["model"]), "--mass", "0.4", "--n", "300",
                         "--seed", "5", "--decay", "--out", str(out)]) == 0
            outs.append(out.read_bytes())
        assert outs[0] == outs[1], fmt
    for k in range(2):
        assert main(["mock", "--n-events", "2000", "--seed", "3", "--out", str(tmp_path / f"p{k}.root")]) == 0
    assert (tmp_path / "p0.root").read_bytes() == (tmp_path / "p1.root").read_bytes()


def test_validate_on_a_damaged_model_leaves_no_directory(files, tmp_path, run):
    """The flow of a model file is read only when first sampled: a member damaged there fails the run after the
    model loaded, and the output directory must not be left behind, empty."""
    import zipfile

    data = bytearray(Path(files["model"]).read_bytes())
    info = zipfile.ZipFile(files["model"]).getinfo("flow.pt")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF  # inside flow.pt's bytes: the zip's CRC no longer matches
    (tmp_path / "damaged.pt").write_bytes(bytes(data))
    rc, _, err = run("validate", "--model", tmp_path / "damaged.pt", "--data", files["data"], "--out", tmp_path / "v")
    assert_one_line_error(rc, err, "damaged")
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize("damage,fragment", [("foreign", "'notes.txt' is not in the format"),
                                             ("larger", "more than a version-2 model holds")])
def test_version_2_members_are_checked_before_they_are_read(files, tmp_path, monkeypatch, damage, fragment):
    """A version-2 head declares no sizes: members outside the format, or larger than the format allows, are
    refused from the zip directory before anything is inflated (the limit is lowered here, not a GiB written)."""
    import gammastar.flow.modelfile as modelfile

    head, members = _v2_parts(files["model"])
    if damage == "foreign":
        members["notes.txt"] = b"hello"
    else:
        monkeypatch.setattr(modelfile, "_V2_MEMBER_MAX", len(members["density/prob.npy"]) - 1)
    path = _write_v2(head, members, tmp_path / "v2.pt")
    read, original = [], zipfile.ZipFile.read

    def reading(self, name, pwd=None):
        read.append(name)
        return original(self, name, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "read", reading)
    with pytest.raises(GammastarError, match=f"damaged gammastar model.*{fragment}"):
        gammastar.load_model(path)
    assert read == ["gammastar.json"]  # the head, and nothing else
