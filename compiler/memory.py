"""Peak resident memory of one inference: the generated program against onnxruntime
(its process peak minus that of a process that only imported onnxruntime)."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .errors import MobilecError
from .pipeline import Compiled
from .verify import build_driver, make_inputs

ORT_SCRIPT = """
import sys, numpy as np, onnxruntime as ort
if sys.argv[1] != "import-only":
    o = ort.SessionOptions(); o.intra_op_num_threads = 1; o.log_severity_level = 3
    s = ort.InferenceSession(sys.argv[1], o, providers=["CPUExecutionProvider"])
    x = np.fromfile(sys.argv[2], dtype="<f4").reshape(s.get_inputs()[0].shape)
    s.run(None, {s.get_inputs()[0].name: x})
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print("peak_rss_kib", line.split()[1])
"""


def peak_rss_kib(cmd: list[str]) -> int:
    """The peak resident memory (VmHWM, KiB) that the process reports of itself. Not the
    parent's rusage: Linux carries the parent's peak across fork and exec into it."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MobilecError(f"{Path(cmd[0]).name} failed while measuring memory: "
                           f"{proc.stderr.strip()[-300:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("peak_rss_kib"):
            return int(line.split()[1])
    raise MobilecError("cannot read the peak resident memory (needs Linux /proc)")


def measure(compiled: Compiled, model_path: str) -> dict[str, int]:
    g = compiled.graph
    with tempfile.TemporaryDirectory(prefix="mobilec-mem-") as d:
        work = Path(d)
        exe = build_driver(compiled, work)
        xs = make_inputs(compiled, 0)
        ins = []
        for k, x in enumerate(xs):
            np.ascontiguousarray(x, dtype="<f4").tofile(work / f"in{k}.bin")
            ins.append(str(work / f"in{k}.bin"))
        outs = [str(work / f"out{k}.bin") for k in range(len(g.outputs))]
        ours = peak_rss_kib([str(exe), *ins, *outs, "1"])
        ort = peak_rss_kib([sys.executable, "-c", ORT_SCRIPT, model_path, ins[0]])
        base = peak_rss_kib([sys.executable, "-c", ORT_SCRIPT, "import-only"])
    return {"mobilec_kib": ours, "onnxruntime_kib": ort - base, "onnxruntime_process_kib": ort,
            "import_only_kib": base}
