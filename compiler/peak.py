"""This core's peak float32 multiply-add throughput for a target's ISA, measured by
runtime/tools/peak_fma.c: the denominator of "fraction of peak" in `make bench`."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .build import CFLAGS, RUNTIME, cc
from .errors import MobilecError
from .targets import resolve


def peak_gflops(target: str) -> tuple[float, str]:
    """(GFLOP/s, ISA name) of one core running independent FMA chains."""
    with tempfile.TemporaryDirectory(prefix="mobilec-peak-") as d:
        exe = Path(d) / "peak_fma"
        # -O3 after the target's flags: at -O2 gcc keeps the accumulator array in memory.
        cmd = [cc(), *CFLAGS, *resolve(target).cflags, "-O3",
               str(RUNTIME / "tools" / "peak_fma.c"), "-o", str(exe)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise MobilecError(f"building the peak benchmark failed: {proc.stderr.strip()[-300:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True).stdout.split()
    if len(out) != 3 or out[0] != "peak_gflops":
        raise MobilecError(f"the peak benchmark printed {' '.join(out)!r}")
    return float(out[1]), out[2]
