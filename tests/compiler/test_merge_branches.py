"""fold_batchnorm and merge_branches on random branch structures: the compiled graph must
match onnxruntime on the ORIGINAL graph, and merge exactly when the merge is exact."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from compiler.frontend import import_graph
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model, kernel_counts


class Builder:
    def __init__(self, rng: np.random.Generator, c: int) -> None:
        self.rng, self.c = rng, c
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f"{hint}{self.n}"

    def const(self, value: np.ndarray) -> str:
        name = self.name("c")
        self.inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs) -> str:  # type: ignore[no-untyped-def]
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x: str, k: int, groups: int, pads: list[int], stride: int = 1,
             dil: int = 1, bias: bool = True) -> str:
        w = self.rng.standard_normal((self.c, self.c // groups, k, k)) / k
        ins = [x, self.const(w)] + ([self.const(self.rng.standard_normal(self.c))] if bias else [])
        return self.node("Conv", ins, kernel_shape=[k, k], pads=pads, group=groups,
                         strides=[stride, stride], dilations=[dil, dil])

    def bn(self, x: str) -> str:
        r, c = self.rng, self.c
        return self.node("BatchNormalization",
                         [x, self.const(r.uniform(0.5, 1.5, c)), self.const(r.normal(0, 0.2, c)),
                          self.const(r.normal(0, 0.2, c)), self.const(r.uniform(0.5, 2, c))],
                         epsilon=1e-5)

    def scale(self, x: str, per_channel: bool = True, width: int = 9) -> str:
        shape = (self.c, 1, 1) if per_channel else (1, 1, width)
        return self.node("Mul", [x, self.const(self.rng.uniform(0.3, 0.6, shape))])

    def model(self, x_shape: list[int], outputs: list[str]) -> onnx.ModelProto:
        return build_model(self.nodes, [("x", x_shape)], outputs,
                           [(t.name, numpy_helper.to_array(t)) for t in self.inits])


def random_tree(seed: int) -> tuple[onnx.ModelProto, str]:
    """A random sum of branches of x; returns the model and its refusal case: "none" (it
    must merge into one conv), or why it must not: a non-linearity ("relu"), a scale that is
    not per-channel ("scale"), a branch read elsewhere ("shared"), windows that are not on
    one grid ("grid")."""
    rng = np.random.default_rng(seed)
    c = int(rng.choice([4, 6]))
    b = Builder(rng, c)
    stride = int(rng.choice([1, 1, 2]))
    groups = int(rng.choice([1, c]))
    leaves: list[str] = []
    for _ in range(int(rng.integers(2, 5))):
        kind = rng.choice(["conv", "conv", "identity"] if stride == 1 else ["conv"])
        if kind == "identity":
            leaves.append(b.bn("x") if rng.random() < 0.6 else "x")
            continue
        k = int(rng.choice([1, 3, 5, 7]))
        leaf = b.conv("x", k, int(rng.choice([groups, c])), [k // 2] * 4, stride,
                      bias=bool(rng.random() < 0.5))
        if rng.random() < 0.5:
            leaf = b.bn(leaf)
        if rng.random() < 0.3:
            leaf = b.scale(leaf)
        leaves.append(leaf)
    refusal = str(rng.choice(["none", "none", "none", "relu", "scale", "shared", "grid"]))
    extra_outputs: list[str] = []
    if refusal == "relu":
        leaves[0] = b.node("Relu", [b.conv("x", 3, groups, [1, 1, 1, 1], stride)])
    elif refusal == "shared":
        leaves[0] = b.conv("x", 3, groups, [1, 1, 1, 1], stride)
        extra_outputs.append(leaves[0])
    elif refusal == "grid":
        # Dilation 2 windows starting at -2 and -1: not on one grid.
        leaves[0] = b.conv("x", 3, groups, [2, 2, 2, 2], stride, dil=2)
        leaves[1] = b.conv("x", 3, groups, [1, 1, 3, 3], stride, dil=2)
    while len(leaves) > 1:
        i = int(rng.integers(0, len(leaves) - 1))
        op = "Sub" if rng.random() < 0.3 else "Add"
        leaves[i:i + 2] = [b.node(op, [leaves[i], leaves[i + 1]])]
    y = leaves[0]
    if refusal == "scale":
        y = b.scale(y, per_channel=False, width=9 if stride == 1 else 5)
    elif rng.random() < 0.5:
        y = b.scale(y)
    if stride == 1 and rng.random() < 0.5:
        y = b.node("Add", ["x", y])  # a residual: RepMixer and RepCPE
    return b.model([1, c, 9, 9], [y] + extra_outputs), refusal


def kernels(model: onnx.ModelProto, tmp: Path) -> Counter[str]:
    onnx.save(model, str(tmp / "m.onnx"))
    c = compile_graph(import_graph(str(tmp / "m.onnx"), name="m"), "m")
    return kernel_counts(c.graph.nodes)


CONV_KERNELS = ("conv2d_gemm", "dwconv2d", "conv1x1", "channel_affine")


def conv_kernels(model: onnx.ModelProto, tmp: Path) -> int:
    k = kernels(model, tmp)
    return sum(k[name] for name in CONV_KERNELS)


SEEDS = range(60)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_branches_merge_exactly_when_exact(workdir: Path, seed: int) -> None:
    model, refusal = random_tree(seed)
    c = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    x = np.random.default_rng(seed + 1000).standard_normal((1, c, 9, 9)).astype(np.float32)
    assert_matches(model, [x], workdir)
    k = kernels(model, workdir)
    if refusal == "none":
        assert sum(k.values()) == 1 and sum(k[c] for c in CONV_KERNELS) == 1, (seed, k)
    else:
        assert sum(k.values()) > 1, (seed, refusal, k)


def test_the_random_cases_cover_every_refusal() -> None:
    seen = Counter(random_tree(seed)[1] for seed in SEEDS)
    assert set(seen) == {"none", "relu", "scale", "shared", "grid"}, seen


def test_mobileone_block_is_one_conv(workdir: Path) -> None:
    """3 k×k branches with BN + a 1×1 branch with BN + a BN identity, as timm trains it."""
    rng = np.random.default_rng(7)
    b = Builder(rng, 6)
    branches = [b.bn(b.conv("x", 3, 6, [1] * 4, bias=False)) for _ in range(3)]
    branches.append(b.bn(b.conv("x", 1, 6, [0] * 4, bias=False)))
    branches.append(b.bn("x"))
    y = branches[0]
    for br in branches[1:]:
        y = b.node("Add", [y, br])
    y = b.node("Relu", [y])
    model = b.model([1, 6, 10, 10], [y])
    assert_matches(model, [rng.standard_normal((1, 6, 10, 10)).astype(np.float32)], workdir)
    assert conv_kernels(model, workdir) == 1


def test_conv_bn_and_bn_into_matmul(workdir: Path) -> None:
    """Conv -> BN folds into the conv; BN -> flatten -> transpose -> MatMul folds into the
    MatMul's weights and a bias (MCi's attention input)."""
    rng = np.random.default_rng(3)
    b = Builder(rng, 8)
    h = b.bn(b.conv("x", 3, 1, [1] * 4))
    h = b.node("Relu", [h])
    n = b.bn(h)
    f = b.node("Reshape", [n, b.inits and _shape_const(b, [1, 8, 36])])
    t = b.node("Transpose", [f], perm=[0, 2, 1])
    y = b.node("MatMul", [t, b.const(rng.standard_normal((8, 5)))])
    model = b.model([1, 8, 6, 6], [y])
    assert_matches(model, [rng.standard_normal((1, 8, 6, 6)).astype(np.float32)], workdir)
    onnx.save(model, str(workdir / "m.onnx"))
    c = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m")
    kinds = kernel_counts(c.graph.nodes)
    assert kinds["channel_affine"] == 0 and kinds["conv2d_gemm"] + kinds["dwconv2d"] == 1 and kinds["matmul_packed"] == 1, kinds


def _shape_const(b: Builder, shape: list[int]) -> str:
    name = b.name("shape")
    b.inits.append(numpy_helper.from_array(np.array(shape, np.int64), name))
    return name
