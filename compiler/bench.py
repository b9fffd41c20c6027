"""mobilec bench: time the generated code and onnxruntime on the same input, interleaved,
and report medians and their ratio; with profile, also the time per kernel. Timing lives
here, never in the tests."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .ort_isa import load as load_onnxruntime
from .pipeline import Compiled, compile_file
from .errors import MobilecError
from .profile import KernelTime, by_label, total_macs
from .targets import host_arch, is_foreign, resolve
from .verify import build_driver, make_inputs, onnxruntime_session, run_driver, times_ms


@dataclass
class BenchResult:
    name: str
    target: str
    mobilec_ms: float
    onnxruntime_ms: float
    macs: int  # multiply-adds of one inference (convolutions, matmuls, attention)
    onnxruntime_isa: str = "native"  # ort_isa.ISAS
    kernels: list[KernelTime] = field(default_factory=list)  # with profile=True
    # each interleaved round's time of each side (ms)
    mobilec_rounds: list[float] = field(default_factory=list)
    onnxruntime_rounds: list[float] = field(default_factory=list)
    # with threads > 1: the same program on one thread in the same rounds (median), so
    # that the speed-up compares times taken side by side
    one_thread_ms: float | None = None

    @property
    def speedup(self) -> float | None:
        """mobilec's one-thread median over its multi-thread one (threads > 1 only)."""
        return self.one_thread_ms / self.mobilec_ms if self.one_thread_ms else None

    @property
    def round_ratios(self) -> list[float]:
        """Each interleaved round's ratio, mobilec over onnxruntime."""
        return [a / b for a, b in zip(self.mobilec_rounds, self.onnxruntime_rounds)]

    @property
    def spread(self) -> str:
        """The ratio's range over the rounds, "min-max"."""
        if not self.round_ratios:
            return "-"
        return f"{min(self.round_ratios):.3f}-{max(self.round_ratios):.3f}"

    @property
    def ratio(self) -> float:
        return self.mobilec_ms / self.onnxruntime_ms

    @property
    def best_ratio(self) -> float | None:
        """mobilec's fastest round over onnxruntime's. Another tenant's load only ever adds
        time, so on a shared machine whose speed drifts by a quarter over tens of seconds
        (ARCHITECTURE.md, "Speed measurement") the fastest rounds say what each side does
        unloaded, and the median ratio how it bears this machine's load."""
        if not self.mobilec_rounds or not self.onnxruntime_rounds:
            return None
        return min(self.mobilec_rounds) / min(self.onnxruntime_rounds)

    @property
    def best(self) -> str:
        """best_ratio as printed: three decimals, or "-" without rounds."""
        return "-" if self.best_ratio is None else f"{self.best_ratio:.3f}"

    @property
    def gflops(self) -> float:
        return 2 * self.macs / (self.mobilec_ms * 1e-3) / 1e9


def bench(model: str, *, name: str = "model", target: str = "generic", runs: int = 5,
          threads: int = 1, input_shapes: dict[str, tuple[int, ...]] | None = None,
          quiet: bool = False, weights: str = "auto", optimize: bool = True,
          profile: bool = False, profile_shapes: bool = False,
          onnxruntime_isa: str = "native") -> BenchResult:
    """Median latency in ms of (mobilec, onnxruntime), single input, `runs` rounds.

    Each round runs the generated program once (two inferences, the first a warm-up whose
    page faults on the weights are not counted) and onnxruntime once (after one warm-up
    before the first round), so that both see the same machine noise. With threads, a
    round times three inferences on each side and takes their median, after two warm-ups
    of the generated program (its new worker threads may start on the caller's core
    until the scheduler spreads them) and a 50 ms pause after onnxruntime's (whose
    workers spin for a while after a run): two-thread times on a shared machine move by
    tens of percent between single inferences; each round then also times the program on
    one thread (one_thread_ms, speedup: the speed-up from times taken side by side, as
    the machine's load drifts). With `profile`,
    a separate build timing every kernel call (-DMOBILEC_PROFILE) then runs `runs`
    inferences after a warm-up; its per-kernel times are summed per kernel label (with
    `profile_shapes`, per label and the call's input and output shapes).
    `onnxruntime_isa` "avx2" times onnxruntime without its AVX-512 kernels (ort_isa)."""
    tgt = resolve(target)
    if is_foreign(tgt):
        raise MobilecError(f"cannot time {tgt.name} code on this {host_arch()} machine: qemu "
                           "runs it for results, not speed (make bench models the aarch64 "
                           "micro-kernels with llvm-mca instead)")
    load_onnxruntime(onnxruntime_isa)
    compiled = compile_file(model, name, target, input_shapes, quiet=quiet, weights=weights,
                            optimize=optimize)
    g = compiled.graph
    xs = make_inputs(compiled, 0)
    shapes = [g.t(o).shape for o in g.outputs]
    sess = onnxruntime_session(model, optimize=True, threads=threads)
    feed = {i.name: x for i, x in zip(sess.get_inputs(), xs)}
    ours: list[float] = []
    theirs: list[float] = []
    single: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mobilec-bench-") as d:
        exe = build_driver(compiled, Path(d))
        sess.run(None, feed)
        warm, timed = (1, 1) if threads == 1 else (2, 3)
        for r in range(runs):
            _, lines = run_driver(exe, xs, shapes, Path(d), runs=warm + timed,
                                  env={"MOBILEC_THREADS": str(threads)})
            ours.append(statistics.median(times_ms(lines)[warm:]))
            if threads > 1:
                _, lines = run_driver(exe, xs, shapes, Path(d), runs=2,
                                      env={"MOBILEC_THREADS": "1"})
                single.append(times_ms(lines)[-1])
            ts = []
            for _ in range(timed):
                t0 = time.perf_counter()
                sess.run(None, feed)
                ts.append((time.perf_counter() - t0) * 1e3)
            theirs.append(statistics.median(ts))
            if threads > 1:
                time.sleep(0.05)
            if not quiet:
                print(f"mobilec: bench round {r + 1}/{runs}: mobilec {ours[-1]:.1f} ms, "
                      f"onnxruntime {theirs[-1]:.1f} ms", file=sys.stderr, flush=True)
    result = BenchResult(name, compiled.target, statistics.median(ours),
                         statistics.median(theirs), total_macs(g.nodes), onnxruntime_isa,
                         mobilec_rounds=ours, onnxruntime_rounds=theirs,
                         one_thread_ms=statistics.median(single) if single else None)
    if profile or profile_shapes:
        result.kernels = profile_kernels(compiled, xs, runs, quiet, threads, profile_shapes)
        print_profile(result)
    print(f"mobilec: {name} target={compiled.target}{'' if optimize else ' no-optimize'} "
          f"onnxruntime_isa={onnxruntime_isa} threads={threads} runs={runs} "
          f"macs={result.macs} gflops={result.gflops:.1f}")
    scaling = (f" one_thread_ms={result.one_thread_ms:.2f} speedup={result.speedup:.2f}"
               if result.speedup else "")
    print(f"bench: {name} mobilec_ms={result.mobilec_ms:.2f} "
          f"onnxruntime_ms={result.onnxruntime_ms:.2f} ratio={result.ratio:.3f} "
          f"round_ratios={result.spread} best_ratio={result.best}{scaling}")
    return result


def machine() -> str:
    """This CPU's model name, family and model numbers (a VM's "AMD EPYC" names no
    generation: family 25 model 1 is Zen 3) and its caches as Linux reports them, for bench
    reports (timings move with the cache sizes: ARCHITECTURE.md, "Summation")."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if not key.strip():
                break  # the first processor's block ends
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    cpu = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        cpu += f" (family {fields['cpu family']}, model {fields['model']})"
    caches = []
    for d in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind, size = ((d / f).read_text().strip() for f in ("level", "type", "size"))
        except OSError:
            continue
        caches.append(f"L{level}{'d' if kind == 'Data' else 'i' if kind == 'Instruction' else ''}"
                      f" {size}")
    return f"{cpu}; caches per core: {', '.join(caches) or 'not reported'}"


def profile_kernels(compiled: Compiled, xs: list[np.ndarray], runs: int,
                    quiet: bool, threads: int = 1,
                    shapes: bool = False) -> list[KernelTime]:
    """Seconds per kernel label (per label and shapes with `shapes`), from a
    -DMOBILEC_PROFILE build (mean over `runs`) run
    on `threads` threads (each call's wall time). With threads, three such processes and
    each call's median of them: one process's mean moves by a third between processes
    on this shared machine."""
    g = compiled.graph
    if not quiet:
        print("mobilec: building and running the profiling build", file=sys.stderr, flush=True)
    per_process = []
    with tempfile.TemporaryDirectory(prefix="mobilec-profile-") as d:
        exe = build_driver(compiled, Path(d), extra_flags=["-DMOBILEC_PROFILE"])
        for _ in range(1 if threads == 1 else 3):
            _, lines = run_driver(exe, xs, [g.t(o).shape for o in g.outputs], Path(d),
                                  runs=runs + 1, env={"MOBILEC_THREADS": str(threads)})
            per_process.append([float(ln.split()[2]) for ln in lines
                                if ln.startswith("profile ")])
    seconds = [statistics.median(call) for call in zip(*per_process)]
    return by_label(g.nodes, seconds, g if shapes else None)


def print_profile(result: BenchResult) -> None:
    total = sum(k.seconds for k in result.kernels) or 1.0
    width = max([28] + [len(k.label) for k in result.kernels])
    print(f"{'kernel':<{width}} {'calls':>5} {'ms':>8} {'share':>6} {'GFLOP/s':>8}")
    for k in result.kernels:
        print(f"{k.label:<{width}} {k.calls:>5} {k.seconds * 1e3:>8.2f} "
              f"{k.seconds / total:>6.1%} {k.gflops:>8.1f}")
