"""The generic target on aarch64: the shared fixture (MCi0, 64x64, another exporter)
compiled for `generic`, cross-built with aarch64-linux-gnu-gcc (-Wall -Wextra -Werror),
run under qemu-aarch64, and compared with its float64 reference output. `make test`
installs both tools (Makefile, sysdeps)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from compiler.pipeline import compile_file, write_sources
from compiler.verify import MAX_REL_DIFF, MIN_COSINE, compare, driver_source
from helpers import fixture, ROOT

CROSS, QEMU = "aarch64-linux-gnu-gcc", "qemu-aarch64"


def test_generic_runs_on_aarch64(tmp_path: Path) -> None:
    assert shutil.which(CROSS) and shutil.which(QEMU), \
        f"{CROSS} and {QEMU} are installed by `make test` (Makefile: sysdeps)"
    compiled = compile_file(str(fixture("mci0_64_train.onnx")), "m", "generic")
    write_sources(compiled, tmp_path / "m_model.c")
    (tmp_path / "m_driver.c").write_text(driver_source(compiled))
    runtime = sorted(str(p) for p in (ROOT / "runtime" / "src").glob("*.c"))
    exe = tmp_path / "m_aarch64"
    subprocess.run([CROSS, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-static",
                    "-I", str(ROOT / "runtime" / "include"), "-I", str(tmp_path),
                    str(tmp_path / "m_model.c"), str(tmp_path / "m_driver.c"), *runtime, "-lm",
                    "-o", str(exe)], check=True)
    out = tmp_path / "out.bin"
    subprocess.run([QEMU, str(exe), str(fixture("mci0_64_input.bin")), str(out)], check=True,
                   capture_output=True)
    got = np.fromfile(out, dtype="<f4")
    ref = np.fromfile(fixture("mci0_64_train_output_fp64.bin"), dtype="<f8")
    c = compare("aarch64 generic vs float64 reference", got, ref)
    assert c.cosine >= MIN_COSINE and c.rel <= MAX_REL_DIFF, c
