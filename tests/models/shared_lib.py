"""One mobilec tree's runtime, with any generated sources, as a shared library: how the
speed tools that put two trees into one process (ab.py, gemm_vs_ort.py) build each side.

Built with this checkout's compiler flags (compiler.build.CFLAGS) and the target's, from
the tree's own runtime sources; linked with -Bsymbolic, so that each library calls its own
runtime even when another tree's library with the same symbols is loaded first.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from compiler.build import CFLAGS, cc  # noqa: E402
from compiler.targets import resolve  # noqa: E402


def build_shared(tool: str, tree: Path, target: str, lib: Path,
                 sources: tuple[Path, ...] = ()) -> Path:
    """tree's runtime plus sources (headers and .incbin files beside the first) as lib;
    a clear one-line exit naming tool and tree when tree is no mobilec tree or the build
    fails."""
    rt = tree / "runtime"
    if not (rt / "src").is_dir() or not (rt / "include" / "mcr.h").is_file():
        raise SystemExit(f"{tool}: {tree}: not a mobilec tree (no runtime/src)")
    beside = [f"-I{sources[0].parent}", f"-Wa,-I,{sources[0].parent}"] if sources else []
    proc = subprocess.run([cc(), *CFLAGS, *resolve(target).cflags, "-fPIC", "-shared",
                           "-Wl,-Bsymbolic", "-I", str(rt / "include"), *beside,
                           *map(str, sources), *sorted(map(str, (rt / "src").glob("*.c"))),
                           "-lm", "-o", str(lib)], text=True, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{tool}: {tree}: building {lib.name} failed: "
                         f"{proc.stderr.strip()[:2000]}")
    return lib
