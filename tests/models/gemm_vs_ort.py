"""One linear layer, m pixels (or rows) x k channels -> n: mobilec's GEMM beside
onnxruntime's 1x1 Conv or Gemm, inside one process.

Each tree's runtime is built into a shared library (the target's flags; shared_lib.py) and
called through ctypes as the generated code calls it for a 1x1 conv or a linear layer
(`mcr_matmul_packed_f32`, weights in panels, bias, no epilogue); onnxruntime runs a
one-node model on the same data: with --op conv (the default) the 1x1 Conv (NCHW in, NCHWc
inside: its 1x1 kernel; MCi's convolutional stages), with --op gemm a Gemm with constant
weights (its pre-packed SGEMM; ViT-B/16's linear layers). Rounds alternate: a few calls of
each tree, then a few of onnxruntime, whose times are its node's own kernel times from its
profiler (no session overhead, no layout reorders). Prints per tree the median and fastest
call, onnxruntime's, their ratios, and the largest difference from onnxruntime's output.
Operands stay warm (the same buffers every call): this compares kernels, not a model's
memory traffic. One thread on both sides.

Why: per-call comparisons across two processes moved by a quarter with the minute on a
shared VM (ARCHITECTURE.md, "Speed measurement"); within one process both sides see the
same minute.

Usage: python tests/models/gemm_vs_ort.py TREE[,TREE...] M K N [--op conv|gemm]
[--rounds R] [--target T] (M a square number of pixels for conv; a tree: a checkout of
mobilec, e.g. `git worktree add /tmp/old HEAD~1`).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from compiler.lower.matmul import pack_panels  # noqa: E402
from compiler.targets import resolve, runs_here  # noqa: E402
from shared_lib import build_shared  # noqa: E402

CALLS = 3  # calls of each side per round


def one_node_model(op: str, w: np.ndarray, bias: np.ndarray, m: int) -> bytes:
    """A one-node ONNX model of weights w [n][k]: a 1x1 Conv over m pixels (a square) in
    NCHW, or a Gemm of m rows by the transposed weights."""
    n, k = w.shape
    if op == "conv":
        side = math.isqrt(m)
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"])
        w, shape_x, shape_y = w.reshape(n, k, 1, 1), [1, k, side, side], [1, n, side, side]
    else:
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
        shape_x, shape_y = [m, k], [m, n]
    g = helper.make_graph(
        [node], op,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape_x)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape_y)],
        [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(bias, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m.SerializeToString()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", help="mobilec checkouts, comma-separated")
    ap.add_argument("m", type=int, help="pixels (a square for --op conv) or rows")
    ap.add_argument("k", type=int, help="input channels")
    ap.add_argument("n", type=int, help="output channels")
    ap.add_argument("--op", choices=("conv", "gemm"), default="conv",
                    help="onnxruntime's side: a 1x1 Conv (NCHWc inside; the default) or a "
                         "Gemm (its packed SGEMM, as in ViT-B/16's linear layers)")
    ap.add_argument("--target", default="native")
    ap.add_argument("--rounds", type=int, default=40, help=f"rounds of {CALLS} calls each")
    args = ap.parse_args()
    if args.m < 1 or args.k < 1 or args.n < 1:
        raise SystemExit("gemm_vs_ort: M, K and N must be positive")
    if args.op == "conv" and math.isqrt(args.m) ** 2 != args.m:
        raise SystemExit("gemm_vs_ort: with --op conv, M must be a square number of pixels")
    if args.rounds < 1:
        raise SystemExit("gemm_vs_ort: --rounds must be at least 1")
    if not runs_here(resolve(args.target)):
        raise SystemExit(f"gemm_vs_ort: this machine cannot run {args.target} code")
    import onnxruntime as ort

    m, k, n = args.m, args.k, args.n
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((n, k)) / math.sqrt(k)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    a = rng.standard_normal((m, k)).astype(np.float32)  # NHWC pixels, or rows: [m][k]
    x = np.ascontiguousarray(a.T.reshape(1, k, math.isqrt(m), -1) if args.op == "conv" else a)
    bp = pack_panels(np.ascontiguousarray(w.T))  # as the compiler packs weights
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    with tempfile.TemporaryDirectory(prefix="mobilec-gemm-vs-ort-") as tmp:
        fns, outs = [], []
        for t in trees:
            lib = build_shared("gemm_vs_ort", t, args.target,
                               Path(tmp) / f"{len(fns)}_{t.name}.so")
            fn = ctypes.CDLL(str(lib)).mcr_matmul_packed_f32
            fn.restype = None
            fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_long] * 5 + [ctypes.c_void_p] * 2
            fns.append(fn)
            outs.append(np.zeros((m, n), np.float32))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmp) / "ort")
        sess = ort.InferenceSession(one_node_model(args.op, w, bias, m), opts,
                                    providers=["CPUExecutionProvider"])
        y = sess.run(None, {"x": x})[0]
        ref = y[0].reshape(n, m).T if args.op == "conv" else y  # [m][n] either way
        ours: list[list[float]] = [[] for _ in trees]
        for r in range(args.rounds):
            for fn, c, times in zip(fns, outs, ours):
                for _ in range(CALLS):
                    t0 = time.perf_counter()
                    fn(a.ctypes.data, bp.ctypes.data, bias.ctypes.data, c.ctypes.data, m, k, n,
                       k, n, None, None)
                    times.append((time.perf_counter() - t0) * 1e3)
            for _ in range(CALLS):
                sess.run(None, {"x": x})
        events = json.loads(Path(sess.end_profiling()).read_text())
    # the node's kernel times, past the first run (the reference above: page faults)
    op = {"conv": "Conv", "gemm": "Gemm"}[args.op]
    theirs = [e["dur"] / 1e3 for e in events if e.get("cat") == "Node"
              and e["name"].endswith("_kernel_time")
              and e["args"].get("op_name") in (op, "Fused" + op)][1:]
    if not theirs:
        raise SystemExit(f"gemm_vs_ort: onnxruntime's profile holds no {op} kernel time")
    med_o, min_o = statistics.median(theirs), min(theirs)
    print(f"gemm_vs_ort: {m}x{k}x{n} {args.target}, {args.rounds} rounds of {CALLS} calls: "
          f"onnxruntime {op} median {med_o:.4g} ms fastest {min_o:.4g}")
    for t, times, c in zip(trees, ours, outs):
        med, fast = statistics.median(times), min(times)
        print(f"  {t}: median {med:.4g} ms fastest {fast:.4g} | /onnxruntime median "
              f"{med / med_o:.3f} fastest {fast / min_o:.3f} | max|diff| "
              f"{float(np.abs(c - ref).max()):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
