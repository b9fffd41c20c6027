"""`make bench`: each encoder's train-form export (MCi at 256x256, ViT-B/16 at 224x224),
timed by `mobilec bench` beside onnxruntime (single thread, same input, interleaved
rounds, medians), with and without the optimizing passes. Writes build/bench/BENCH.md.

Usage: python tests/models/bench_all.py [--runs K] [NAME ...]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
    rows = ["| model | passes | mobilec ms | onnxruntime ms | ratio |", "|---|---|---|---|---|"]
    for model in args.models:
        path = EXPORTS / f"{model}.onnx"
        if not path.exists():
            proc = cli("export", model, "-o", str(path), "--reference")
            if proc.returncode != 0:
                print(proc.stderr[-2000:])
                return 1
        for flags in ([], ["--no-optimize"]):
            proc = cli("bench", str(path), "--name", model, "--runs", str(args.runs), "-q", *flags)
            line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            print(line or proc.stderr[-2000:], flush=True)
            m = re.search(r"mobilec_ms=([\d.]+) onnxruntime_ms=([\d.]+) ratio=([\d.]+)", line)
            if not m:
                return 1
            rows.append(f"| {model} | {'none (--no-optimize)' if flags else 'all'} | {m[1]} | "
                        f"{m[2]} | {m[3]} |")
            (OUT / "BENCH.md").write_text(
                "# mobilec vs onnxruntime, single thread, target generic\n\n"
                "ratio = mobilec / onnxruntime (lower is better); medians of interleaved rounds.\n\n"
                + "\n".join(rows) + "\n")
    print(f"bench: table in {OUT / 'BENCH.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
