"""pytest setup: the repository on sys.path, a temporary work folder fixture, and the
per-op summary of the differential and ONNX backend node tests (gathered from every
pytest-xdist worker)."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MOBILEC_CACHE", str(ROOT / "build" / "cache"))


# The per-op tallies the summary prints: (test module, its dict of op -> Counter).
TALLIES = (("test_op_differential", "COUNTS"), ("test_op_differential", "REFUSALS"),
           ("test_backend_nodes", "RESULTS"))
GATHERED = pytest.StashKey[dict[str, dict[str, Counter[str]]]]()


def _local_tallies() -> dict[str, dict[str, Counter[str]]]:
    """This process's tallies, by "module.NAME"."""
    out: dict[str, dict[str, Counter[str]]] = {}
    for module, name in TALLIES:
        table = getattr(sys.modules.get(module), name, None)
        if table:
            out[f"{module}.{name}"] = table
    return out


def _merge(into: dict[str, dict[str, Counter[str]]],
           tallies: dict[str, dict[str, dict[str, int]]]) -> None:
    for key, table in tallies.items():
        for op, counts in table.items():
            into.setdefault(key, {}).setdefault(op, Counter()).update(counts)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[GATHERED] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand this worker's tallies to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["tallies"] = json.dumps(_local_tallies())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """In the pytest-xdist controller: gather a finished worker's tallies."""
    tallies = getattr(node, "workeroutput", {}).get("tallies")
    if tallies:
        _merge(node.config.stash[GATHERED], json.loads(tallies))


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mobilec-test-") as d:
        yield Path(d)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the differential and backend node test counts per op at the end of the run."""
    tallies: dict[str, dict[str, Counter[str]]] = {}
    _merge(tallies, _local_tallies())
    _merge(tallies, terminalreporter.config.stash[GATHERED])
    counts = tallies.get("test_op_differential.COUNTS")
    if counts:
        terminalreporter.write_sep("=", "differential op tests vs onnxruntime (cases per op)")
        for op in sorted(counts):
            c = counts[op]
            terminalreporter.write_line(f"{op:<32} {c['passed']:>4} agree {c['refused']:>4} "
                                        "refused as unsupported")
        refusals = tallies.get("test_op_differential.REFUSALS", {})
        for op in sorted(refusals):
            for reason, n in refusals[op].most_common():
                terminalreporter.write_line(f"  {op} refused {n}x: {reason[:120]}")
    results = tallies.get("test_backend_nodes.RESULTS")
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
