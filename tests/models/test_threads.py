"""Multi-threaded inference (<name>_run_parallel on runtime/threadpool's pool): the output
is the same, bit for bit, for 1, 2, 3, 4 and 7 threads, on every target this machine runs
(aarch64 under qemu), and the threaded build runs clean under ThreadSanitizer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.pipeline import compile_file
from compiler.targets import TARGETS, runs_here
from compiler.verify import build_driver, make_inputs, run_driver
from helpers import build_model, fixture

THREADS = [1, 2, 3, 4, 7]
TARGET_NAMES = ["generic", "x86-64-v3", "x86-64-v4", "aarch64"]


def convs_model() -> onnx.ModelProto:
    """A stem-like 3x3/2 conv, a 7x7 depthwise with a residual, a ConvFFN (1x1 conv, GELU,
    1x1 conv, residual): the threaded kernels (dense conv over NHWC, depthwise NHWC, the
    fused pair of packed GEMMs), each with more work than one task takes."""
    rng = np.random.default_rng(0)
    w = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.2  # noqa: E731
    nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], kernel_shape=[3, 3],
                              strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["c0", "w1", "b1"], ["d1"], kernel_shape=[7, 7],
                              pads=[3, 3, 3, 3], group=32),
             helper.make_node("Add", ["d1", "c0"], ["a1"]),
             helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"], kernel_shape=[1, 1]),
             helper.make_node("Gelu", ["c2"], ["g2"], domain=""),
             helper.make_node("Conv", ["g2", "w3", "b3"], ["c3"], kernel_shape=[1, 1]),
             helper.make_node("Add", ["c3", "a1"], ["y"])]
    return build_model(nodes, [("x", [1, 16, 64, 64])], ["y"],
                       {"w0": w(32, 16, 3, 3), "b0": w(32), "w1": w(32, 1, 7, 7), "b1": w(32),
                        "w2": w(64, 32, 1, 1), "b2": w(64), "w3": w(32, 64, 1, 1),
                        "b3": w(32)}, opset=20)


def outputs_by_threads(model: str, target: str, tmp: Path,
                       extra_flags: list[str] | None = None) -> dict[int, np.ndarray]:
    compiled = compile_file(model, "m", target, quiet=True)
    exe = build_driver(compiled, tmp, extra_flags)
    xs = make_inputs(compiled, 0)
    shapes = [compiled.graph.t(o).shape for o in compiled.graph.outputs]
    return {t: run_driver(exe, xs, shapes, tmp, env={"MOBILEC_THREADS": str(t)})[0][0]
            for t in THREADS}


def skip_unless_runs(target: str) -> None:
    if not runs_here(TARGETS[target]):
        pytest.skip(f"this machine cannot run {target} code")


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_same_bits_for_any_threads(target: str, tmp_path: Path) -> None:
    skip_unless_runs(target)
    onnx.save(convs_model(), str(tmp_path / "convs.onnx"))
    assert "mlp_packed" in [n.op for n in compile_file(str(tmp_path / "convs.onnx"), "m", target,
                                                       quiet=True).graph.nodes]
    outs = outputs_by_threads(str(tmp_path / "convs.onnx"), target, tmp_path)
    for t, y in outs.items():
        assert np.array_equal(y, outs[1]), f"{t} threads differ from 1"


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_fixture_same_bits_for_any_threads(target: str, tmp_path: Path) -> None:
    """The shared fixture (MCi0: attention, every block kind)."""
    skip_unless_runs(target)
    outs = outputs_by_threads(str(fixture("mci0_64_train.onnx")), target, tmp_path)
    for t, y in outs.items():
        assert np.array_equal(y, outs[1]), f"{t} threads differ from 1"


@pytest.mark.parametrize("target", ["generic", "x86-64-v4"])
def test_fixture_split_all_same_bits(target: str, tmp_path: Path) -> None:
    """Built with MCR_TASK_SPLIT_ALL (config.h): every kernel call splits into as many
    tasks as it has units, however little work it has -- the fixture's small elementwise,
    reduce and copy calls too, which the cut-off keeps serial in a normal build."""
    skip_unless_runs(target)
    outs = outputs_by_threads(str(fixture("mci0_64_train.onnx")), target, tmp_path,
                              ["-DMCR_TASK_SPLIT_ALL"])
    for t, y in outs.items():
        assert np.array_equal(y, outs[1]), f"{t} threads differ from 1"


def test_fixture_under_thread_sanitizer(tmp_path: Path) -> None:
    """Model, runtime and pool built with -fsanitize=thread (gcc), every call split
    (MCR_TASK_SPLIT_ALL): any data race it sees makes the program exit non-zero, which
    run_driver reports."""
    outs = outputs_by_threads(str(fixture("mci0_64_train.onnx")), "generic", tmp_path,
                              ["-fsanitize=thread", "-g", "-DMCR_TASK_SPLIT_ALL"])
    for t, y in outs.items():
        assert np.array_equal(y, outs[1]), f"{t} threads differ from 1"
