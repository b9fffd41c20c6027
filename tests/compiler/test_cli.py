"""The command line: bad input gets one clear line, exit code 2 and no output file;
good input gets byte-identical output and a truthful report."""
from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from helpers import fixture, ROOT


def mobilec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT,
                          capture_output=True, text=True)


def small_model(path: Path, op: str = "Relu", dims: list | None = None,
                elem: int = TensorProto.FLOAT) -> Path:
    dims = dims or [1, 3, 4, 4]
    g = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="the_node")], "g",
                          [helper.make_tensor_value_info("x", elem, dims)],
                          [helper.make_tensor_value_info("y", elem, dims)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def assert_user_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("mobilec: error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in errors[0], errors[0]


def test_help_lists_the_commands() -> None:
    proc = mobilec("--help")
    assert proc.returncode == 0
    for cmd in ("export", "compile", "verify"):
        assert cmd in proc.stdout


def test_not_onnx(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_text("hello, not a model")
    out = tmp_path / "out" / "m_model.c"
    assert_user_error(mobilec("compile", str(bad), "-o", str(out)), "bad.onnx", "ONNX")
    assert not out.exists() and not out.with_suffix(".h").exists()


def test_truncated(tmp_path: Path) -> None:
    src = small_model(tmp_path / "full.onnx")
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 2])
    assert_user_error(mobilec("compile", str(cut), "-o", str(tmp_path / "m.c")), "cut.onnx")
    assert not (tmp_path / "m.c").exists()


def test_truncated_fixture(tmp_path: Path) -> None:
    cut = tmp_path / "cut.onnx"
    with open(fixture("mci0_64_train.onnx"), "rb") as f:
        cut.write_bytes(f.read(1_000_000))
    assert_user_error(mobilec("compile", str(cut), "-o", str(tmp_path / "m.c")), "cut.onnx")


def test_missing_file(tmp_path: Path) -> None:
    assert_user_error(mobilec("compile", str(tmp_path / "nope.onnx")), "nope.onnx", "no such file")


def test_unsupported_op_names_node_and_op(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx", op="Hardmax")
    out = tmp_path / "m.c"
    assert_user_error(mobilec("compile", str(m), "-o", str(out)), "m.onnx", "the_node", "Hardmax")
    assert not out.exists()


def test_dynamic_dimension_needs_input_shape(tmp_path: Path) -> None:
    m = small_model(tmp_path / "dyn.onnx", dims=["batch", 3, 4, 4])
    out = tmp_path / "dyn_model.c"
    assert_user_error(mobilec("compile", str(m), "-o", str(out)), "dynamic", "--input-shape")
    assert not out.exists()
    ok = mobilec("compile", str(m), "-o", str(out), "--input-shape", "x=2x3x4x4", "-q")
    assert ok.returncode == 0, ok.stderr
    assert "[2, 3, 4, 4]" in out.with_suffix(".h").read_text()
    assert_user_error(mobilec("compile", str(m), "--input-shape", "x=2x3", "-o", str(out)),
                      "does not fit")
    assert_user_error(mobilec("compile", str(m), "--input-shape", "y=1x3x4x4", "-o", str(out)),
                      "names no input")


def test_non_float_input(tmp_path: Path) -> None:
    m = small_model(tmp_path / "int.onnx", op="Abs", elem=TensorProto.INT32)
    assert_user_error(mobilec("compile", str(m), "-o", str(tmp_path / "m.c")), "INT32", "float32")


def test_output_is_deterministic_and_report_is_true(tmp_path: Path) -> None:
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("Conv", ["r", "w2"], ["y"], name="conv2")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])],
        [numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "w"),
         numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "cr.onnx"))
    outs = []
    for k in range(2):
        c = tmp_path / f"run{k}" / "cr_model.c"
        proc = mobilec("compile", str(tmp_path / "cr.onnx"), "-o", str(c), "-q",
                       "--report-json", str(tmp_path / f"r{k}.json"))
        assert proc.returncode == 0, proc.stderr
        outs.append((c.read_bytes(), c.with_suffix(".h").read_bytes()))
    assert outs[0] == outs[1]
    report = json.loads((tmp_path / "r0.json").read_text())
    # The ReLU is fused into the first conv, which writes channels-last; the 1x1 conv is a
    # GEMM over its pixels, and a reorder copies its result to y (NCHW, the caller's
    # output buffer). The arena holds the first conv's result and its scratch (the im2col
    # band: 128 pixels x 2 channels x 3x3 taps), each 64-byte aligned; the second conv's
    # result reuses the scratch's bytes.
    assert [k["op"] for k in report["kernels"]] == ["conv2d_gemm_nhwc", "matmul_packed", "copy"]
    assert report["arena_bytes"] == sum(b + (-b % 64) for b in (4 * 5 * 5 * 4, 128 * 2 * 9 * 4))
    assert report["lower_bound_bytes"] <= report["arena_bytes"]
    header = outs[0][1].decode()
    assert "int cr_run(const float *input, float *output, void *arena);" in header
    assert "#define CR_ARENA_BYTES" in header


def test_report_prints_passes_and_kernels(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx")
    proc = mobilec("compile", str(m), "-o", str(tmp_path / "m_model.c"), "--report", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "pass canonicalize" in proc.stdout and "kernel calls: 1" in proc.stdout


def test_verify_expect_needs_input(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx")
    assert_user_error(mobilec("verify", str(m), "--expect", str(m)), "--input")


def test_verify_wrong_input_size(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx")
    (tmp_path / "in.bin").write_bytes(b"\0" * 12)
    assert_user_error(mobilec("verify", str(m), "--input", str(tmp_path / "in.bin"), "-q"),
                      "in.bin", "bytes")


def test_verify_passes_and_fails_honestly(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx", op="Sigmoid")
    proc = mobilec("verify", str(m), "--seeds", "2", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("verify: PASS")
    # A wrong expected output must make verify fail.
    x = np.random.default_rng(0).random((1, 3, 4, 4)).astype(np.float32)
    x.tofile(tmp_path / "in.bin")
    (1.0 / (1.0 + np.exp(-x)) + 0.01).astype(np.float32).tofile(tmp_path / "wrong.bin")
    proc = mobilec("verify", str(m), "--input", str(tmp_path / "in.bin"), "--expect",
                   str(tmp_path / "wrong.bin"), "-q")
    assert proc.returncode == 1
    assert proc.stdout.strip().splitlines()[-1].startswith("verify: FAIL")


def test_plan_plot_and_measure(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx", op="Sigmoid")
    png = tmp_path / "plan.png"
    proc = mobilec("plan", str(m), "--plot", str(png), "--measure", "-q")
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "arena:" in proc.stdout and "peak RSS: mobilec" in proc.stdout


def test_bench_prints_one_summary_line(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx", op="Tanh")
    proc = mobilec("bench", str(m), "--runs", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"bench: m mobilec_ms=[\d.]+ onnxruntime_ms=[\d.]+ ratio=[\d.]+ "
                        r"round_ratios=[\d.]+-[\d.]+ best_ratio=[\d.]+", last), last


def test_bench_profile_names_every_kernel(tmp_path: Path) -> None:
    """--profile: one row per kind of kernel call; the one Tanh is one unary call."""
    m = small_model(tmp_path / "m.onnx", op="Tanh")
    proc = mobilec("bench", str(m), "--runs", "2", "-q", "--profile")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("kernel "))
    rows = [ln.split() for ln in lines[head + 1:] if not ln.startswith(("bench:", "mobilec:"))]
    assert [r[:3] for r in rows] == [["unary", "tanh", "1"]], rows
    assert lines[-1].startswith("bench: m ")


def test_bench_profile_shapes_splits_a_kernel_by_shape(tmp_path: Path) -> None:
    """--profile-shapes: one row per kind of kernel call and shapes; two Tanh calls on
    different shapes (a Reshape between them, an alias, has no row) are two rows."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 48])
    shape = helper.make_tensor("s", TensorProto.INT64, [2], [1, 48])
    g = helper.make_graph([helper.make_node("Tanh", ["x"], ["t"]),
                           helper.make_node("Reshape", ["t", "s"], ["r"]),
                           helper.make_node("Tanh", ["r"], ["y"])], "g", [x], [y], [shape])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "m.onnx"))
    proc = mobilec("bench", str(tmp_path / "m.onnx"), "--runs", "1", "-q", "--profile-shapes")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("kernel "))
    rows = sorted(ln.split()[:4] for ln in lines[head + 1:]
                  if not ln.startswith(("bench:", "mobilec:")))
    assert rows == [["unary", "tanh", "1x3x4x4->1x3x4x4", "1"],
                    ["unary", "tanh", "1x48->1x48", "1"]], rows


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 only")
def test_bench_against_onnxruntime_without_avx512(tmp_path: Path) -> None:
    m = small_model(tmp_path / "m.onnx", op="Tanh")
    proc = mobilec("bench", str(m), "--runs", "1", "-q", "--onnxruntime-isa", "avx2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "onnxruntime_isa=avx2" in lines[-2], lines
    assert lines[-1].startswith("bench: m mobilec_ms="), lines


def _leaves_nothing(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.is_file()], list(folder.rglob("*"))


def test_output_must_be_a_c_file(tmp_path: Path) -> None:
    src = small_model(tmp_path / "m.onnx")
    out = tmp_path / "out"
    for bad in (f"{out}/", str(out / "conv_model.h"), str(out / "m")):
        assert_user_error(mobilec("compile", str(src), "-q", "-o", bad, "--name", "conv"),
                          "-o must name a .c file")
    _leaves_nothing(tmp_path / "out") if (tmp_path / "out").exists() else None


@pytest.mark.parametrize("where", ["under_a_file", "proc", "long_name", "report_json"])
def test_unwritable_outputs_are_one_line_and_leave_nothing(tmp_path: Path, where: str) -> None:
    src = small_model(tmp_path / "m.onnx")
    out = tmp_path / "out"
    args = ["compile", str(src), "-q", "-o", str(out / "m.c")]
    if where == "under_a_file":
        args[-1] = str(src / "m.c")
    elif where == "proc":
        args[-1] = "/proc/mobilec_test/m.c"
    elif where == "long_name":
        args += ["--name", "a" * 3000]
    else:
        args += ["--report-json", "/proc/mobilec_test/r.json"]
    assert_user_error(mobilec(*args), "cannot write")
    if out.exists():
        _leaves_nothing(out)


def test_header_guards_differ_by_case(tmp_path: Path) -> None:
    src = small_model(tmp_path / "m.onnx")
    guards = []
    for name in ("a", "A"):
        out = tmp_path / name / "m.c"
        assert mobilec("compile", str(src), "-q", "-o", str(out), "--name", name).returncode == 0
        guards.append(re.search(r"#ifndef (\w+)", (out.parent / f"{name}_model.h").read_text())[1])
    assert guards[0] != guards[1], guards


@pytest.mark.parametrize("name", ["_\u00e9", "a-b", "9a", ""])
def test_name_must_be_a_c_identifier(tmp_path: Path, name: str) -> None:
    """Two --name values must never give one set of files, symbols and guard: a name that
    is not already a C identifier is refused, not rewritten."""
    src = small_model(tmp_path / "m.onnx")
    proc = mobilec("compile", str(src), "-q", "-o", str(tmp_path / "o" / "m.c"), "--name", name)
    assert_user_error(proc, "is not a C identifier")
    assert not (tmp_path / "o").exists()


def test_hostile_names_stay_inside_comments(tmp_path: Path) -> None:
    """Node and tensor names with comment delimiters, trigraphs and non-ASCII bytes: the
    generated C builds with -Wall -Wextra -Werror -pedantic."""
    hostile = "x/*y*/z??/é\\"
    g = helper.make_graph([helper.make_node("Relu", [hostile], ["y" + hostile], name=hostile)],
                          "g", [helper.make_tensor_value_info(hostile, TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y" + hostile, TensorProto.FLOAT, [2, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "h.onnx"))
    proc = mobilec("verify", str(tmp_path / "h.onnx"), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", ["elem_type", "raw_data", "huge_dims", "no_outputs", "opset"])
def test_malformed_models_are_one_line(tmp_path: Path, case: str) -> None:
    path = small_model(tmp_path / "m.onnx")
    m = onnx.load(str(path))
    if case == "elem_type":
        m.graph.input[0].type.tensor_type.elem_type = 99
    elif case == "raw_data":
        w = onnx.numpy_helper.from_array(np.zeros((2, 3), np.float32), "w")
        w.raw_data = w.raw_data[:-4]
        m.graph.initializer.append(w)
        m.graph.node.append(helper.make_node("Add", ["y", "w"], ["z"]))
    elif case == "huge_dims":
        for vi in (m.graph.input[0], m.graph.output[0]):
            for d in vi.type.tensor_type.shape.dim:
                d.dim_value = 1 << 40
    elif case == "no_outputs":
        del m.graph.output[:]
    else:
        m.opset_import[0].version = 1000
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(m.SerializeToString())
    out = tmp_path / "out" / "m.c"
    assert_user_error(mobilec("compile", str(bad), "-q", "-o", str(out)), "bad.onnx")
    assert not out.parent.exists() or not any(out.parent.iterdir())
