"""recognize: each decomposition the exporters write becomes one op, results unchanged
(vs onnxruntime on the original graph); near-misses are left alone."""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build, kernel_counts

rng = np.random.default_rng(5)


def kernel_kinds(m: onnx.ModelProto, tmp: Path) -> Counter[str]:
    onnx.save(m, str(tmp / "m.onnx"))
    c = compile_graph(import_graph(str(tmp / "m.onnx"), name="m"), "m")
    return kernel_counts(c.graph.nodes)


N = helper.make_node
GELU_TAILS = {
    "x*v*0.5": [N("Mul", ["x", "v"], ["w"]), N("Mul", ["w", "half"], ["y"])],
    "0.5*v*x": [N("Mul", ["half", "v"], ["w"]), N("Mul", ["w", "x"], ["y"])],
    "(0.5x)*v": [N("Mul", ["x", "half"], ["h"]), N("Mul", ["h", "v"], ["y"])],
}


@pytest.mark.parametrize("tail", list(GELU_TAILS))
@pytest.mark.parametrize("pre", ["div", "mul"])
def test_gelu_erf_forms(workdir: Path, tail: str, pre: str) -> None:
    first = (N("Div", ["x", "sqrt2"], ["s"]) if pre == "div" else N("Mul", ["x", "inv_sqrt2"], ["s"]))
    nodes = [first, N("Erf", ["s"], ["e"]), N("Add", ["e", "one"], ["v"])] + GELU_TAILS[tail]
    m = build(nodes, [("x", [2, 5, 7])], ["y"],
              {"sqrt2": math.sqrt(2), "inv_sqrt2": 1 / math.sqrt(2), "one": 1.0, "half": 0.5})
    assert_matches(m, [rng.standard_normal((2, 5, 7)).astype(np.float32) * 3], workdir)
    assert kernel_kinds(m, workdir) == Counter({"unary": 1})


@pytest.mark.parametrize("cube", ["pow", "mul"])
def test_gelu_tanh_form(workdir: Path, cube: str) -> None:
    cube_nodes = ([N("Pow", ["x", "three"], ["x3"])] if cube == "pow" else
                  [N("Mul", ["x", "x"], ["x2"]), N("Mul", ["x", "x2"], ["x3"])])
    nodes = cube_nodes + [N("Mul", ["x3", "c"], ["t"]), N("Add", ["x", "t"], ["inner"]),
                          N("Mul", ["inner", "k"], ["a"]), N("Tanh", ["a"], ["th"]),
                          N("Add", ["th", "one"], ["v"])] + GELU_TAILS["x*v*0.5"]
    m = build(nodes, [("x", [3, 11])], ["y"], {"three": 3.0, "c": 0.044715,
                                              "k": math.sqrt(2 / math.pi), "one": 1.0, "half": 0.5})
    assert_matches(m, [rng.standard_normal((3, 11)).astype(np.float32) * 3], workdir)
    assert kernel_kinds(m, workdir) == Counter({"unary": 1})


def test_gelu_near_miss_is_left_alone(workdir: Path) -> None:
    """A wrong constant (1.5 instead of √2), and an intermediate read elsewhere."""
    nodes = [N("Div", ["x", "bad"], ["s"]), N("Erf", ["s"], ["e"]), N("Add", ["e", "one"], ["v"])] \
        + GELU_TAILS["x*v*0.5"]
    m = build(nodes, [("x", [4, 4])], ["y"], {"bad": 1.5, "one": 1.0, "half": 0.5})
    assert_matches(m, [rng.standard_normal((4, 4)).astype(np.float32)], workdir)
    assert kernel_kinds(m, workdir)["binary"] == 4
    nodes = [N("Div", ["x", "sqrt2"], ["s"]), N("Erf", ["s"], ["e"]), N("Add", ["e", "one"], ["v"])] \
        + GELU_TAILS["x*v*0.5"]
    m = build(nodes, [("x", [4, 4])], ["y", "e"], {"sqrt2": math.sqrt(2), "one": 1.0, "half": 0.5})
    assert_matches(m, [rng.standard_normal((4, 4)).astype(np.float32)], workdir)
    assert kernel_kinds(m, workdir)["binary"] == 4


@pytest.mark.parametrize("affine", [0, 1, 2])
@pytest.mark.parametrize("square", ["pow", "mul"])
def test_layernorm_decomposition(workdir: Path, affine: int, square: str) -> None:
    sq = N("Pow", ["d", "two"], ["d2"]) if square == "pow" else N("Mul", ["d", "d"], ["d2"])
    nodes = [N("ReduceMean", ["x"], ["mu"], axes=[-1]), N("Sub", ["x", "mu"], ["d"]), sq,
             N("ReduceMean", ["d2"], ["var"], axes=[-1]), N("Add", ["var", "eps"], ["ve"]),
             N("Sqrt", ["ve"], ["sd"]), N("Div", ["d", "sd"], ["n"])]
    out = "n"
    if affine >= 1:
        nodes.append(N("Mul", ["n", "gamma"], ["g"]))
        out = "g"
    if affine >= 2:
        nodes.append(N("Add", ["g", "beta"], ["b"]))
        out = "b"
    m = build(nodes, [("x", [2, 3, 16])], [out], {"two": 2.0, "eps": 1e-6,
                                                 "gamma": rng.standard_normal(16),
                                                 "beta": rng.standard_normal(16)})
    assert_matches(m, [rng.standard_normal((2, 3, 16)).astype(np.float32) + 5], workdir)
    assert kernel_kinds(m, workdir) == Counter({"layernorm": 1})


@pytest.mark.parametrize("where", ["product", "q_and_k", "q", "none"])
def test_attention(workdir: Path, where: str) -> None:
    d = 8
    qk_in = {"product": ("q", "kt"), "q_and_k": ("qs", "ks"), "q": ("qs", "kt"), "none": ("q", "kt")}
    nodes = []
    if where in ("q_and_k", "q"):
        nodes.append(N("Mul", ["q", "c"], ["qs"]))
    if where == "q_and_k":
        nodes.append(N("Mul", ["kt", "c"], ["ks"]))
    nodes.append(N("MatMul", list(qk_in[where]), ["s"]))
    logits = "s"
    if where == "product":
        nodes.append(N("Div", ["s", "sqrt_d"], ["sl"]))
        logits = "sl"
    nodes += [N("Softmax", [logits], ["p"], axis=-1), N("MatMul", ["p", "v"], ["y"])]
    m = build(nodes, [("q", [2, 3, 10, d]), ("kt", [2, 3, d, 12]), ("v", [2, 3, 12, 5])], ["y"],
              {"c": d ** -0.25, "sqrt_d": math.sqrt(d)})
    xs = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 10, d), (2, 3, d, 12), (2, 3, 12, 5))]
    assert_matches(m, xs, workdir)
    assert kernel_kinds(m, workdir) == Counter({"attention": 1})


def test_attention_with_shared_scores_is_left_alone(workdir: Path) -> None:
    nodes = [N("MatMul", ["q", "kt"], ["s"]), N("Softmax", ["s"], ["p"], axis=-1),
             N("MatMul", ["p", "v"], ["y"])]
    m = build(nodes, [("q", [2, 4, 6]), ("kt", [2, 6, 5]), ("v", [2, 5, 3])], ["y", "p"], {})
    xs = [rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 6), (2, 6, 5), (2, 5, 3))]
    assert_matches(m, xs, workdir)
    assert kernel_kinds(m, workdir)["attention"] == 0
