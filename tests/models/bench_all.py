"""`make bench`: each encoder's train-form export (MCi0-4 at 256x256, ViT-B/16 at 224x224),
and the reparameterized form of MCi0-2 (`export --form reparam`: the branches folded by the
model's own code, so mobilec's folding passes find nothing to fold) on the x86 targets, timed by `mobilec bench` beside onnxruntime (single thread, all its graph optimizations,
same input, interleaved rounds, medians): the generic target without and with the
optimizing passes, then each x86 target this CPU runs; on a CPU with AVX-512, the
x86-64-v3 code also beside onnxruntime limited to its AVX2 kernels (`--onnxruntime-isa
avx2`, in a process of its own: what a CPU without AVX-512 would run). Also measures
this core's peak FMA throughput per ISA (runtime/tools/peak_fma.c) for the
fraction-of-peak columns, and profiles every model on each x86 target (generic when
there is none) for its five most expensive kernels. Then two threads: the best target
(<name>_run_parallel on runtime/threadpool's pool) beside onnxruntime with two intra-op
threads, mobilec's own speed-up over its one-thread time of the same run, each kernel's
speed-up between the one- and two-thread profiling builds, and the work partitioning's
cut-off measured (runtime/tools/task_cutoff.c, compiler/cutoff.py).

And an aarch64 section: no ARM core here to time, so each NEON micro-kernel's hottest loop
is modelled by llvm-mca on five ARM cores, and the instructions one inference of MCi0 and
MCi1 executes under qemu are counted for the aarch64 target and the portable kernels
(compiler/mca.py) -- a model and a count, not a measurement.

Writes build/bench/BENCH.md (tables) and build/bench/ratios.png (bar chart of the ratios).

Usage: python tests/models/bench_all.py [--runs K] [NAME ...]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
EXPORTS = ROOT / "build" / "models" / "full"
OUT = ROOT / "build" / "bench"
MODELS = ["mci0", "mci1", "mci2", "mci3", "mci4", "vit_b16",
          "mci0_reparam", "mci1_reparam", "mci2_reparam"]
REPARAM = "_reparam"


def export(model: str) -> Path:
    """The export of `model`: an encoder's name, with _reparam for its reparameterized form."""
    path = EXPORTS / f"{model}.onnx"
    if not path.exists():
        form = ["--form", "reparam"] if model.endswith(REPARAM) else []
        proc = subprocess.run([sys.executable, "-m", "compiler.cli", "export",
                               model.removesuffix(REPARAM), "-o", str(path), "--reference",
                               *form], cwd=ROOT, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"bench: exporting {model} failed")
    return path


def bench_avx2(path: Path, model: str,
               runs: int) -> tuple[float, float, float, float, str, str]:
    """(mobilec ms, onnxruntime ms, ratio, GFLOP/s, ratio's range over the rounds, ratio of
    the fastest rounds) of x86-64-v3 code beside onnxruntime
    without AVX-512, from `mobilec bench` in a new process (one onnxruntime per process)."""
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", "bench", str(path), "--name",
                           model, "--target", "x86-64-v3", "--runs", str(runs), "-q",
                           "--onnxruntime-isa", "avx2"], cwd=ROOT, text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {model} against onnxruntime avx2 failed: {proc.stderr}")
    info, last = proc.stdout.strip().splitlines()[-2:]
    fields = dict(w.split("=") for w in (info + " " + last).split() if "=" in w)
    return (float(fields["mobilec_ms"]), float(fields["onnxruntime_ms"]),
            float(fields["ratio"]), float(fields["gflops"]), fields["round_ratios"],
            fields["best_ratio"])


def chart(rows: list[tuple[str, str, float]], path: Path) -> None:
    """Grouped bars: one group per model, one bar per configuration."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = list(dict.fromkeys(r[0] for r in rows))
    configs = list(dict.fromkeys(r[1] for r in rows))
    width = 0.8 / len(configs)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for k, cfg in enumerate(configs):
        xs = [models.index(m) + k * width for m, c, _ in rows if c == cfg]
        ys = [v for _, c, v in rows if c == cfg]
        bars = ax.bar(xs, ys, width, label=cfg)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(0.95, color="red", linewidth=0.8, linestyle="--", label="goal 0.95")
    ax.set_xticks([i + width * (len(configs) - 1) / 2 for i in range(len(models))], models)
    ax.set_yscale("log")
    ax.set_ylim(0.4, max(v for _, _, v in rows) * 1.3)
    ticks = [0.5, 1, 2, 4, 8, 16]
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_ylabel("mobilec / onnxruntime latency (log scale)")
    ax.set_title("Single-thread latency ratio (lower is better)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars
    fig.tight_layout()
    fig.savefig(path, dpi=120)


class Peaks:
    """Each target's peak FMA rate, measured again beside every model's rounds: on a shared
    VM one measurement moves by a fifth with the minute (79-98 GFLOP/s over one run on a
    Zen 3), so shares of peak are taken of the median of all measurements so far."""

    def __init__(self, targets: list[str],
                 measure: Callable[[str], tuple[float, str]] | None = None) -> None:
        """measure(target) -> (GFLOP/s, ISA name); compiler.peak's by default."""
        if measure is None:
            from compiler.peak import peak_gflops
            measure = peak_gflops
        self._measure = measure
        self.isa: dict[str, str] = {}
        self.samples: dict[str, list[float]] = {t: [] for t in targets}
        for t in targets:
            self.measure(t)

    def measure(self, target: str) -> None:
        gflops, self.isa[target] = self._measure(target)
        self.samples[target].append(gflops)
        print(f"bench: peak {target} ({self.isa[target]}) {gflops:.1f} GFLOP/s", flush=True)

    def of(self, target: str) -> float:
        return statistics.median(self.samples[target])

    def machine(self) -> float:
        return max(self.of(t) for t in self.samples)

    def lines(self) -> str:
        return "\n".join(f"- {t} ({self.isa[t]}): median {self.of(t):.1f} GFLOP/s, "
                         f"{min(v):.1f}-{max(v):.1f} over {len(v)} "
                         f"measurement{'' if len(v) == 1 else 's'}"
                         for t, v in self.samples.items())


# A table row whose last cells are shares of peak, filled in when the table is written (the
# medians of the peaks move as the run goes): (the row up to its GFLOP/s cell, GFLOP/s,
# target, whether it has the machine-peak cell too).
Row = tuple[str, float, str, bool]


def render(rows: list[str | Row], peaks: Peaks) -> str:
    out = []
    for row in rows:
        if isinstance(row, str):
            out.append(row)
            continue
        head, gflops, target, machine = row
        cells = f"{gflops / peaks.machine():.1%} | " if machine else ""
        out.append(f"{head} | {gflops:.1f} | {cells}{gflops / peaks.of(target):.1%} |")
    return "\n".join(out)


def kernel_scaling(model: str, target: str, one: list, two: list) -> str:
    """A table of each kernel label's one- and two-thread profile times."""
    total = sum(k.seconds for k in one)
    by_label = {k.label: k for k in two}
    lines = [f"\n**{model}** ({target})\n",
             "| kernel | calls | ms, 1 thread | ms, 2 threads | speed-up |", "|---|---|---|---|---|"]
    for k in one:
        if k.seconds < 0.01 * total or k.label not in by_label:
            continue
        k2 = by_label[k.label]
        lines.append(f"| {k.label} | {k.calls} | {k.seconds * 1e3:.2f} | {k2.seconds * 1e3:.2f} "
                     f"| {k.seconds / k2.seconds:.2f}x |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("models", nargs="*", default=MODELS)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    from compiler.bench import bench, machine
    from compiler.cutoff import break_even, measure
    from compiler.mca import instructions_per_inference, model_kernels, table
    from compiler.targets import TARGETS, runs_here
    x86 = [t for t in ("x86-64-v3", "x86-64-v4") if runs_here(TARGETS[t])]
    peaks = Peaks(["generic", *x86])
    arm = table(model_kernels())
    print(f"bench: aarch64 micro-kernels modelled by llvm-mca:\n{arm}", flush=True)
    counts = ["| model | aarch64 (NEON kernels) | generic (portable kernels) | ratio |",
              "|---|---|---|---|"]
    for model in [m for m in ("mci0", "mci1") if m in args.models]:
        neon, portable = (instructions_per_inference(str(export(model)), t, model)
                          for t in ("aarch64", "generic"))
        counts.append(f"| {model} | {neon / 1e9:.2f} G | {portable / 1e9:.2f} G | "
                      f"{portable / neon:.2f}x |")
        print(f"bench: {model} aarch64 instructions per inference {neon / 1e9:.2f} G, "
              f"portable {portable / 1e9:.2f} G", flush=True)
    arm_counts = "\n".join(counts)
    configs = [("generic", False), ("generic", True)] + [(t, True) for t in x86]
    avx2_too = "x86-64-v3" in x86 and "x86-64-v4" in x86
    rows: list[str | Row] = [
        "| model | target | passes | onnxruntime kernels | mobilec ms | onnxruntime ms | "
        "ratio | ratio's range over rounds | ratio of fastest rounds | GFLOP/s | "
        "of machine peak | of target's ISA peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    tops: list[str | Row] = []
    bars: list[tuple[str, str, float]] = []
    best = (x86 or ["generic"])[-1]
    two = [f"| model | target | mobilec ms, 2 threads | onnxruntime ms, 2 threads | ratio | "
           f"ratio's range over rounds | mobilec ms, 1 thread | mobilec's speed-up |",
           "|---|---|---|---|---|---|---|---|"]
    scaling: list[str] = []
    splits = measure(best)
    cut = ["| kernel | work | 1 thread us | 2 threads us | speed-up |", "|---|---|---|---|---|"]
    cut += [f"| {s.kernel} | {s.work} | {s.one_us:.2f} | {s.two_us:.2f} | {s.speedup:.2f}x |"
            for s in splits]
    even = {k: (break_even(splits, k), break_even(splits, k, 1.5)) for k in ("gemm", "add")}
    cut_summary = "\n".join(
        f"- {k} ({'multiply-adds' if k == 'gemm' else 'elements'}): two threads faster from "
        f"{lo if lo is not None else 'no size measured'} on, 1.5x faster from "
        f"{hi if hi is not None else 'no size measured'} on" for k, (lo, hi) in even.items())
    print(f"bench: task cut-off ({best}):\n{cut_summary}", flush=True)
    for model in args.models:
        path = export(model)
        reparam = model.endswith(REPARAM)  # the x86 targets only; no profile, no threads
        for target, optimize in [(t, True) for t in x86] if reparam else configs:
            profiled = optimize and target in (x86 or ["generic"]) and not reparam
            r = bench(str(path), name=model, target=target, runs=args.runs, quiet=True,
                      optimize=optimize, profile=profiled)
            peaks.measure(target)
            label = target if optimize else f"{target} --no-optimize"
            passes = 'all' if optimize else 'none (--no-optimize)'
            rows.append((f"| {model} | {target} | {passes} | as installed | "
                         f"{r.mobilec_ms:.2f} | {r.onnxruntime_ms:.2f} | {r.ratio:.3f} | "
                         f"{r.spread} | {r.best}", r.gflops, target, True))
            bars.append((model, label, r.ratio))
            if optimize and target == best and not reparam:
                r2 = bench(str(path), name=model, target=target, runs=args.runs, quiet=True,
                           threads=2, profile=True)
                scaling.append(kernel_scaling(model, target, r.kernels, r2.kernels))
                two.append(f"| {model} | {target} | {r2.mobilec_ms:.2f} | "
                           f"{r2.onnxruntime_ms:.2f} | {r2.ratio:.3f} | {r2.spread} | "
                           f"{r2.one_thread_ms:.2f} | {r2.speedup:.2f}x |")
                print(f"bench: {model} {target} 2 threads ratio={r2.ratio:.3f} speed-up "
                      f"{r2.speedup:.2f}x", flush=True)
            if avx2_too and target == "x86-64-v3":
                ms, theirs, ratio, gflops, spread, best_ratio = bench_avx2(path, model,
                                                                           args.runs)
                peaks.measure(target)
                rows.append((f"| {model} | {target} | all | AVX2 only (--onnxruntime-isa "
                             f"avx2) | {ms:.2f} | {theirs:.2f} | {ratio:.3f} | {spread} | "
                             f"{best_ratio}", gflops, target, True))
                bars.append((model, f"{target} vs onnxruntime AVX2 only", ratio))
                print(f"bench: {model} {label} vs onnxruntime avx2 ratio={ratio:.3f}", flush=True)
            if r.kernels:
                total = sum(k.seconds for k in r.kernels)
                tops.append(f"\n**{model}** ({target}, {r.macs / 1e9:.2f} GMAC per inference, "
                            f"kernel time {total * 1e3:.1f} ms)\n\n"
                            "| kernel | calls | ms | share | GFLOP/s | of target's ISA peak |\n"
                            "|---|---|---|---|---|---|")
                for k in r.kernels[:5]:
                    tops.append((f"| {k.label} | {k.calls} | {k.seconds * 1e3:.2f} | "
                                 f"{k.seconds / total:.1%}", k.gflops, target, False))
            (OUT / "BENCH.md").write_text(
                "# mobilec vs onnxruntime, single thread\n\n"
                f"Machine: {machine()}.\n\n"
                "ratio = mobilec / onnxruntime (lower is better); medians of "
                f"{args.runs} interleaved rounds; the ratio of the fastest rounds is "
                "mobilec's fastest round over onnxruntime's (a shared machine's load only "
                "adds time: ARCHITECTURE.md, 'Speed measurement'). GFLOP/s counts the multiply-adds of "
                "convolutions, matmuls and attention (2 flops each) over mobilec's median "
                "latency. Peak: one core running independent FMA chains "
                "(runtime/tools/peak_fma.c), measured at the start and after each model's "
                "rounds on its target; shares are of the median. onnxruntime kernels: "
                "'as installed' picks them by this CPU (AVX-512 where it has it, whatever "
                "mobilec's target); 'AVX2 only' is a copy of it that sees no AVX-512 state "
                "(compiler/ort_isa.py) -- what a CPU of the x86-64-v3 level would run:\n\n"
                f"{peaks.lines()}\n\n" + render(rows, peaks) + "\n\n"
                "## Two threads\n\n"
                "The generated code on two threads of runtime/threadpool's pool "
                "(<name>_run_parallel) beside onnxruntime with two intra-op threads, "
                "interleaved rounds, medians; mobilec on one thread is timed in the same "
                "rounds (its median here), and the speed-up is that over the two-thread "
                "median: times taken side by side, since this machine's two-thread speed "
                "drifts between runs.\n\n" + "\n".join(two) + "\n\n"
                "Each kernel's speed-up: its time in the one-thread profiling build over its "
                "time in the two-thread one (kernels of at least 1% of the one-thread time; "
                "the profiling builds time each call on the calling thread, so the numbers "
                "are noisier than the end-to-end ones).\n" + "\n".join(scaling) + "\n\n"
                "### The work partitioning's cut-off\n\n"
                f"A GEMM (m x 64 x 128, the packed matmul) and an elementwise add, each call "
                f"split into two tasks whatever its size, on one thread and on two "
                f"({best}; runtime/tools/task_cutoff.c, medians of 15 interleaved rounds). "
                f"config.h's MCR_TASK_MIN_MACS and MCR_TASK_MIN_ELEMENTS are the work per "
                f"task below which a kernel stays on fewer threads: about half the "
                f"break-even work.\n\n" + cut_summary + "\n\n" + "\n".join(cut) + "\n\n"
                "## Five most expensive kernels per model and target (profiling build)\n"
                + render(tops, peaks) + "\n\n![ratios](ratios.png)\n\n"
                "## aarch64: the NEON micro-kernels in llvm-mca's models (not measured)\n\n"
                "No ARM core here to time them: each NEON micro-kernel's hottest inner loop "
                "(the innermost loop with the most FMLAs, from the assembly of the aarch64 "
                "target's build) through llvm-mca-16 with each core's scheduling model. "
                "Cells: cycles per iteration, and the loop's FMA-throughput bound (llvm-mca's "
                "block reciprocal throughput of its FMLAs alone) as a share of them "
                "(compiler/mca.py). A model, not a measurement.\n\n" + arm + "\n\n"
                "Instructions one inference executes under qemu-aarch64 (a plugin counts "
                "them, runtime/tools/qemu_icount.c; the run with two inferences minus the "
                "run with one), the aarch64 target against the same code with the portable "
                "micro-kernels (generic, -DMCR_PORTABLE): a rougher sign, an instruction "
                "is not a cycle.\n\n" + arm_counts + "\n")
            chart(bars, OUT / "ratios.png")
            print(f"bench: {model} {label} ratio={r.ratio:.3f} gflops={r.gflops:.1f}", flush=True)
    print(f"bench: table in {OUT / 'BENCH.md'}, chart in {OUT / 'ratios.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
