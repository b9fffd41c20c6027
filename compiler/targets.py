"""Code targets: what each assumes of the CPU, and how its code is compiled and run.

Every target compiles the same runtime sources: the portable C99 kernels, which the C
compiler vectorizes for the target's ISA (-O3 and the ISA flags), and the SIMD
micro-kernels (runtime/src/*__<isa>.c) that the ISA's predefined macros switch on, each
tested against the portable one; runtime/src/config.h picks the target's micro-kernels
from the same macros. A target for another architecture than this machine's (aarch64 on
x86-64) is built with its cross compiler and run under qemu user-mode emulation: right
results, no meaningful times.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import MobilecError


@dataclass(frozen=True)
class Target:
    name: str
    cflags: tuple[str, ...]
    macros: tuple[str, ...]  # predefined macros the generated code checks for
    summary: str
    arch: str | None = None  # the machine it runs on (platform.machine()); None: any


# -fno-trapping-math: the runtime never reads the floating-point exception flags, and
# without it gcc will not if-convert (so not vectorize) the clamps in erf and exp under
# AVX2 (measured: MCi0's GELU epilogues 19 ms -> ~2 ms). It changes no result.
FAST = ("-O3", "-fno-trapping-math")
TARGETS: dict[str, Target] = {
    "generic": Target("generic", (), (), "portable C99, the reference"),
    "x86-64-v3": Target("x86-64-v3", (*FAST, "-march=x86-64-v3"), ("__AVX2__", "__FMA__"),
                        "AVX2 + FMA", "x86_64"),
    "x86-64-v4": Target("x86-64-v4", (*FAST, "-march=x86-64-v4", "-mprefer-vector-width=512"),
                        ("__AVX512F__", "__AVX512BW__", "__AVX512DQ__", "__AVX512VL__"),
                        "AVX-512 F/BW/DQ/VL", "x86_64"),
    "aarch64": Target("aarch64", (*FAST, "-march=armv8-a"), ("__aarch64__", "__ARM_NEON"),
                      "ARMv8-A Advanced SIMD (NEON), every 64-bit ARM core", "aarch64"),
}
CHOICES = tuple(TARGETS) + ("native",)


# What builds and runs another architecture's code on this machine (Debian's packages).
CROSS_PREFIX = {"aarch64": "aarch64-linux-gnu-"}
CROSS_PACKAGE = {"aarch64": "gcc-aarch64-linux-gnu"}
EMULATOR = {"aarch64": ("qemu-aarch64", "-L", "/usr/aarch64-linux-gnu")}
ELF_MACHINE = {0x3E: "x86_64", 0xB7: "aarch64"}


def host_arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def is_foreign(target: Target) -> bool:
    """Whether `target` is code for another architecture than this machine's."""
    return target.arch is not None and target.arch != host_arch()


def c_compiler(target: Target) -> str:
    """The C compiler for `target`: $CC (default cc), or the cross compiler for another
    architecture's target."""
    if is_foreign(target):
        assert target.arch is not None
        cross = CROSS_PREFIX[target.arch] + "gcc"
        if shutil.which(cross) is None:
            raise MobilecError(f"building {target.name} code on this {host_arch()} machine needs "
                               f"{cross} (Debian: apt-get install {CROSS_PACKAGE[target.arch]})")
        return cross
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise MobilecError(f"no C compiler '{compiler}' found (set CC)")
    return compiler


def archiver(target: Target) -> str:
    return CROSS_PREFIX[target.arch] + "ar" if is_foreign(target) and target.arch else "ar"


def link_flags(target: Target) -> list[str]:
    """Static for another architecture: qemu then needs none of its shared libraries."""
    return ["-static"] if is_foreign(target) else []


def emulator(arch: str) -> list[str]:
    cmd = list(EMULATOR[arch])
    if shutil.which(cmd[0]) is None:
        raise MobilecError(f"running {arch} code on this {host_arch()} machine needs {cmd[0]} "
                           "(Debian: apt-get install qemu-user)")
    return cmd


def launcher(exe: Path) -> list[str]:
    """The command prefix that runs executable `exe` here: none for this machine's own
    code, qemu for another architecture's (read from the ELF header's machine field)."""
    with open(exe, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return []
    arch = ELF_MACHINE.get(int.from_bytes(head[18:20], "little"))
    return emulator(arch) if arch and arch != host_arch() else []


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
        for candidate in ("x86-64-v4", "x86-64-v3", "aarch64"):
            t = TARGETS[candidate]
            if t.arch == host_arch() and set(t.macros) <= have:
                return t
        return TARGETS["generic"]
    if name not in TARGETS:
        raise MobilecError(f"unknown target '{name}' (choose from {', '.join(CHOICES)})")
    return TARGETS[name]


def runs_here(target: Target) -> bool:
    """Whether this machine can run code for `target`: its CPU has the ISA, or the target
    is another architecture's and its cross compiler and emulator are installed."""
    if is_foreign(target):
        assert target.arch is not None
        return all(shutil.which(t) for t in (CROSS_PREFIX[target.arch] + "gcc",
                                             EMULATOR[target.arch][0]))
    return set(target.macros) <= native_macros()
