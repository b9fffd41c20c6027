"""The aarch64 targets: the shared fixture (MCi0, 64x64, another exporter) compiled for
`aarch64` (NEON micro-kernels) and for `generic` cross-built for aarch64 with
-DMCR_PORTABLE (the portable micro-kernels: a plain aarch64 build takes NEON's), built with
aarch64-linux-gnu-gcc (-Wall -Wextra -Werror), run under qemu-aarch64, and compared with
its float64 reference output; and `mobilec verify --target aarch64` end to end (it runs
the program under qemu and says so). `make test` installs both tools (Makefile,
sysdeps); the runtime's kernel tests run under qemu too (tests/runtime/Makefile)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from compiler.build import DRIVER_FLAGS, DRIVER_SOURCES
from compiler.cli import main
from compiler.pipeline import compile_file, write_sources
from compiler.targets import TARGETS
from compiler.verify import MAX_REL_DIFF, MIN_COSINE, compare, driver_source
from helpers import fixture, ROOT

CROSS, QEMU = "aarch64-linux-gnu-gcc", "qemu-aarch64"


def tools() -> None:
    assert shutil.which(CROSS) and shutil.which(QEMU), \
        f"{CROSS} and {QEMU} are installed by `make test` (Makefile: sysdeps)"


@pytest.mark.parametrize("target", ["generic", "aarch64"])
def test_runs_on_aarch64(tmp_path: Path, target: str) -> None:
    tools()
    compiled = compile_file(str(fixture("mci0_64_train.onnx")), "m", target)
    write_sources(compiled, tmp_path / "m_model.c")
    (tmp_path / "m_driver.c").write_text(driver_source(compiled))
    runtime = sorted(str(p) for p in (ROOT / "runtime" / "src").glob("*.c"))
    exe = tmp_path / "m_aarch64"
    subprocess.run([CROSS, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-static",
                    *TARGETS[target].cflags, *(["-DMCR_PORTABLE"] if target == "generic" else []),
                    "-I", str(ROOT / "runtime" / "include"), "-I", str(tmp_path),
                    str(tmp_path / "m_model.c"), str(tmp_path / "m_driver.c"), *runtime,
                    *map(str, DRIVER_SOURCES), *DRIVER_FLAGS, "-lm",
                    "-o", str(exe)], check=True)
    out = tmp_path / "out.bin"
    subprocess.run([QEMU, str(exe), str(fixture("mci0_64_input.bin")), str(out)], check=True,
                   capture_output=True)
    got = np.fromfile(out, dtype="<f4")
    ref = np.fromfile(fixture("mci0_64_train_output_fp64.bin"), dtype="<f8")
    c = compare(f"aarch64 {target} vs float64 reference", got, ref)
    assert c.cosine >= MIN_COSINE and c.rel <= MAX_REL_DIFF, c


def test_verify_aarch64_under_qemu(capsys: pytest.CaptureFixture[str]) -> None:
    tools()
    rc = main(["verify", str(fixture("mci0_64_train.onnx")), "--target", "aarch64", "--quiet",
               "--input", str(fixture("mci0_64_input.bin")),
               "--expect", str(fixture("mci0_64_train_output_fp64.bin"))])
    out = capsys.readouterr().out
    assert "under qemu-aarch64" in out
    assert rc == 0, out
    assert out.splitlines()[-1].startswith("verify: PASS mci0_64_train target=aarch64"), out


def test_bench_refuses_to_time_under_qemu(capsys: pytest.CaptureFixture[str]) -> None:
    if TARGETS["aarch64"].arch == __import__("platform").machine():
        pytest.skip("this machine is aarch64: bench times it natively")
    rc = main(["bench", str(fixture("mci0_64_train.onnx")), "--target", "aarch64"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot time aarch64 code" in err, err


def test_mca_takes_the_innermost_loop_with_most_fmla() -> None:
    from compiler.mca import hottest_loop
    asm = "\n".join([
        "f:", ".L2:", "\tfmla v0.4s, v1.4s, v2.4s",  # an outer loop around two inner ones
        ".L3:", "\tfmla v3.4s, v1.4s, v2.4s", "\tsubs x0, x0, 1", "\tbne .L3",
        ".L4:", "\tfmla v4.4s, v1.4s, v2.4s", "\tfmla v5.4s, v1.4s, v2.4s",
        "\t.p2align 3", "\tcmp x1, x2", "\tb.ne .L4",
        "\tcbnz x3, .L2", "\tret"])
    assert hottest_loop(asm) == ["fmla v4.4s, v1.4s, v2.4s", "fmla v5.4s, v1.4s, v2.4s",
                                 "cmp x1, x2", "b.ne .L4"]


def test_mca_models_every_neon_kernel() -> None:
    """Every NEON variant's hot loop is found and modelled (make bench reports them)."""
    from compiler.mca import model_kernels
    models = model_kernels(cores=("cortex-a76",))
    kernels = {m.kernel for m in models}
    assert kernels == {p.stem for p in (ROOT / "runtime" / "src").glob("*__neon.c")}
    gemm = next(m for m in models if m.kernel.startswith("gemm"))
    assert gemm.fmla == 6 * 16 // 4  # one FMLA per accumulator per step of k
    for m in models:
        assert m.fmla > 0 and 0 < m.fraction <= 1.0 + 1e-9, m


def test_neon_kernels_are_chosen(tmp_path: Path) -> None:
    """A MatMul's instructions under qemu: the aarch64 build takes the NEON GEMM (config.h),
    -DMCR_PORTABLE the portable one. Deterministic counts, not times."""
    import onnx
    from onnx import helper
    from compiler.mca import instructions_per_inference
    from helpers import build_model
    tools()
    rng = np.random.default_rng(0)
    model = build_model([helper.make_node("MatMul", ["x", "w"], ["y"])], [("x", [64, 256])],
                        ["y"], {"w": rng.random((256, 128))})
    onnx.save(model, str(tmp_path / "mm.onnx"))
    neon, portable = (instructions_per_inference(str(tmp_path / "mm.onnx"), t)
                      for t in ("aarch64", "generic"))
    macs = 64 * 256 * 128
    assert neon < 0.6 * macs < portable, (neon / macs, portable / macs)
