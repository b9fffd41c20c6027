"""pytest setup: the repository on sys.path, a temporary work folder fixture, and the
per-op summary of the ONNX backend node tests."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MOBILEC_CACHE", str(ROOT / "build" / "cache"))


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mobilec-test-") as d:
        yield Path(d)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the differential and backend node test counts per op at the end of the run."""
    counts = getattr(sys.modules.get("test_op_differential"), "COUNTS", None)
    if counts:
        terminalreporter.write_sep("=", "differential op tests vs onnxruntime (cases per op)")
        for op in sorted(counts):
            c = counts[op]
            terminalreporter.write_line(f"{op:<32} {c['passed']:>4} agree {c['refused']:>4} "
                                        "refused as unsupported")
        refusals = getattr(sys.modules.get("test_op_differential"), "REFUSALS", {})
        for op in sorted(refusals):
            for reason, n in refusals[op].most_common():
                terminalreporter.write_line(f"  {op} refused {n}x: {reason[:120]}")
    mod = sys.modules.get("test_backend_nodes")
    results = getattr(mod, "RESULTS", None)
    if not results:
        return
    tr = terminalreporter
    tr.write_sep("=", "onnx backend node tests per op (passed / failed / refused as unsupported)")
    total: dict[str, int] = {"passed": 0, "failed": 0, "refused": 0}
    for op in sorted(results):
        c = results[op]
        tr.write_line(f"{op:<22} {c['passed']:>4} passed {c['failed']:>4} failed "
                      f"{c['refused']:>4} refused")
        for k in total:
            total[k] += c[k]
    tr.write_line(f"{'all':<22} {total['passed']:>4} passed {total['failed']:>4} failed "
                  f"{total['refused']:>4} refused")
