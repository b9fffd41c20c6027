"""Signs of the aarch64 code's speed without ARM hardware.

1. A model of each micro-kernel: each NEON variant
file cross-compiled with the aarch64 target's flags, its hottest inner loop (the loop
with the most FMLA instructions) taken from the assembly, and LLVM's machine-code
analyzer (llvm-mca, Debian llvm-16) run on it with the scheduling model of each core.

Reported per loop and core: cycles per iteration, and the FMA-throughput bound as a
fraction of it -- the bound is llvm-mca's block reciprocal throughput of the loop's FMLA
instructions alone, so 100% means the loop issues FMAs as fast as that core's model
allows. A model, not a measurement: LLVM's models approximate the cores (LLVM 16 gives
Cortex-A76 and Neoverse N1 one 128-bit FMLA per cycle).

2. A count: the guest instructions one inference executes under qemu
(runtime/tools/qemu_icount.c), aarch64 against generic: rougher (an instruction is not a
cycle), but over the whole program."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import MobilecError
from .targets import CROSS_PREFIX, TARGETS

ROOT = Path(__file__).resolve().parent.parent
CORES = ("cortex-a55", "cortex-a76", "neoverse-n1", "neoverse-v1", "apple-m1")
MCA = "llvm-mca-16"
CONDS = "eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al"
BRANCH = re.compile(rf"^\s*(b(?:\.?(?:{CONDS}))?|cbn?z|tbn?z)\s+(?:[^,]+,\s*)*(\.L\w+)\s*$")
LABEL = re.compile(r"^(\.L\w+):")


@dataclass
class LoopModel:
    kernel: str  # the variant file's stem, e.g. gemm_f32_6x16__neon
    core: str
    fmla: int  # FMLA instructions per iteration
    instructions: int
    cycles: float  # per iteration
    bound: float  # cycles per iteration the FMLAs alone need

    @property
    def fraction(self) -> float:
        return self.bound / self.cycles


def tools() -> tuple[str, str]:
    cross = CROSS_PREFIX["aarch64"] + "gcc"
    for tool, pkg in ((cross, "gcc-aarch64-linux-gnu"), (MCA, "llvm-16")):
        if shutil.which(tool) is None:
            raise MobilecError(f"the aarch64 kernel model needs {tool} (Debian: {pkg})")
    return cross, MCA


def assembly(source: Path, cross: str) -> str:
    """The variant file compiled as the aarch64 target compiles the runtime."""
    flags = ["-std=c99", "-O2", *TARGETS["aarch64"].cflags]
    proc = subprocess.run([cross, *flags, "-I", str(ROOT / "runtime" / "include"), "-S",
                           str(source), "-o", "-"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise MobilecError(f"compiling {source.name} for aarch64 failed: {proc.stderr[-300:]}")
    return proc.stdout


def hottest_loop(asm: str) -> list[str]:
    """The instructions of the innermost loop with the most FMLAs: from a label to the
    backward branch to it, with no other loop inside (directives and labels left out)."""
    lines = asm.splitlines()
    where = {m.group(1): i for i, ln in enumerate(lines) if (m := LABEL.match(ln))}
    loops = [(where[m.group(2)], i) for i, ln in enumerate(lines)
             if (m := BRANCH.match(ln)) and where.get(m.group(2), i) < i]
    innermost = [(a, b) for a, b in loops
                 if not any(a <= c and d <= b and (c, d) != (a, b) for c, d in loops)]
    best: list[str] = []
    for a, b in innermost:
        body = [x.strip() for x in lines[a + 1:b + 1]
                if x.strip() and not x.strip().startswith(".") and not LABEL.match(x.strip())]
        if fmlas(body) > fmlas(best) or (fmlas(body) == fmlas(best) and len(body) < len(best)):
            best = body
    return best if fmlas(best) else []


def fmlas(lines: list[str]) -> int:
    return sum(x.startswith("fmla") for x in lines)


def run_mca(lines: list[str], core: str, mca: str, iterations: int = 200) -> tuple[float, float]:
    """(cycles per iteration, block reciprocal throughput) of `lines` on `core`."""
    with tempfile.NamedTemporaryFile("w", suffix=".s") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        proc = subprocess.run([mca, "-mtriple=aarch64-linux-gnu", f"-mcpu={core}",
                               f"-iterations={iterations}", f.name],
                              capture_output=True, text=True)
    if proc.returncode != 0:
        raise MobilecError(f"llvm-mca failed on {core}: {proc.stderr.strip()[:300]}")
    total = re.search(r"Total Cycles:\s+(\d+)", proc.stdout)
    rthr = re.search(r"Block RThroughput:\s+([\d.]+)", proc.stdout)
    if not total or not rthr:
        raise MobilecError("llvm-mca printed no cycle count")
    return int(total.group(1)) / iterations, float(rthr.group(1))


def model_kernels(sources: list[Path] | None = None,
                  cores: tuple[str, ...] = CORES) -> list[LoopModel]:
    """Every NEON micro-kernel's hottest loop on every core."""
    cross, mca = tools()
    files = sources or sorted((ROOT / "runtime" / "src").glob("*__neon.c"))
    out = []
    for src in files:
        loop = hottest_loop(assembly(src, cross))
        if not loop:
            raise MobilecError(f"no loop with FMLA instructions in {src.name}")
        fmla = [x for x in loop if x.startswith("fmla")]
        for core in cores:
            cycles, _ = run_mca(loop, core, mca)
            _, bound = run_mca(fmla, core, mca)
            out.append(LoopModel(src.stem, core, len(fmla), len(loop), cycles, bound))
    return out


def table(models: list[LoopModel]) -> str:
    """Markdown: a row per kernel, per core cycles/iteration and % of the FMA bound."""
    cores = list(dict.fromkeys(m.core for m in models))
    head = "| micro-kernel (hottest loop) | FMLA / instr. | " + " | ".join(cores) + " |"
    rows = [head, "|" + "---|" * (2 + len(cores))]
    for kernel in dict.fromkeys(m.kernel for m in models):
        ms = {m.core: m for m in models if m.kernel == kernel}
        first = next(iter(ms.values()))
        cells = [f"{ms[c].cycles:.1f} cyc, {100 * ms[c].fraction:.0f}%" for c in cores]
        rows.append(f"| {kernel} | {first.fmla} / {first.instructions} | "
                    + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    import sys
    print(table(model_kernels([Path(p) for p in sys.argv[1:]] or None)))


def icount_plugin(workdir: Path) -> Path:
    """The instruction-counting qemu plugin, built for this machine."""
    from .build import cc
    out = workdir / "libicount.so"
    proc = subprocess.run([cc(), "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
                           str(ROOT / "runtime" / "tools" / "qemu_icount.c"), "-o", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise MobilecError(f"building the qemu plugin failed: {proc.stderr[-300:]}")
    return out


def guest_instructions(plugin: Path, cmd: list[str]) -> int:
    """Instructions the aarch64 program `cmd` executes under qemu."""
    from .targets import emulator
    proc = subprocess.run([*emulator("aarch64"), "-plugin", str(plugin), "-d", "plugin", *cmd],
                          capture_output=True, text=True)
    m = re.search(r"guest_insns (\d+)", proc.stderr)
    if proc.returncode != 0 or not m:
        raise MobilecError(f"counting instructions under qemu failed: {proc.stderr[-300:]}")
    return int(m.group(1))


def instructions_per_inference(model: str, target: str, name: str = "model") -> int:
    """One inference's guest instructions of `model` compiled for `target` (generic or
    aarch64) and cross-built for aarch64: the driver run with 2 inferences minus with 1
    (reading and writing the files, and the start, cancel out). generic is built with
    -DMCR_PORTABLE: the portable micro-kernels, not NEON's (config.h)."""
    import numpy as np

    from .build import DRIVER_FLAGS, DRIVER_SOURCES
    from .pipeline import compile_file, write_sources
    from .verify import driver_source, make_inputs
    cross, _ = tools()
    compiled = compile_file(model, name, target, quiet=True)
    with tempfile.TemporaryDirectory(prefix="mobilec-icount-") as d:
        work = Path(d)
        write_sources(compiled, work / "m_model.c")
        (work / "m_driver.c").write_text(driver_source(compiled))
        exe = work / "m"
        runtime = sorted(str(p) for p in (ROOT / "runtime" / "src").glob("*.c"))
        portable = ["-DMCR_PORTABLE"] if target == "generic" else []
        proc = subprocess.run([cross, "-std=c99", "-O2", *TARGETS[target].cflags, *portable,
                               "-static",
                               "-I", str(ROOT / "runtime" / "include"), "-I", str(work),
                               f"-Wa,-I,{work}", str(work / "m_model.c"),
                               str(work / "m_driver.c"), *runtime, *map(str, DRIVER_SOURCES),
                               *DRIVER_FLAGS, "-lm", "-o", str(exe)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise MobilecError(f"cross-building {name} for {target} failed: {proc.stderr[-300:]}")
        plugin = icount_plugin(work)
        files = []
        for k, x in enumerate(make_inputs(compiled, 0)):
            np.ascontiguousarray(x, dtype="<f4").tofile(work / f"in{k}.bin")
            files.append(str(work / f"in{k}.bin"))
        files += [str(work / f"out{k}.bin") for k in range(len(compiled.graph.outputs))]
        one, two = (guest_instructions(plugin, [str(exe), *files, str(runs)]) for runs in (1, 2))
    return two - one
