"""The generated C under every checker: gcc and clang with -std=c99 -Wall -Wextra -Werror
-pedantic for every target this CPU runs, and the fixture run under ASan+UBSan."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, fixture
from compiler.build import DRIVER_FLAGS, DRIVER_SOURCES
from compiler.pipeline import compile_file, write_sources
from compiler.targets import TARGETS, is_foreign, runs_here
from compiler.verify import compare, driver_source, MAX_REL_DIFF, MIN_COSINE

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
TARGET_NAMES = ["generic", "x86-64-v3", "x86-64-v4", "aarch64"]
# aarch64 from an x86 machine: gcc's cross compiler, clang's own cross target.
CROSS = {"gcc": ["aarch64-linux-gnu-gcc"],
         "clang": ["clang", "--target=aarch64-linux-gnu", "-isystem", "/usr/aarch64-linux-gnu/include"]}


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_fixture_is_warning_free(cc: str, target: str, tmp_path: Path) -> None:
    assert shutil.which(cc), f"{cc} is installed by `make test` (Makefile: sysdeps)"
    if not runs_here(TARGETS[target]):
        pytest.skip(f"this CPU cannot run {target} code")
    cmd = CROSS[cc] if is_foreign(TARGETS[target]) else [cc]
    compiled = compile_file(str(fixture("mci0_64_train.onnx")), "m", target)
    src = tmp_path / "m_model.c"
    write_sources(compiled, src)
    proc = subprocess.run([*cmd, *WARNINGS, "-O1", *TARGETS[target].cflags, "-I",
                           str(ROOT / "runtime" / "include"), "-c", str(src), "-o",
                           str(tmp_path / "m.o")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_fixture_under_asan_and_ubsan(tmp_path: Path) -> None:
    """Model, driver and runtime built with -fsanitize=address,undefined (any report
    aborts), run on the fixture's input: clean, and still the float64 reference's output."""
    compiled = compile_file(str(fixture("mci0_64_train.onnx")), "m", "generic")
    write_sources(compiled, tmp_path / "m_model.c")
    (tmp_path / "m_driver.c").write_text(driver_source(compiled))
    runtime = sorted(str(p) for p in (ROOT / "runtime" / "src").glob("*.c"))
    exe = tmp_path / "m_san"
    san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
    subprocess.run(["gcc", *WARNINGS[:-1], "-O1", *san, "-I", str(ROOT / "runtime" / "include"),
                    "-I", str(tmp_path), str(tmp_path / "m_model.c"), str(tmp_path / "m_driver.c"),
                    *runtime, *map(str, DRIVER_SOURCES), *DRIVER_FLAGS, "-lm", "-o", str(exe)],
                   check=True)
    out = tmp_path / "out.bin"
    proc = subprocess.run([str(exe), str(fixture("mci0_64_input.bin")), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.fromfile(out, dtype="<f4")
    ref = np.fromfile(fixture("mci0_64_train_output_fp64.bin"), dtype="<f8")
    c = compare("ASan+UBSan build vs float64 reference", got, ref)
    assert c.cosine >= MIN_COSINE and c.rel <= MAX_REL_DIFF, c
