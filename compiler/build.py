"""Build generated code with the system C compiler: the runtime once per target and
compiler (cached by a hash of its sources), then model + driver against it."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from .errors import MobilecError
from .targets import archiver, c_compiler, link_flags, resolve

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "runtime"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
# What the test driver (templates/driver.c.j2) links besides the model and the runtime:
# the optional thread pool it runs MOBILEC_THREADS threads of.
DRIVER_SOURCES = [RUNTIME / "threadpool" / "mcr_threadpool.c"]
DRIVER_FLAGS = ["-pthread"]


def cc() -> str:
    """The C compiler for this machine's own code."""
    return c_compiler(resolve("generic"))


def cache_dir() -> Path:
    return Path(os.environ.get("MOBILEC_CACHE", ROOT / "build" / "cache"))


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
        first = errors[0] if errors else proc.stderr.strip()[-300:]
        raise MobilecError(f"{what} failed ({cmd[0]} exited {proc.returncode}): {first}")


def runtime_library(target: str, extra_flags: list[str] | None = None) -> Path:
    """libmcr.a for `target`, built once and reused while the runtime sources stay the same."""
    sources = sorted((RUNTIME / "src").rglob("*.c"))
    flags = CFLAGS + list(resolve(target).cflags) + list(extra_flags or [])
    compiler = c_compiler(resolve(target))
    h = hashlib.sha256()
    h.update(" ".join([compiler] + flags).encode())
    for p in sorted((RUNTIME).rglob("*.[ch]")):
        h.update(str(p.relative_to(RUNTIME)).encode())
        h.update(p.read_bytes())
    out = cache_dir() / f"runtime-{target}-{h.hexdigest()[:16]}"
    lib = out / "libmcr.a"
    if lib.exists():
        return lib
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sources:
        obj = tmp / (src.relative_to(RUNTIME / "src").as_posix().replace("/", "_") + ".o")
        _run([compiler, *flags, "-I", str(RUNTIME / "include"), "-c", str(src), "-o", str(obj)],
             f"compiling runtime {src.name}")
        objs.append(str(obj))
    _run([archiver(resolve(target)), "rcs", str(tmp / "libmcr.a"), *objs], "archiving the runtime")
    try:
        os.replace(tmp, out)
    except OSError:  # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return lib


def build_program(sources: list[Path], exe: Path, target: str = "generic",
                  extra_flags: list[str] | None = None,
                  model_flags: list[str] | None = None) -> Path:
    """Compile and link generated sources with the runtime into an executable
    (extra_flags: for the runtime too; model_flags: for the generated sources only)."""
    lib = runtime_library(target, extra_flags)
    flags = (CFLAGS + list(resolve(target).cflags) + list(extra_flags or [])
             + list(model_flags or []))
    # -Wa,-I: where the assembler finds an .incbin weights file (beside the model).
    _run([c_compiler(resolve(target)), *flags, "-I", str(RUNTIME / "include"),
          "-I", str(sources[0].parent), f"-Wa,-I,{sources[0].parent}",
          *map(str, sources), str(lib), "-lm", *link_flags(resolve(target)), "-o", str(exe)],
         "building the generated code")
    return exe
