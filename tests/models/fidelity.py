"""`make models` (second part): how far mobilec and onnxruntime are from float64, per
encoder and target, over several inputs -- one input's max|diff|/max|ref| moves by tens of
percent with the input, so a comparison on one input can say either.

For each encoder (train form, random weights of seed 0, full resolution): the export's
reference input and N-1 more random images; float64 PyTorch outputs of the same model
(built as the exporter builds it); onnxruntime (graph optimizations off, as `verify`) and
the generated code of every target this machine runs, each compared with float64.
Writes build/models/fidelity/FIDELITY.md.

Usage: python tests/models/fidelity.py [--inputs N] [MODEL ...]   (e.g. mci4 vit_b16)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from compiler.export import MODELS, build_model  # noqa: E402
from compiler.pipeline import compile_file  # noqa: E402
from compiler.targets import resolve, runs_here  # noqa: E402
from compiler.verify import build_driver, compare, onnxruntime_session, run_driver  # noqa: E402

OUT = ROOT / "build" / "models" / "fidelity"
TARGETS = ["generic", "x86-64-v3", "x86-64-v4"]


def rel(got: np.ndarray, ref: np.ndarray) -> float:
    return compare("embedding", got, ref).rel


def measure(model: str, n: int) -> dict[str, list[float]]:
    """{row label: [relative error per input]}; input 0 is the export's reference."""
    import torch
    res = MODELS[model][1]
    path = OUT / f"{model}.onnx"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "compiler.cli", "export", model, "-o", str(path),
                        "--reference"], cwd=ROOT, check=True)
    stem = str(path.with_suffix(""))
    rng = np.random.default_rng(123)
    xs = [np.fromfile(stem + "_input.bin", dtype="<f4").reshape(1, 3, res, res)]
    xs += [rng.random((1, 3, res, res)).astype(np.float32) for _ in range(n - 1)]
    net = build_model(model, res, 0, None).eval().double()
    with torch.no_grad():
        refs = [net(torch.from_numpy(x.astype(np.float64))).numpy() for x in xs]
    exported = np.fromfile(stem + "_output_fp64.bin", dtype="<f8").reshape(refs[0].shape)
    if rel(refs[0], exported) > 1e-9:  # the model rebuilt here is the one exported
        raise SystemExit(f"{model}: float64 output differs from the export's")
    sess = onnxruntime_session(str(path))
    name = sess.get_inputs()[0].name
    rows = {"onnxruntime": [rel(sess.run(None, {name: x})[0], r) for x, r in zip(xs, refs)]}
    for target in TARGETS:
        if not runs_here(resolve(target)):
            continue
        compiled = compile_file(str(path), model, target)
        shape = compiled.graph.t(compiled.graph.outputs[0]).shape
        with tempfile.TemporaryDirectory() as tmp:
            exe = build_driver(compiled, Path(tmp))
            got = [run_driver(exe, [x], [shape], Path(tmp))[0][0] for x in xs]
        rows[f"mobilec {target}"] = [rel(g, r) for g, r in zip(got, refs)]
        print(f"{model} {target}: input 0 {rows[f'mobilec {target}'][0]:.2e}, mean "
              f"{np.mean(rows[f'mobilec {target}']):.2e} (onnxruntime "
              f"{rows['onnxruntime'][0]:.2e}, {np.mean(rows['onnxruntime']):.2e})", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=6)
    ap.add_argument("models", nargs="*", default=["mci0", "mci1", "mci2", "mci3", "mci4",
                                                  "vit_b16"])
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lines = ["# Error against float64 (max|diff| / max|ref| of the embedding)", "",
             f"Train form, random weights (seed 0), full resolution; input 0 is the export's "
             f"reference input, the mean is over {args.inputs} inputs.", "",
             "| encoder | " + " | ".join(["onnxruntime"] + [f"mobilec {t}" for t in TARGETS]) +
             " |", "|---" * (len(TARGETS) + 2) + "|"]
    for model in args.models:
        rows = measure(model, args.inputs)
        cells = [f"{rows[k][0]:.2e} / {np.mean(rows[k]):.2e}" if k in rows else "not run here"
                 for k in ["onnxruntime"] + [f"mobilec {t}" for t in TARGETS]]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: input 0 / mean over the inputs."]
    (OUT / "FIDELITY.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
