"""`make bench`: each encoder's train-form export (MCi at 256x256, ViT-B/16 at 224x224),
timed by `mobilec bench` beside onnxruntime (single thread, all its graph optimizations,
same input, interleaved rounds, medians): the generic target without and with the
optimizing passes, then each x86 target this CPU runs. Writes build/bench/BENCH.md.

Usage: python tests/models/bench_all.py [--runs K] [NAME ...]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
EXPORTS = ROOT / "build" / "models" / "full"
OUT = ROOT / "build" / "bench"
MODELS = ["mci0", "mci1", "mci2", "vit_b16"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT,
                          capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("models", nargs="*", default=MODELS)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    from compiler.targets import TARGETS, runs_here
    configs = [("generic", ["--no-optimize"]), ("generic", [])]
    configs += [(t, []) for t in ("x86-64-v3", "x86-64-v4") if runs_here(TARGETS[t])]
    rows = ["| model | target | passes | mobilec ms | onnxruntime ms | ratio |",
            "|---|---|---|---|---|---|"]
    for model in args.models:
        path = EXPORTS / f"{model}.onnx"
        if not path.exists():
            proc = cli("export", model, "-o", str(path), "--reference")
            if proc.returncode != 0:
                print(proc.stderr[-2000:])
                return 1
        for target, flags in configs:
            proc = cli("bench", str(path), "--name", model, "--runs", str(args.runs), "-q",
                       "--target", target, *flags)
            line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            print(line or proc.stderr[-2000:], flush=True)
            m = re.search(r"mobilec_ms=([\d.]+) onnxruntime_ms=([\d.]+) ratio=([\d.]+)", line)
            if not m:
                return 1
            rows.append(f"| {model} | {target} | {'none (--no-optimize)' if flags else 'all'} | "
                        f"{m[1]} | {m[2]} | {m[3]} |")
            (OUT / "BENCH.md").write_text(
                "# mobilec vs onnxruntime, single thread\n\n"
                "ratio = mobilec / onnxruntime (lower is better); medians of interleaved rounds.\n\n"
                + "\n".join(rows) + "\n")
    print(f"bench: table in {OUT / 'BENCH.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
