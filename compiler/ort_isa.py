"""onnxruntime as it runs on a CPU without AVX-512, to time `--target x86-64-v3` against
what an x86-64-v3 user would run instead, on a machine that has AVX-512.

onnxruntime's kernels (MLAS) are picked at load time from CPUID and from XCR0, the
register in which the OS says which vector states it saves; there is no option to cap
them. AVX-512 code may run only when XCR0 has the opmask and ZMM state bits (5-7), so
every dispatcher must read XCR0 with `xgetbv` before choosing it. Here a copy of the
installed package is made whose compiled module reads XCR0 as x87 | SSE | AVX (7) -- what
an OS that does not enable AVX-512 state reports -- so that it takes its AVX2/FMA paths:
each `xor ecx, ecx; xgetbv` (31 C9 0F 01 D0: XCR0, ecx = 0) becomes
`xor ecx, ecx; lea eax, [rcx + 7]` (31 C9 8D 41 07), the same length. Only the low half
of XCR0 (eax) is set; no feature the dispatchers test lives in the high half.

The copy lives in the build cache; the process that times onnxruntime must import it
before any other onnxruntime (`load`)."""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

from .build import cache_dir
from .errors import MobilecError

ISAS = ("native", "avx2")
PREFIX = "onnxruntime-avx2-"  # the copies' directories in the cache
XGETBV_XCR0 = bytes.fromhex("31c90f01d0")  # xor ecx, ecx; xgetbv
XCR0_AVX = bytes.fromhex("31c98d4107")  # xor ecx, ecx; lea eax, [rcx + 7]


def patch_xgetbv(code: bytes) -> tuple[bytes, int]:
    """`code` with every XCR0 read answering 7, and how many were replaced."""
    return code.replace(XGETBV_XCR0, XCR0_AVX), code.count(XGETBV_XCR0)


def _installed() -> Path:
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or spec.origin is None:
        raise MobilecError("onnxruntime is not installed")
    return Path(spec.origin).parent


def without_avx512() -> Path:
    """A directory holding an onnxruntime package that never uses AVX-512 (made once per
    installed build); put it first on sys.path."""
    pkg = _installed()
    modules = sorted((pkg / "capi").glob("onnxruntime_pybind11_state*.so"))
    if len(modules) != 1:
        raise MobilecError(f"expected one onnxruntime_pybind11_state*.so in {pkg / 'capi'}, "
                           f"found {len(modules)}")
    code = modules[0].read_bytes()
    out = cache_dir() / f"{PREFIX}{hashlib.sha256(code).hexdigest()[:16]}"
    if (out / "onnxruntime").is_dir():
        return out
    patched, sites = patch_xgetbv(code)
    if sites == 0:
        raise MobilecError("found no XCR0 read (xor ecx, ecx; xgetbv) to patch: this "
                           "onnxruntime build cannot be limited to AVX2",
                           path=str(modules[0]))
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(pkg, tmp / "onnxruntime", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "onnxruntime" / "capi" / modules[0].name).write_bytes(patched)
    try:
        tmp.rename(out)
    except OSError:  # another process made it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def load(isa: str) -> ModuleType:
    """Import onnxruntime as `isa` asks: "native" is the installed package as it is,
    "avx2" the copy without AVX-512. A process holds one of them only."""
    if isa not in ISAS:
        raise MobilecError(f"unknown onnxruntime ISA '{isa}' (choose from {', '.join(ISAS)})")
    loaded = sys.modules.get("onnxruntime")
    if loaded is not None:
        if Path(loaded.__file__ or "").parent.parent.name.startswith(PREFIX) != (isa == "avx2"):
            raise MobilecError(f"onnxruntime is already loaded from {loaded.__file__} in "
                               f"this process; onnxruntime '{isa}' needs a new process")
        return loaded
    if isa == "avx2":
        sys.path.insert(0, str(without_avx512()))
    return importlib.import_module("onnxruntime")
