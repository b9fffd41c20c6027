"""compiler/bench.py's summaries of the timed rounds (no timing here: test_cli.py runs
`mobilec bench` itself)."""
from __future__ import annotations

from compiler.bench import BenchResult


def test_best_ratio_is_fastest_round_over_fastest_round() -> None:
    """Not the smallest per-round ratio: each side's own fastest round, whichever round
    it came in (the load that slows one side in a round need not slow the other)."""
    r = BenchResult("m", "generic", mobilec_ms=12.0, onnxruntime_ms=20.0, macs=1,
                    mobilec_rounds=[10.0, 12.0, 14.0], onnxruntime_rounds=[30.0, 20.0, 16.0])
    assert r.best_ratio == 10.0 / 16.0
    assert r.best == "0.625"
    assert r.round_ratios == [10 / 30, 12 / 20, 14 / 16]
    assert r.spread == "0.333-0.875"


def test_best_ratio_without_rounds() -> None:
    r = BenchResult("m", "generic", mobilec_ms=1.0, onnxruntime_ms=2.0, macs=1)
    assert r.best_ratio is None and r.best == "-" and r.spread == "-"
