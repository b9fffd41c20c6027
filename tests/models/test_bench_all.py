"""tests/models/bench_all.py's bookkeeping of the peaks (make bench itself takes half an
hour or more: its tables are for people). Shares of peak are of the median of every
measurement so far, taken when the table is written, not of the measurement beside the
row."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_all import Peaks, render  # noqa: E402


def test_peaks_take_the_median_of_every_measurement() -> None:
    readings = {"v3": iter([100.0, 80.0, 90.0]), "v4": iter([200.0])}
    peaks = Peaks(["v3", "v4"], measure=lambda t: (next(readings[t]), f"isa-{t}"))
    row = ("| m | v3 | ...", 45.0, "v3", True)
    peaks.measure("v3")
    assert peaks.of("v3") == 90.0  # median of 100, 80
    peaks.measure("v3")
    assert peaks.samples == {"v3": [100.0, 80.0, 90.0], "v4": [200.0]}
    assert peaks.of("v3") == 90.0 and peaks.of("v4") == 200.0
    assert peaks.machine() == 200.0
    # 45 GFLOP/s: 22.5% of the machine's peak (v4's), 50.0% of v3's median
    assert render([row, "| a plain line |"], peaks).splitlines() == [
        "| m | v3 | ... | 45.0 | 22.5% | 50.0% |", "| a plain line |"]
    assert peaks.lines().splitlines() == [
        "- v3 (isa-v3): median 90.0 GFLOP/s, 80.0-100.0 over 3 measurements",
        "- v4 (isa-v4): median 200.0 GFLOP/s, 200.0-200.0 over 1 measurement"]
