"""onnxruntime without AVX-512 (compiler/ort_isa.py), the reference `mobilec bench
--onnxruntime-isa avx2` times: the patch replaces exactly the XCR0 reads, and the patched
copy really takes the AVX2 platform -- seen without any timing in the block size of the
NCHWc layout its graph optimizer picks (16 channels under AVX-512, 8 under AVX2), which
shows in the padded weights of the optimized model it saves -- and computes the same
numbers."""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.ort_isa import XCR0_AVX, XGETBV_XCR0, patch_xgetbv
from compiler.targets import TARGETS, runs_here
from helpers import ROOT

X86 = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                         reason="xgetbv and AVX-512 are x86's")

PROBE = """
import json, sys
import numpy as np, onnx
from compiler.ort_isa import load
ort = load(sys.argv[1])
opts = ort.SessionOptions()
opts.optimized_model_filepath = sys.argv[3]
opts.log_severity_level = 3
sess = ort.InferenceSession(sys.argv[2], opts, providers=["CPUExecutionProvider"])
x = np.linspace(-1, 1, 8 * 16 * 16, dtype=np.float32).reshape(1, 8, 16, 16)
y = sess.run(None, {"x": x})[0]
opt = onnx.load(sys.argv[3])
print(json.dumps({"weights": [list(i.dims) for i in opt.graph.initializer if len(i.dims) == 4],
                  "y": y.ravel().tolist()}))
"""


def conv_model(path: Path) -> Path:
    """A 3x3 conv with 20 output channels: NCHWc pads them to the block size."""
    w = np.random.default_rng(0).standard_normal((20, 8, 3, 3)).astype(np.float32)
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 20, 16, 16])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def probe(isa: str, model: Path, tmp: Path) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, "-c", PROBE, isa, str(model), str(tmp / f"{isa}.onnx")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_patch_replaces_only_xcr0_reads() -> None:
    other = bytes.fromhex("b9010000000f01d0")  # mov ecx, 1; xgetbv: not XCR0, kept
    code = b"\x90" + XGETBV_XCR0 + other + XGETBV_XCR0 + b"\xc3"
    patched, sites = patch_xgetbv(code)
    assert sites == 2
    assert patched == b"\x90" + XCR0_AVX + other + XCR0_AVX + b"\xc3"
    assert len(XCR0_AVX) == len(XGETBV_XCR0)


@X86
def test_patched_onnxruntime_takes_the_avx2_kernels(tmp_path: Path) -> None:
    model = conv_model(tmp_path / "conv.onnx")
    avx2 = probe("avx2", model, tmp_path)
    native = probe("native", model, tmp_path)
    assert avx2["weights"] == [[24, 8, 3, 3]]  # 20 channels in blocks of 8
    if runs_here(TARGETS["x86-64-v4"]):
        assert native["weights"] == [[32, 8, 3, 3]]  # in blocks of 16
    np.testing.assert_allclose(avx2["y"], native["y"], rtol=1e-5, atol=1e-5)


@X86
def test_one_onnxruntime_per_process() -> None:
    code = ("from compiler.ort_isa import load\nfrom compiler.errors import MobilecError\n"
            "load('native')\ntry:\n    load('avx2')\nexcept MobilecError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "needs a new process" in proc.stdout, proc.stdout
