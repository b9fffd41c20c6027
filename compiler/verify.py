"""mobilec verify: compile, build, run the C program and onnxruntime on the same inputs,
and compare every output."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from .build import DRIVER_FLAGS, DRIVER_SOURCES, build_program
from .codegen import c_ident, environment
from .errors import MobilecError
from .targets import EMULATOR, host_arch, is_foreign, launcher, resolve, runs_here
from .pipeline import Compiled, compile_file, write_atomic, write_sources
from .widen import is_float16

# The bar every model must clear (../shared/DESIGN.md "Numbers that say it works").
MIN_COSINE = 0.99999
MAX_REL_DIFF = 1e-4
# The bar of a float16 model (computed in float32 by mobilec, in float16 by onnxruntime;
# its --expect reference usually the float32 model's): float16 keeps 11 significant bits,
# unit roundoff u = 2^-11 = 4.9e-4, and every weight rounded to it and every activation
# stored in it carries up to u of relative error into the output. 8u leaves room for a
# few such errors adding up along the network; a miscompile (a wrong kernel, index or
# layout) is off by order 1. Cosine: a relative error e costs about e^2 / 2 of it.
FP16_UNIT_ROUNDOFF = 2.0 ** -11
FP16_MAX_REL_DIFF = 8 * FP16_UNIT_ROUNDOFF
FP16_MIN_COSINE = 0.9999


@dataclass
class Comparison:
    label: str
    max_abs: float
    rel: float
    cosine: float
    min_cosine: float = MIN_COSINE
    max_rel: float = MAX_REL_DIFF

    @property
    def ok(self) -> bool:
        return self.cosine >= self.min_cosine and self.rel <= self.max_rel


def compare(label: str, got: np.ndarray, ref: np.ndarray) -> Comparison:
    g = got.astype(np.float64).ravel()
    r = ref.astype(np.float64).ravel()
    if g.shape != r.shape:
        raise MobilecError(f"{label}: {g.size} values, reference has {r.size}")
    if not np.all(np.isfinite(g)):
        return Comparison(label, float("inf"), float("inf"), float("nan"))
    max_abs = float(np.max(np.abs(g - r))) if g.size else 0.0
    scale = float(np.max(np.abs(r))) if r.size else 0.0
    rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    denom = float(np.linalg.norm(g) * np.linalg.norm(r))
    cosine = float(np.dot(g, r) / denom) if denom > 0 else (1.0 if max_abs == 0 else 0.0)
    return Comparison(label, max_abs, rel, cosine)


def driver_source(compiled: Compiled) -> str:
    g = compiled.graph
    single = len(g.inputs) == 1 and len(g.outputs) == 1
    ins = ["input"] if single else [f"input{k}" for k in range(len(g.inputs))]
    outs = ["output"] if single else [f"output{k}" for k in range(len(g.outputs))]
    ident = c_ident(compiled.name)
    return environment().get_template("driver.c.j2").render(
        name=ident, NAME=ident.upper(),
        inputs=[(n, g.t(t).shape, g.t(t).size, t) for n, t in zip(ins, g.inputs)],
        outputs=[(n, g.t(t).shape, g.t(t).size, t) for n, t in zip(outs, g.outputs)])


def build_driver(compiled: Compiled, workdir: Path, extra_flags: list[str] | None = None,
                 model_flags: list[str] | None = None) -> Path:
    """Write model + driver sources into workdir and build them into one executable that
    this machine runs (extra_flags: more compiler flags, e.g. -DMOBILEC_PROFILE;
    model_flags: for the model and driver only, not the runtime, e.g. -DMOBILEC_TRACE)."""
    target = resolve(compiled.target)
    if is_foreign(target):
        pass  # the cross compiler and qemu say themselves when they are missing
    elif not runs_here(target):
        raise MobilecError(f"this machine's CPU cannot run {target.name} code ({target.summary})")
    ident = c_ident(compiled.name)
    c_path = workdir / f"{ident}_model.c"
    write_sources(compiled, c_path)
    drv = workdir / f"{ident}_driver.c"
    write_atomic(drv, driver_source(compiled))
    return build_program([c_path, drv, *DRIVER_SOURCES], workdir / f"{ident}_driver",
                         compiled.target, extra_flags, [*(model_flags or []), *DRIVER_FLAGS])


def run_driver(exe: Path, inputs: list[np.ndarray], out_shapes: list[tuple[int, ...]],
               workdir: Path, runs: int = 1,
               env: dict[str, str] | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Run the driver `runs` times on the inputs: (outputs, the lines it printed); env:
    variables added to this process's environment (the trace build's settings)."""
    in_files, out_files = [], []
    for k, x in enumerate(inputs):
        p = workdir / f"in{k}.bin"
        np.ascontiguousarray(x, dtype="<f4").tofile(p)
        in_files.append(str(p))
    for k in range(len(out_shapes)):
        out_files.append(str(workdir / f"out{k}.bin"))
    proc = subprocess.run([*launcher(exe), str(exe), *in_files, *out_files, str(runs)],
                          capture_output=True,
                          text=True, env={**os.environ, **env} if env else None)
    if proc.returncode != 0:
        raise MobilecError(f"the generated program failed (exit {proc.returncode}): "
                           f"{proc.stderr.strip()[:500]}")
    outs = [np.fromfile(f, dtype="<f4").reshape(s) for f, s in zip(out_files, out_shapes)]
    return outs, proc.stdout.splitlines()


def times_ms(lines: list[str]) -> list[float]:
    """The time of each run from the driver's output lines."""
    return [float(line.split()[1]) for line in lines if line.startswith("time_ms")]


def onnxruntime_session(model_path: str, optimize: bool = False, threads: int = 0):  # type: ignore[no-untyped-def]
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                     else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's own exception types
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MobilecError(f"onnxruntime cannot load the model (the reference): {msg}",
                           path=model_path) from None


def read_expect(path: str, size: int) -> np.ndarray:
    raw = Path(path).read_bytes()
    if len(raw) == 8 * size:
        return np.frombuffer(raw, dtype="<f8")
    if len(raw) == 4 * size:
        return np.frombuffer(raw, dtype="<f4")
    raise MobilecError(f"holds {len(raw)} bytes; expected {4 * size} (float32) or "
                       f"{8 * size} (float64) for {size} values", path=path)


def read_input(compiled: Compiled, path: str) -> np.ndarray:
    """The model's single input from a raw little-endian float32 file (--input)."""
    g = compiled.graph
    shape = g.t(g.inputs[0]).shape
    raw = Path(path).read_bytes() if Path(path).is_file() else None
    if raw is None:
        raise MobilecError("no such file", path=path)
    if len(raw) != 4 * g.t(g.inputs[0]).size:
        raise MobilecError(f"holds {len(raw)} bytes; the input needs "
                           f"{4 * g.t(g.inputs[0]).size} (float32 {list(shape)})", path=path)
    return np.frombuffer(raw, dtype="<f4").reshape(shape)


def make_inputs(compiled: Compiled, seed: int) -> list[np.ndarray]:
    """Inputs in [0, 1): the range MobileCLIP encoders take for images."""
    rng = np.random.default_rng(seed)
    return [rng.random(compiled.graph.t(n).shape).astype(np.float32) for n in compiled.graph.inputs]


def verify(model: str, *, name: str = "model", target: str = "generic", seeds: int = 1,
           input_file: str | None = None, expect: str | None = None,
           input_shapes: dict[str, tuple[int, ...]] | None = None,
           keep: str | None = None, quiet: bool = False, weights: str = "auto",
           optimize: bool = True, threads: int = 1) -> bool:
    if expect and not input_file:
        raise MobilecError("--expect needs --input: an expected output belongs to one input")
    compiled = compile_file(model, name, target, input_shapes, quiet=quiet, weights=weights,
                            optimize=optimize)
    g = compiled.graph
    if (input_file or expect) and (len(g.inputs) != 1 or len(g.outputs) != 1):
        raise MobilecError("--input/--expect need a model with one input and one output",
                           path=model)
    half = is_float16(onnx.load(model, load_external_data=False))

    def bar(c: Comparison) -> Comparison:
        if half:
            c.min_cosine, c.max_rel = FP16_MIN_COSINE, FP16_MAX_REL_DIFF
        return c

    if half and not quiet:
        print(f"mobilec: a float16 model: computed in float32 with its weights widened; "
              f"compared with the float16 bar (rel<={FP16_MAX_REL_DIFF:.1e} = 8 * 2^-11, "
              f"cosine>={FP16_MIN_COSINE})", file=sys.stderr, flush=True)
    tmp = None if keep else tempfile.TemporaryDirectory(prefix="mobilec-verify-")
    workdir = Path(keep) if keep else Path(tmp.name)  # type: ignore[union-attr]
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if not quiet:
            print(f"mobilec: building with {compiled.target} runtime", file=sys.stderr, flush=True)
        exe = build_driver(compiled, workdir)
        tgt = resolve(compiled.target)
        if is_foreign(tgt):
            assert tgt.arch is not None
            print(f"verify: running {tgt.name} code under {EMULATOR[tgt.arch][0]} (this machine "
                  f"is {host_arch()}): results are checked, speed is not", flush=True)
        sess = onnxruntime_session(model)
        ort_names = [i.name for i in sess.get_inputs()]
        rows: list[Comparison] = []
        cases: list[tuple[str, list[np.ndarray]]] = []
        if input_file:
            cases.append(("input", [read_input(compiled, input_file)]))
        else:
            cases += [(f"seed {s}", make_inputs(compiled, s)) for s in range(seeds)]
        for label, xs in cases:
            if not quiet:
                print(f"mobilec: running {label}", file=sys.stderr, flush=True)
            got, _ = run_driver(exe, xs, [g.t(o).shape for o in g.outputs], workdir,
                                env={"MOBILEC_THREADS": str(threads)})
            feed = {i.name: x.astype(np.float16) if i.type == "tensor(float16)" else x
                    for i, x in zip(sess.get_inputs(), xs)}
            ref = [np.asarray(r, dtype=np.float32) for r in sess.run(None, feed)]
            for o, (a, b) in enumerate(zip(got, ref)):
                rows.append(bar(compare(f"{g.outputs[o]} ({label}) vs onnxruntime", a, b)))
            if expect:
                exp = read_expect(expect, got[0].size)
                rows.append(bar(compare(f"{g.outputs[0]} ({label}) vs {Path(expect).name}",
                                        got[0], exp)))
                rows.append(compare(f"onnxruntime ({label}) vs {Path(expect).name}", ref[0], exp))
    finally:
        if tmp is not None:
            tmp.cleanup()
    print_table(rows)
    checked = [r for r in rows if not r.label.startswith("onnxruntime")]
    ok = all(r.ok for r in checked)
    worst_cos = min(r.cosine for r in checked)
    worst_rel = max(r.rel for r in checked)
    need_cos, need_rel = checked[0].min_cosine, checked[0].max_rel
    if not ok:  # before the verdict, which stays the last line
        print("verify: to find the first tensor that diverges, run: "
              + diff_command(model, name, target, input_file, input_shapes, optimize))
    print(f"verify: {'PASS' if ok else 'FAIL'} {name} target={compiled.target}"
          f"{f' threads={threads}' if threads > 1 else ''} cosine>={worst_cos:.7f} "
          f"max|diff|/max|ref|<={worst_rel:.2e} (need cosine>={need_cos}, "
          f"rel<={need_rel:.1e}{', float16 model' if half else ''})")
    return ok


def diff_command(model: str, name: str, target: str, input_file: str | None,
                 input_shapes: dict[str, tuple[int, ...]] | None, optimize: bool) -> str:
    """The `mobilec diff` command line with verify's arguments."""
    args = ["mobilec", "diff", model, "--name", name, "--target", target]
    if input_file:
        args += ["--input", input_file]
    for k, shape in (input_shapes or {}).items():
        args += ["--input-shape", f"{k}={'x'.join(map(str, shape))}"]
    if not optimize:
        args.append("--no-optimize")
    return " ".join(shlex.quote(a) for a in args)


def print_table(rows: list[Comparison]) -> None:
    width = max(len(r.label) for r in rows)
    print(f"{'output':<{width}}  {'max|diff|':>10}  {'max|diff|/max|ref|':>18}  {'cosine':>12}")
    for r in rows:
        print(f"{r.label:<{width}}  {r.max_abs:>10.3e}  {r.rel:>18.3e}  {r.cosine:>12.9f}")
