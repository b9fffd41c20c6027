"""Fuzzing `mobilec compile` with malformed models: a seeded generator of mutations of small
valid graphs, structure-aware (dims, element types, initializer bytes, attributes, ops,
edges, outputs, opsets, names) and byte-level (flips, truncations, splices).

Every case must end in one of two ways:
- exit 2 with exactly one `mobilec: error:` line, no traceback, and no output file;
- exit 0 with C that builds with -Werror and runs clean under ASan and UBSan.

Each case runs `mobilec compile` in a forked child (cheap after the imports) under a
memory limit and a time limit. `make fuzz` runs thousands; `make test` a few hundred
(tests/fuzz/test_fuzz.py). Usage: python tests/fuzz/fuzz.py [--cases N] [--seed S]
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MEMORY_LIMIT = 4 << 30  # bytes of address space per case
FILE_LIMIT = 1 << 30  # bytes per file a case may write
TIME_LIMIT = 60  # seconds per case


# --- seeds: small valid graphs covering the op families ----------------------------------

def _model(nodes: list[onnx.NodeProto], inputs: list[tuple[str, list[int]]], outputs: list[str],
           inits: dict[str, np.ndarray], opset: int = 17) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "seed",
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_empty_tensor_value_info(o) for o in outputs],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return onnx.shape_inference.infer_shapes(m)


def seeds() -> list[onnx.ModelProto]:
    r = np.random.default_rng(0)
    f = lambda *s: r.standard_normal(s).astype(np.float32)  # noqa: E731
    return [
        _model([helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1],
                                 strides=[1, 1], name="conv"),
                helper.make_node("Relu", ["c"], ["y"], name="relu")],
               [("x", [1, 3, 8, 8])], ["y"], {"w": f(4, 3, 3, 3), "b": f(4)}),
        _model([helper.make_node("Conv", ["x", "w"], ["y"], group=4, kernel_shape=[3, 3],
                                 pads=[1, 1, 1, 1], name="dw")],
               [("x", [1, 4, 6, 6])], ["y"], {"w": f(4, 1, 3, 3)}),
        _model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1, 3], name="tr"),
                helper.make_node("Gather", ["t", "i"], ["y"], axis=1, name="ga")],
               [("x", [1, 3, 4, 5])], ["y"], {"i": np.array(1, np.int64)}),
        _model([helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
                helper.make_node("Add", ["m", "b"], ["a"], name="add"),
                helper.make_node("Softmax", ["a"], ["y"], axis=-1, name="sm")],
               [("x", [2, 5, 6])], ["y"], {"w": f(6, 7), "b": f(7)}),
        _model([helper.make_node("Shape", ["x"], ["s"], name="shape"),
                helper.make_node("Gather", ["s", "z"], ["n"], axis=0, name="g0"),
                helper.make_node("Unsqueeze", ["n", "ax"], ["n1"], name="unsq"),
                helper.make_node("Concat", ["n1", "rest"], ["shp"], axis=0, name="cat"),
                helper.make_node("Reshape", ["x", "shp"], ["y"], name="reshape")],
               [("x", [2, 3, 4])], ["y"], {"z": np.array(0, np.int64), "ax": np.array([0], np.int64),
                                           "rest": np.array([-1], np.int64)}),
        _model([helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                                 name="pool"),
                helper.make_node("GlobalAveragePool", ["p"], ["y"], name="gap")],
               [("x", [1, 2, 8, 8])], ["y"], {}),
        _model([helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1,
                                 name="ln")],
               [("x", [1, 4, 8])], ["y"], {"g": f(8), "b": f(8)}),
        _model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                                 name="bn")],
               [("x", [1, 3, 4, 4])], ["y"], {"s": f(3), "b": f(3), "m": f(3),
                                               "v": np.abs(f(3)) + 0.5}),
        _model([helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=1, name="split"),
                helper.make_node("Mul", ["a", "b"], ["y"], name="mul")],
               [("x", [2, 6])], ["y"], {"sp": np.array([3, 3], np.int64)}),
        _model([helper.make_node("Pad", ["x", "pads"], ["p"], name="pad"),
                helper.make_node("Slice", ["p", "st", "en"], ["y"], name="slice")],
               [("x", [2, 3])], ["y"], {"pads": np.array([1, 1, 1, 1], np.int64),
                                        "st": np.array([0, 1], np.int64),
                                        "en": np.array([3, 4], np.int64)}),
    ]


# --- mutations ----------------------------------------------------------------------------

Mutation = Callable[[onnx.ModelProto, random.Random], bytes]
HOSTILE = ["x/*y*/z", "??/", "a\\", "\u00e9\u00e8", "n" * 300, "", "*/ int evil;", "\n\r\t"]
BIG = [0, -1, -7, 1 << 31, 1 << 40, 1 << 62, (1 << 63) - 1]


def _all_tensor_types(m: onnx.ModelProto) -> list[onnx.TypeProto.Tensor]:
    g = m.graph
    return [vi.type.tensor_type for vi in [*g.input, *g.output, *g.value_info]]


def m_dims(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    tts = [t for t in _all_tensor_types(m) if t.shape.dim]
    if not tts:
        return m.SerializeToString()
    t = rnd.choice(tts)
    d = rnd.choice(list(t.shape.dim))
    d.dim_value = rnd.choice(BIG)
    return m.SerializeToString()


def m_elem_type(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    rnd.choice(_all_tensor_types(m)).elem_type = rnd.choice([0, 2, 6, 7, 9, 10, 11, 16, 25, 99])
    return m.SerializeToString()


def m_initializer(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    if not m.graph.initializer:
        return m_dims(m, rnd)
    t = rnd.choice(list(m.graph.initializer))
    how = rnd.choice(["cut", "grow", "dims", "zero", "type"])
    if how == "cut" and t.raw_data:
        t.raw_data = t.raw_data[: rnd.randrange(len(t.raw_data))]
    elif how == "grow":
        t.raw_data = t.raw_data + bytes(rnd.randrange(1, 64))
    elif how == "dims" and t.dims:
        t.dims[rnd.randrange(len(t.dims))] = rnd.choice(BIG + [2, 3])
    elif how == "zero":
        del t.dims[:]
        t.dims.append(0)
        t.raw_data = b""
    else:
        t.data_type = rnd.choice([2, 6, 10, 11, 25, 99])
    return m.SerializeToString()


def m_attribute(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    nodes = [n for n in m.graph.node if n.attribute]
    if not nodes:
        return m_op(m, rnd)
    a = rnd.choice(list(rnd.choice(nodes).attribute))
    if a.type == onnx.AttributeProto.INTS and a.ints:
        how = rnd.choice(["value", "short", "long", "dup"])
        if how == "value":
            a.ints[rnd.randrange(len(a.ints))] = rnd.choice([0, -1, -100, 100, 1 << 40])
        elif how == "short":
            del a.ints[-1]
        elif how == "long":
            a.ints.append(rnd.choice([0, 1, 5]))
        else:
            a.ints[-1] = a.ints[0]
    elif a.type == onnx.AttributeProto.INT:
        a.i = rnd.choice([0, -1, -5, 7, 100, 1 << 40])
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = rnd.choice([float("nan"), float("inf"), -1.0, 0.0, 1e30])
    return m.SerializeToString()


def m_op(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    n = rnd.choice(list(m.graph.node))
    n.op_type = rnd.choice(["Relu", "Conv", "Transpose", "Gather", "Reshape", "Softmax",
                            "NoSuchOp", "If", "Loop", "Resize", "MatMul", "Concat", "Cast"])
    return m.SerializeToString()


def m_edges(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    g = m.graph
    how = rnd.choice(["dangling", "no_outputs", "cycle", "dup_output", "drop_input"])
    n = rnd.choice(list(g.node))
    if how == "dangling" and n.input:
        n.input[rnd.randrange(len(n.input))] = "nowhere"
    elif how == "no_outputs":
        del g.output[:]
    elif how == "cycle" and n.input:
        n.input[0] = n.output[0]
    elif how == "dup_output" and len(g.node) > 1:
        g.node[0].output[0] = g.node[-1].output[0]
    elif n.input:
        del n.input[-1]
    return m.SerializeToString()


def m_names(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    for n in m.graph.node:
        n.name = rnd.choice(HOSTILE)
    m.graph.name = rnd.choice(HOSTILE)
    return m.SerializeToString()


def m_opset(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    m.opset_import[0].version = rnd.choice([0, 1, 5, 10, 29, 1000000])
    return m.SerializeToString()


def m_bytes(m: onnx.ModelProto, rnd: random.Random) -> bytes:
    data = bytearray(m.SerializeToString())
    how = rnd.choice(["flip", "cut", "splice"])
    if how == "flip":
        for _ in range(rnd.randrange(1, 8)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
    elif how == "cut":
        data = data[: rnd.randrange(len(data))]
    else:
        other = rnd.choice(seeds()).SerializeToString()
        k = rnd.randrange(len(data))
        data = data[:k] + other[rnd.randrange(len(other)):]
    return bytes(data)


MUTATIONS: dict[str, Mutation] = {
    "dims": m_dims, "elem_type": m_elem_type, "initializer": m_initializer,
    "attribute": m_attribute, "op": m_op, "edges": m_edges, "names": m_names,
    "opset": m_opset, "bytes": m_bytes,
}


@dataclass
class Case:
    index: int
    mutation: str
    data: bytes


def cases(n: int, seed: int) -> list[Case]:
    rnd = random.Random(seed)
    base = seeds()
    out = []
    for i in range(n):
        name = rnd.choice(sorted(MUTATIONS))
        m = onnx.ModelProto()
        m.CopyFrom(rnd.choice(base))
        out.append(Case(i, name, MUTATIONS[name](m, rnd)))
    return out


# --- running ------------------------------------------------------------------------------

@dataclass
class Outcome:
    kind: str  # "error", "compiled", "traceback", "internal", "signal", "timeout", "bad-exit", ...
    detail: str


def _child(model: Path, out: Path, err_path: Path) -> None:
    """In the forked child: `mobilec compile` under the limits; exit with its code."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    # A malformed model may ask for absurd weights: the pre-session compiler wrote a 17 GB
    # file for one. Past the limit the write fails (SIGXFSZ: counted as a signal).
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    signal.alarm(TIME_LIMIT)
    # All of stderr, also what C libraries (onnx, onnxruntime) write to fd 2 themselves.
    fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
    os.dup2(fd, 2)
    sys.stderr = os.fdopen(os.dup(fd), "w", buffering=1)  # not pytest's capture object
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = os.fdopen(os.dup(devnull), "w")
    from compiler.cli import main
    code = 3
    try:
        code = main(["compile", str(model), "-q", "-o", str(out), "--name", "fz"])
        if code == 0:  # the parent builds and runs it: a driver and the input shapes
            from compiler.pipeline import compile_file
            from compiler.verify import driver_source
            compiled = compile_file(str(model), "fz")
            (out.parent / "fz_driver.c").write_text(driver_source(compiled))
            (out.parent / "inputs.txt").write_text("\n".join(
                " ".join(map(str, compiled.graph.t(n).shape)) for n in compiled.graph.inputs))
            (out.parent / "outputs.txt").write_text(str(len(compiled.graph.outputs)))
    except BaseException:  # a traceback is what the fuzzer looks for
        sys.stderr.write("Traceback\n" + traceback.format_exc())
        code = 3
    sys.stderr.flush()
    os._exit(code)


def run_case(case: Case, work: Path, sanitized_build: Callable[[Path], str | None]) -> Outcome:
    model = work / f"case{case.index}.onnx"
    model.write_bytes(case.data)
    out = work / f"out{case.index}" / "fz_model.c"
    err = work / f"err{case.index}.txt"
    pid = os.fork()
    if pid == 0:
        _child(model, out, err)
    _, status = os.waitpid(pid, 0)
    text = err.read_text() if err.exists() else ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return Outcome("timeout" if sig == signal.SIGALRM else "signal", f"signal {sig}")
    code = os.WEXITSTATUS(status)
    if "Traceback" in text:
        return Outcome("traceback", text.strip().splitlines()[-1][:300])
    if code == 2:
        files = list(out.parent.rglob("*")) if out.parent.exists() else []
        if len(lines) != 1 or not lines[0].startswith("mobilec: error:"):
            return Outcome("bad-exit", f"{len(lines)} lines: {text[:300]}")
        if files:
            return Outcome("left-files", f"{[p.name for p in files]}")
        kind = "internal" if "internal error" in lines[0] else "error"
        return Outcome(kind, lines[0][:300])
    if code == 0:
        problem = sanitized_build(out)
        return Outcome("compiled", "") if problem is None else Outcome("unsafe-c", problem)
    return Outcome("bad-exit", f"exit {code}: {text[:300]}")


def sanitized_builder() -> Callable[[Path], str | None]:
    """Build a generated model with -Werror under ASan+UBSan against a sanitized runtime
    (built once) and run it on a random input; None when all is clean."""
    from compiler.build import CFLAGS, DRIVER_FLAGS, DRIVER_SOURCES, RUNTIME, runtime_library
    san = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    lib = runtime_library("generic", san)

    def build(c_path: Path) -> str | None:
        folder = c_path.parent
        exe = folder / "fz"
        proc = subprocess.run(["cc", *CFLAGS, *san, "-I", str(RUNTIME / "include"), "-I",
                               str(folder), f"-Wa,-I,{folder}", str(c_path),
                               str(folder / "fz_driver.c"), str(lib),
                               *map(str, DRIVER_SOURCES), *DRIVER_FLAGS, "-lm", "-o", str(exe)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            return "build: " + (proc.stderr.strip().splitlines() or ["?"])[0][:300]
        rng = np.random.default_rng(0)
        ins = []
        for k, line in enumerate((folder / "inputs.txt").read_text().splitlines()):
            shape = [int(d) for d in line.split()]
            if any(d <= 0 for d in shape) or np.prod(shape, dtype=float) > 1 << 26:
                return f"accepted an input of shape {shape}"  # what a malformed model asks
            rng.random(shape).astype("<f4").tofile(folder / f"in{k}.bin")
            ins.append(str(folder / f"in{k}.bin"))
        outs = [str(folder / f"o{k}.bin")
                for k in range(int((folder / "outputs.txt").read_text()))]
        try:
            run = subprocess.run([str(exe), *ins, *outs], capture_output=True, text=True,
                                 timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            return "run: timeout"
        if run.returncode != 0:
            return f"run: exit {run.returncode}: " + run.stderr.strip()[-300:]
        return None
    return build


def fuzz(n: int, seed: int, verbose: bool = False) -> dict[str, list[tuple[Case, Outcome]]]:
    import onnxruntime  # noqa: F401  (imported once here, not in every forked child)
    import compiler.cli  # noqa: F401
    results: dict[str, list[tuple[Case, Outcome]]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="mobilec-fuzz-") as d:
        work = Path(d)
        build = sanitized_builder()
        for case in cases(n, seed):
            outcome = run_case(case, work, build)
            results[outcome.kind].append((case, outcome))
            # A case's files go once it is judged (malformed models can ask for big ones).
            shutil.rmtree(work / f"out{case.index}", ignore_errors=True)
            for name in (f"case{case.index}.onnx", f"err{case.index}.txt"):
                (work / name).unlink(missing_ok=True)
            if verbose and outcome.kind not in ("error", "compiled"):
                print(f"case {case.index} ({case.mutation}): {outcome.kind}: {outcome.detail}",
                      flush=True)
    return results


def fuzz_one(data: bytes, work: Path) -> Outcome:
    """One model's outcome (for regression cases)."""
    import onnxruntime  # noqa: F401
    import compiler.cli  # noqa: F401
    return run_case(Case(0, "given", data), work, sanitized_builder())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    results = fuzz(args.cases, args.seed, verbose=True)
    print(f"\nfuzz: {args.cases} cases, seed {args.seed}")
    for kind in sorted(results, key=lambda k: -len(results[k])):
        print(f"  {kind:<12} {len(results[kind])}")
    bad = sum(len(v) for k, v in results.items() if k not in ("error", "compiled"))
    print(f"fuzz: {bad} cases ended other than in one-line error or clean C")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
