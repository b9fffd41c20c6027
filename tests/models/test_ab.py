"""tests/models/ab.py, the in-process A/B of two trees: its harness takes any number of
inputs and outputs and reports the two programs' outputs as equal when they are (no
timing asserted: the times are for people)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from helpers import ROOT


def test_ab_same_tree_two_inputs(tmp_path: Path) -> None:
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["s"]), helper.make_node("Mul", ["x", "y"], ["p"])],
        "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 8, 5, 5]) for n in "xy"],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 8, 5, 5]) for n in ("s", "p")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "m.onnx"))
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "models" / "ab.py"), str(ROOT),
                           str(ROOT), str(tmp_path / "m.onnx"), "--target", "generic",
                           "--rounds", "3"], text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    t = r"[\d.]+(e-\d+)?"  # ms: a few microseconds here
    r = r"([\d.]+|-)"  # B/A, or - when A timed as 0
    assert re.fullmatch(rf"ab: m\.onnx generic, 3 inferences each: A median {t} ms fastest {t} "
                        rf"\| B median {t} ms fastest {t} \| B/A median {r} fastest {r} \| "
                        r"max\|B-A\| 0", line), line


def one_op_model(path: Path, op: str, shape: list[int]) -> Path:
    """A model y = op(x, x) on a tensor of `shape`."""
    g = helper.make_graph([helper.make_node(op, ["x", "x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def test_ab_model_b_runs_another_export(tmp_path: Path) -> None:
    """--model-b: B runs its own export, so max|B-A| is the two models' difference: x + x
    against x * x on inputs that are not all 0 or 2."""
    a = one_op_model(tmp_path / "add.onnx", "Add", [1, 4, 3, 3])
    b = one_op_model(tmp_path / "mul.onnx", "Mul", [1, 4, 3, 3])
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "models" / "ab.py"), str(ROOT),
                           str(ROOT), str(a), "--model-b", str(b), "--target", "generic",
                           "--rounds", "2"], text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("ab: add.onnx / mul.onnx generic, 2 inferences each: "), line
    diff = float(line.rsplit("max|B-A| ", 1)[1])
    assert diff > 0.1, line


def test_ab_model_b_of_another_shape_is_refused(tmp_path: Path) -> None:
    a = one_op_model(tmp_path / "a.onnx", "Add", [1, 4, 3, 3])
    b = one_op_model(tmp_path / "b.onnx", "Add", [1, 4, 3, 4])
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "models" / "ab.py"), str(ROOT),
                           str(ROOT), str(a), "--model-b", str(b), "--target", "generic",
                           "--rounds", "1"], text=True, capture_output=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "ab: the two programs take different inputs or outputs", \
        proc.stderr


def test_ab_names_a_folder_that_is_no_tree(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "models" / "ab.py"),
                           str(tmp_path), str(ROOT), str(tmp_path / "m.onnx")],
                          text=True, capture_output=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"ab: {tmp_path.resolve()}: not a mobilec tree (no compiler/cli.py, " \
                                  "runtime/src)", proc.stderr
