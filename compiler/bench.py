"""mobilec bench: time the generated code and onnxruntime on the same input, interleaved,
and report medians and their ratio. Timing lives here, never in the tests."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from .pipeline import compile_file
from .verify import build_driver, make_inputs, onnxruntime_session, run_driver


def bench(model: str, *, name: str = "model", target: str = "generic", runs: int = 5,
          threads: int = 1, input_shapes: dict[str, tuple[int, ...]] | None = None,
          quiet: bool = False, weights: str = "auto", optimize: bool = True) -> tuple[float, float]:
    """Median latency in ms of (mobilec, onnxruntime), single input, `runs` rounds.

    Each round runs the generated program once (two inferences, the first a warm-up whose
    page faults on the weights are not counted) and onnxruntime once (after one warm-up
    before the first round), so that both see the same machine noise."""
    compiled = compile_file(model, name, target, input_shapes, quiet=quiet, weights=weights,
                            optimize=optimize)
    g = compiled.graph
    xs = make_inputs(compiled, 0)
    shapes = [g.t(o).shape for o in g.outputs]
    sess = onnxruntime_session(model, optimize=True, threads=threads)
    feed = {i.name: x for i, x in zip(sess.get_inputs(), xs)}
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mobilec-bench-") as d:
        exe = build_driver(compiled, Path(d))
        sess.run(None, feed)
        for r in range(runs):
            _, times = run_driver(exe, xs, shapes, Path(d), runs=2)
            ours.append(times[-1])
            t0 = time.perf_counter()
            sess.run(None, feed)
            theirs.append((time.perf_counter() - t0) * 1e3)
            if not quiet:
                print(f"mobilec: bench round {r + 1}/{runs}: mobilec {ours[-1]:.1f} ms, "
                      f"onnxruntime {theirs[-1]:.1f} ms", file=sys.stderr, flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"bench: {name} target={compiled.target}{'' if optimize else ' no-optimize'} threads={threads} mobilec_ms={a:.2f} "
          f"onnxruntime_ms={b:.2f} ratio={a / b:.3f}")
    return a, b
