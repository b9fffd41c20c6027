"""`make models` (third part): `mobilec diff` on every encoder at full resolution (train
form, the exports of fidelity.py): tensors compared and fused, the worst relative error and
where, the worst kernel when each runs on onnxruntime's inputs (--isolate), and the time a
diff takes; the error-against-depth plot of each. Writes build/models/diff/DIFF.md.

Usage: python tests/models/diff_report.py [--target T] [MODEL ...]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "build" / "models" / "fidelity"
OUT = ROOT / "build" / "models" / "diff"


def run_diff(model: str, target: str,
             *flags: str) -> tuple[dict, str, float]:  # type: ignore[type-arg]
    path = EXPORTS / f"{model}.onnx"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "compiler.cli", "export", model, "-o", str(path),
                        "--reference"], cwd=ROOT, check=True)
    js = OUT / f"{model}{'_isolate' if flags else ''}.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", "diff", str(path), "-q",
                           "--target", target, "--input", str(path.with_suffix("")) + "_input.bin",
                           "--json", str(js), "--plot", str(js.with_suffix(".png")), *flags],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{model}: {last}")
    return json.loads(js.read_text()), last, seconds


def worst(doc: dict) -> str:  # type: ignore[type-arg]
    rows = [r for r in doc["rows"] if r["compared"]]
    r = max(rows, key=lambda r: float(r["rel"]))
    return f"{float(r['rel']):.2e} at `{r['tensor']}` ({r['op']}, {r['kernel']})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="x86-64-v4")
    ap.add_argument("models", nargs="*", default=["mci0", "mci1", "mci2", "mci3", "mci4",
                                                  "vit_b16"])
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [f"# mobilec diff, target {args.target}", "",
             "| encoder | verdict | compared / fused | worst relative error | seconds | "
             "--isolate: worst kernel | seconds |", "|---|---|---|---|---|---|---|"]
    for model in args.models:
        doc, last, secs = run_diff(model, args.target)
        iso, iso_last, iso_secs = run_diff(model, args.target, "--isolate")
        m = re.match(r"diff: no divergence \((\d+) tensors compared, (\d+) fused\)", last)
        counts = f"{m[1]} / {m[2]}" if m else "-"
        verdict = "no divergence" if m else last
        lines.append(f"| {model} | {verdict} | {counts} | {worst(doc)} | {secs:.0f} | "
                     f"{worst(iso)} | {iso_secs:.0f} |")
        print(lines[-1], flush=True)
    lines += ["", f"Plots: {OUT.relative_to(ROOT)}/<encoder>.png (error against depth), "
              "<encoder>_isolate.png (each kernel on onnxruntime's inputs)."]
    (OUT / "DIFF.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
