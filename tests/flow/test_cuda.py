"""Training and generation with --device cuda (skipped, with the reason, where no CUDA device is present)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("zuko")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def test_train_and_generate_on_cuda(tiny_data, tmp_path, run):
    from gammastar import FlowConfig, Generator, train

    model = train(tiny_data, FlowConfig(seed=1, epochs=2, hidden=(16,), transforms=1, batch_size=1024, device="cuda"),
                  progress=False)
    path = model.save(tmp_path / "cuda.pt")
    on_gpu, on_cpu = Generator.load(path, "cuda"), Generator.load(path, "cpu")
    # the same stored table and yields: identical events and weights whichever device holds the networks
    for name in ("aprime", "mcp"):
        a = on_gpu.aprime(0.4, 20_000, seed=3, decay=True) if name == "aprime" else on_gpu.mcp(0.15, 20_000, seed=3)
        b = on_cpu.aprime(0.4, 20_000, seed=3, decay=True) if name == "aprime" else on_cpu.mcp(0.15, 20_000, seed=3)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    # the table made on the GPU is the flow's density there and on the CPU (float32 network, 1e-4)
    cpu_table = Generator(on_cpu.model, grid=on_cpu.density.grid + 1).density
    gpu_table = Generator(on_gpu.model, grid=on_gpu.density.grid + 1).density
    np.testing.assert_allclose(gpu_table.prob, cpu_table.prob, rtol=1e-3, atol=1e-7)
    rc, _, err = run("generate", "mcp", "--model", path, "--mchi", "0.15", "--n", 1000, "--device", "cuda",
                     "--out", tmp_path / "chi.parquet")
    assert rc == 0, err
