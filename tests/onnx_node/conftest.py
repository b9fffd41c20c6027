"""Print the backend node test counts per op at the end of the run."""
from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from test_backend_nodes import RESULTS  # type: ignore[import-not-found]
    if not RESULTS:
        return
    tr = terminalreporter
    tr.write_sep("=", "onnx backend node tests per op (passed / failed / refused as unsupported)")
    total: dict[str, int] = {"passed": 0, "failed": 0, "refused": 0}
    for op in sorted(RESULTS):
        c = RESULTS[op]
        tr.write_line(f"{op:<22} {c['passed']:>4} passed {c['failed']:>4} failed "
                      f"{c['refused']:>4} refused")
        for k in total:
            total[k] += c[k]
    tr.write_line(f"{'all':<22} {total['passed']:>4} passed {total['failed']:>4} failed "
                  f"{total['refused']:>4} refused")
