"""The work partitioning's cut-off measured (runtime/tools/task_cutoff.c): for a GEMM and
an elementwise add of growing sizes, the median time of a call on one thread and split
in two tasks on two threads. `make bench` reports it beside config.h's MCR_TASK_MIN_MACS
and MCR_TASK_MIN_ELEMENTS."""
from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .build import CFLAGS, RUNTIME, cc
from .errors import MobilecError
from .targets import resolve


@dataclass
class Split:
    kernel: str  # "gemm" (work in multiply-adds) or "add" (work in elements)
    work: int
    one_us: float
    two_us: float

    @property
    def speedup(self) -> float:
        return self.one_us / self.two_us


def measure(target: str) -> list[Split]:
    """One line per kernel and size, smallest first."""
    sources = sorted(str(p) for p in (RUNTIME / "src").glob("*.c"))
    with tempfile.TemporaryDirectory(prefix="mobilec-cutoff-") as d:
        exe = Path(d) / "task_cutoff"
        cmd = [cc(), *CFLAGS, *resolve(target).cflags, "-DMCR_TASK_SPLIT_ALL",
               f"-I{RUNTIME / 'include'}", *sources,
               str(RUNTIME / "threadpool" / "mcr_threadpool.c"),
               str(RUNTIME / "tools" / "task_cutoff.c"), "-o", str(exe), "-lm", "-pthread"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise MobilecError(f"building the cut-off benchmark failed: "
                               f"{proc.stderr.strip()[-300:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True)
    if out.returncode != 0:
        raise MobilecError(f"the cut-off benchmark failed: {out.stderr.strip()[:300]}")
    splits = []
    for line in out.stdout.splitlines():
        kernel, *fields = line.split()
        f = dict(w.split("=") for w in fields)
        splits.append(Split(kernel, int(f["work"]), float(f["one_us"]), float(f["two_us"])))
    return splits


def break_even(splits: list[Split], kernel: str, speedup: float = 1.0) -> int | None:
    """The smallest work from which on two threads are at least `speedup` times as fast as
    one at every larger size measured (None: at no size)."""
    rows = [s for s in splits if s.kernel == kernel]
    found = None
    for s in reversed(rows):
        if s.speedup < speedup:
            break
        found = s.work
    return found
