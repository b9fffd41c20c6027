"""Code targets: what each assumes of the CPU, and how its code is compiled.

Every target compiles the same runtime sources: the portable C99 kernels, which the C
compiler vectorizes for the target's ISA (-O3 and the ISA flags), and the SIMD
micro-kernels (runtime/src/*__<isa>.c) that the ISA's predefined macros switch on, each
tested against the portable one.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from .errors import MobilecError


@dataclass(frozen=True)
class Target:
    name: str
    cflags: tuple[str, ...]
    macros: tuple[str, ...]  # predefined macros the generated code checks for
    summary: str


# -fno-trapping-math: the runtime never reads the floating-point exception flags, and
# without it gcc will not if-convert (so not vectorize) the clamps in erf and exp under
# AVX2 (measured: MCi0's GELU epilogues 19 ms -> ~2 ms). It changes no result.
FAST = ("-O3", "-fno-trapping-math")
TARGETS: dict[str, Target] = {
    "generic": Target("generic", (), (), "portable C99, the reference"),
    "x86-64-v3": Target("x86-64-v3", (*FAST, "-march=x86-64-v3"), ("__AVX2__", "__FMA__"),
                        "AVX2 + FMA"),
    "x86-64-v4": Target("x86-64-v4", (*FAST, "-march=x86-64-v4", "-mprefer-vector-width=512"),
                        ("__AVX512F__", "__AVX512BW__", "__AVX512DQ__", "__AVX512VL__"),
                        "AVX-512 F/BW/DQ/VL"),
}
CHOICES = tuple(TARGETS) + ("native",)


def native_macros() -> set[str]:
    """The macros the system C compiler predefines for this machine's CPU."""
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise MobilecError(f"no C compiler '{compiler}' found (set CC)")
    proc = subprocess.run([compiler, "-march=native", "-dM", "-E", "-x", "c", os.devnull],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return set()
    return {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("#define ")}


def resolve(name: str) -> Target:
    """The target called `name`; "native" is the best one this machine's CPU runs."""
    if name == "native":
        have = native_macros()
        for candidate in ("x86-64-v4", "x86-64-v3"):
            if set(TARGETS[candidate].macros) <= have:
                return TARGETS[candidate]
        return TARGETS["generic"]
    if name not in TARGETS:
        raise MobilecError(f"unknown target '{name}' (choose from {', '.join(CHOICES)})")
    return TARGETS[name]


def runs_here(target: Target) -> bool:
    """Whether this machine's CPU can run code for `target`."""
    return set(target.macros) <= native_macros()
