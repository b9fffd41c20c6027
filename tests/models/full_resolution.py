"""`make models`: every encoder at full resolution, every form and exporter, verified
against onnxruntime and the float64 PyTorch output: the train-form exports on every target
this CPU runs and once more built with ASan+UBSan, the other forms on `native`; also MCi
at 224 and 384, float16 exports and a dynamic-batch export verified at batch 4. Writes
build/models/full/REPORT.md with each export's op histogram, its kernel-call count,
compile time and peak memory, the verify tables, and a table of mobilec's and
onnxruntime's error against the float64 reference.

Usage: python tests/models/full_resolution.py [TAG ...]   (e.g. mci3 mci0_float16)
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "build" / "models" / "full"

CONFIGS: list[tuple[str, list[str]]] = []
for m in ("mci0", "mci1", "mci2"):
    CONFIGS += [(m, []), (m, ["--form", "reparam"]), (m, ["--keep-bn"]),
                (m, ["--exporter", "dynamo"]), (m, ["--exporter", "dynamo", "--form", "reparam"])]
CONFIGS += [("mci3", []), ("mci4", []), ("vit_b16", []), ("vit_b16", ["--exporter", "dynamo"])]
CONFIGS += [("mci0", ["--resolution", "224"]), ("mci0", ["--resolution", "384"]),
            ("mci1", ["--resolution", "384"]), ("mci0", ["--float16"]),
            ("vit_b16", ["--float16"]), ("mci1", ["--dynamic-batch"])]
BATCH = 4  # the batch a --dynamic-batch export is compiled and verified for


def timed(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """(result, wall seconds, peak RSS in MiB) of one `mobilec` command: the child is
    reaped with wait4, whose rusage is that child's alone."""
    t0 = time.time()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "compiler.cli", *cmd], cwd=ROOT,
                                text=True, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())
    return result, time.time() - t0, usage.ru_maxrss / 1024


def _errors_vs_reference(out: str) -> tuple[str, str]:
    """(mobilec's, onnxruntime's) max|diff|/max|ref| against the float64 output, from
    verify's table ("-" when it has no such rows: a dynamic-batch run)."""
    rel = {"mobilec": "-", "onnxruntime": "-"}
    for line in out.splitlines():
        if "_output_fp64.bin" in line and " vs " in line:
            who = "onnxruntime" if line.startswith("onnxruntime") else "mobilec"
            rel[who] = line.split()[-2]
    return rel["mobilec"], rel["onnxruntime"]


def sanitized_run(path: Path, model: str, stem: str) -> str | None:
    """Build the generic code of `path` and the runtime with -fsanitize=address,undefined
    (any report aborts), run it on the reference input; None when it is clean and its
    output still meets the bar against the float64 reference, else what went wrong. The
    sources come from `verify --keep` in a child process: compiling in this process would
    raise its memory high-water mark, which every later child inherits (the compile peak
    RSS column would then be this process's)."""
    import numpy as np
    from compiler.build import CFLAGS, DRIVER_FLAGS, DRIVER_SOURCES, RUNTIME
    from compiler.verify import compare
    work = OUT / f"{model}_san"
    proc = run(["verify", str(path), "--name", model, "-q", "--target", "generic", "--keep",
                str(work), "--input", stem + "_input.bin"])
    if proc.returncode != 0:
        return "verify --keep failed: " + proc.stderr[-500:]
    san = ["-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    build = subprocess.run(["cc", *CFLAGS, *san, "-I", str(RUNTIME / "include"), "-I", str(work),
                            f"-Wa,-I,{work}", str(work / f"{model}_model.c"),
                            str(work / f"{model}_driver.c"),
                            *map(str, sorted((RUNTIME / "src").glob("*.c"))),
                            *map(str, DRIVER_SOURCES), *DRIVER_FLAGS, "-lm", "-o",
                            str(work / "san")], capture_output=True, text=True)
    if build.returncode != 0:
        return "build failed: " + build.stderr[-500:]
    out = work / "out.bin"
    proc = subprocess.run([str(work / "san"), stem + "_input.bin", str(out)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        return f"exit {proc.returncode}: " + proc.stderr[-1000:]
    c = compare("sanitized", np.fromfile(out, dtype="<f4"),
                np.fromfile(stem + "_output_fp64.bin", dtype="<f8"))
    return None if c.ok else f"output off: {c}"


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *cmd], cwd=ROOT,
                          capture_output=True, text=True)


def main() -> int:
    wanted = sys.argv[1:]  # export tags (mci0, mci0_float16, ...); none: all of them
    OUT.mkdir(parents=True, exist_ok=True)
    from compiler.targets import TARGETS, runs_here
    # aarch64 on an x86 machine: cross-built, run under qemu (results, not speed).
    targets = ["generic"] + [t for t in ("x86-64-v3", "x86-64-v4", "aarch64")
                             if runs_here(TARGETS[t])]
    lines = ["# Full-resolution verify (MCi 256x256 unless named, ViT-B/16 224x224)", ""]
    failures = 0
    fidelity: list[tuple[str, str, str, str]] = []
    for model, flags in CONFIGS:
        tag = "_".join([model] + [f.lstrip("-") for f in flags if f not in ("--form", "--exporter")])
        if wanted and tag not in wanted:
            continue
        path = OUT / f"{tag}.onnx"
        stem = str(path.with_suffix(""))
        print(f"== {tag}", flush=True)
        if not path.exists():
            proc = run(["export", model, "-o", str(path), "--reference", *flags])
            if proc.returncode != 0:
                print(proc.stderr[-3000:])
                failures += 1
                continue
        hist = collections.Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
        t0 = time.time()
        shape = (["--input-shape", f"image={BATCH}x3x256x256"] if "--dynamic-batch" in flags
                 else [])
        proc, compile_s, compile_mib = timed(
            ["compile", str(path), "--name", model, "-o", str(OUT / tag / f"{model}_model.c"),
             "-q", "--report-json", str(OUT / f"{tag}.json"), *shape])
        if proc.returncode != 0:
            print(proc.stderr)
            failures += 1
            continue
        report = json.loads((OUT / f"{tag}.json").read_text())
        kernels = collections.Counter(k["op"] for k in report["kernels"])
        lines += [f"## {tag}", "",
                  f"export ops ({sum(hist.values())} nodes): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(hist.items())), "",
                  f"kernel calls ({len(report['kernels'])}): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(kernels.items())), "",
                  f"arena {report['arena_bytes']} bytes, lower bound {report['lower_bound_bytes']}, "
                  f"weights {report['weights_bytes']} bytes", "",
                  f"compile: {compile_s:.1f} s, peak RSS {compile_mib:.0f} MiB", ""]
        # A dynamic-batch export has a batch-1 reference only: random inputs at BATCH.
        inputs = (shape + ["--seeds", "1"] if shape else
                  ["--input", stem + "_input.bin", "--expect", stem + "_output_fp64.bin"])
        for target in (targets if not flags else ["native"]):
            proc = run(["verify", str(path), "--name", model, "-q", "--target", target, *inputs])
            print(proc.stdout, proc.stderr[-2000:], flush=True)
            if proc.returncode != 0:
                failures += 1
            fidelity.append((tag, target, *_errors_vs_reference(proc.stdout)))
            lines += [f"target {target}:", "", "```", proc.stdout.strip(), "```", ""]
        if not flags:  # the train-form exports once more, under the sanitizers
            problem = sanitized_run(path, model, stem)
            if problem:
                failures += 1
            lines += [f"ASan+UBSan (generic, gcc): {problem or 'clean, output as verified'}", ""]
            print(f"ASan+UBSan: {problem or 'clean'}", flush=True)
        lines += [f"compile + verify {time.time() - t0:.0f} s", ""]
        table = ["## Error against the float64 reference (max|diff| / max|ref|)", "",
                 "| export | target | mobilec | onnxruntime |", "|---|---|---|---|"]
        table += [f"| {t} | {tg} | {a} | {b} |" for t, tg, a, b in fidelity]
        (OUT / "REPORT.md").write_text("\n".join(lines + table) + "\n")
    print(f"models: {failures} failed; report in {OUT / 'REPORT.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
