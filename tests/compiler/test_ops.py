"""Each lowering on small graphs built with onnx.helper, compiled, built, run, and compared
with onnxruntime on the same graph."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from helpers import assert_matches, build_model as model

rng = np.random.default_rng(0)


def r(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("k,stride,pads,group,dil,cin,cout", [
    (3, 2, [1, 1, 1, 1], 1, 1, 3, 8),
    (1, 1, [0, 0, 0, 0], 1, 1, 8, 5),
    (7, 1, [3, 3, 3, 3], 6, 1, 6, 6),
    (3, 2, [1, 1, 1, 1], 6, 1, 6, 12),      # channel multiplier 2
    (5, 1, [1, 2, 3, 0], 2, 2, 4, 6),       # asymmetric padding, dilation
    (4, 4, [0, 0, 0, 0], 1, 1, 3, 7),       # patchify
])
def test_conv(workdir, k, stride, pads, group, dil, cin, cout):  # type: ignore[no-untyped-def]
    n = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=[stride, stride], pads=pads,
                         group=group, dilations=[dil, dil])
    m = model([n], [("x", [1, cin, 13, 11])], ["y"],
              [("w", r(cout, cin // group, k, k)), ("b", r(cout))])
    assert_matches(m, [r(1, cin, 13, 11)], workdir)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_auto_pad(workdir, auto_pad):  # type: ignore[no-untyped-def]
    n = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2], auto_pad=auto_pad)
    m = model([n], [("x", [2, 3, 10, 9])], ["y"], [("w", r(4, 3, 3, 3))])
    assert_matches(m, [r(2, 3, 10, 9)], workdir)


@pytest.mark.parametrize("a,b,const_b", [
    ((5, 7), (7, 3), True),
    ((2, 3, 5, 7), (7, 4), True),
    ((2, 3, 5, 7), (2, 3, 7, 4), False),    # attention-style batched
    ((3, 5, 7), (1, 7, 4), False),          # broadcast batch
    ((7,), (7, 4), True),                   # 1-D left operand
    ((2, 5, 7), (7,), False),               # 1-D right operand
])
def test_matmul(workdir, a, b, const_b):  # type: ignore[no-untyped-def]
    n = helper.make_node("MatMul", ["a", "b"], ["y"])
    if const_b:
        m = model([n], [("a", list(a))], ["y"], [("b", r(*b))])
        assert_matches(m, [r(*a)], workdir)
    else:
        m = model([n], [("a", list(a)), ("b", list(b))], ["y"])
        assert_matches(m, [r(*a), r(*b)], workdir)


@pytest.mark.parametrize("ta,tb,alpha,beta,cshape", [
    (0, 1, 1.0, 1.0, (4,)), (1, 0, 0.5, 2.0, (1, 4)), (0, 0, 1.0, 1.0, (3, 4)),
    (0, 1, 1.0, 0.0, (4,)),
])
def test_gemm(workdir, ta, tb, alpha, beta, cshape):  # type: ignore[no-untyped-def]
    n = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=ta, transB=tb, alpha=alpha,
                         beta=beta)
    ash = (5, 3) if ta else (3, 5)
    bsh = (4, 5) if tb else (5, 4)
    m = model([n], [("a", list(ash))], ["y"], [("b", r(*bsh)), ("c", r(*cshape))])
    assert_matches(m, [r(*ash)], workdir)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
@pytest.mark.parametrize("sa,sb", [((2, 3, 4, 5), (3, 1, 1)), ((1, 4, 1), (2, 1, 6)), ((5,), ())])
def test_binary(workdir, op, sa, sb):  # type: ignore[no-untyped-def]
    n = helper.make_node(op, ["a", "b"], ["y"])
    b = r(*sb) if sb else np.array(1.7, np.float32)
    if op == "Div":
        b = np.where(np.abs(b) < 0.1, 0.5, b).astype(np.float32)
    m = model([n], [("a", list(sa))], ["y"], [("b", b)])
    assert_matches(m, [r(*sa)], workdir)


@pytest.mark.parametrize("op,attrs", [
    ("Relu", {}), ("Sigmoid", {}), ("Tanh", {}), ("Erf", {}), ("Exp", {}), ("Neg", {}),
    ("Abs", {}), ("LeakyRelu", {"alpha": 0.1}), ("HardSigmoid", {}), ("HardSwish", {}),
    ("Elu", {}), ("Softplus", {}), ("Floor", {}), ("Ceil", {}),
])
def test_unary(workdir, op, attrs):  # type: ignore[no-untyped-def]
    m = model([helper.make_node(op, ["x"], ["y"], **attrs)], [("x", [3, 17])], ["y"])
    assert_matches(m, [r(3, 17) * 3], workdir)


def test_gelu_and_clip(workdir):  # type: ignore[no-untyped-def]
    nodes = [helper.make_node("Gelu", ["x"], ["g1"]),
             helper.make_node("Gelu", ["x"], ["g2"], approximate="tanh"),
             helper.make_node("Clip", ["x", "lo", "hi"], ["c"])]
    m = model(nodes, [("x", [4, 9])], ["g1", "g2", "c"],
              [("lo", np.array(-0.5, np.float32)), ("hi", np.array(0.75, np.float32))], opset=20)
    assert_matches(m, [r(4, 9) * 2], workdir)


def test_batchnorm_layernorm_softmax(workdir):  # type: ignore[no-untyped-def]
    c = 6
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["bn"], epsilon=1e-3),
        helper.make_node("LayerNormalization", ["x", "ls", "lb"], ["ln"], axis=-1),
        helper.make_node("LayerNormalization", ["x", "ls2"], ["ln2"], axis=2),
        helper.make_node("Softmax", ["x"], ["sm"], axis=-1),
        helper.make_node("Softmax", ["x"], ["sm1"], axis=1),
    ]
    inits = [("s", r(c)), ("b", r(c)), ("m", r(c)), ("v", np.abs(r(c)) + 0.5),
             ("ls", r(7)), ("lb", r(7)), ("ls2", r(5, 7))]
    m = model(nodes, [("x", [2, c, 5, 7])], ["bn", "ln", "ln2", "sm", "sm1"], inits)
    assert_matches(m, [r(2, c, 5, 7)], workdir)


def test_softmax_opset11_coerces_to_2d(workdir):  # type: ignore[no-untyped-def]
    m = model([helper.make_node("Softmax", ["x"], ["y"], axis=1)], [("x", [2, 3, 4])], ["y"],
              opset=11)
    assert_matches(m, [r(2, 3, 4)], workdir)


def test_pool_and_reduce(workdir):  # type: ignore[no-untyped-def]
    nodes = [
        helper.make_node("AveragePool", ["x"], ["ap"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], count_include_pad=0),
        helper.make_node("AveragePool", ["x"], ["ap2"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("MaxPool", ["x"], ["mp"], kernel_shape=[2, 3], strides=[2, 1],
                         ceil_mode=1),
        helper.make_node("GlobalAveragePool", ["x"], ["gap"]),
        helper.make_node("ReduceMean", ["x"], ["rm"], axes=[2, 3], keepdims=1),
        helper.make_node("ReduceMax", ["x"], ["rx"], axes=[1, 3], keepdims=0),
        helper.make_node("ReduceSum", ["x", "ax"], ["rs"], keepdims=1),
    ]
    m = model(nodes, [("x", [2, 3, 9, 8])], ["ap", "ap2", "mp", "gap", "rm", "rx", "rs"],
              [("ax", np.array([-1], np.int64))])
    assert_matches(m, [r(2, 3, 9, 8)], workdir)


def test_movement(workdir):  # type: ignore[no-untyped-def]
    i64 = np.int64
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["sl"]),
        helper.make_node("Transpose", ["x"], ["t2"], perm=[0, 1, 3, 2]),
        helper.make_node("Concat", ["x", "t2"], ["cc"], axis=1),
        helper.make_node("Split", ["x", "spl"], ["s0", "s1"], axis=2),
        helper.make_node("Gather", ["x", "gi"], ["ga"], axis=1),
        helper.make_node("Expand", ["col", "esh"], ["ex"]),
        helper.make_node("Pad", ["x", "pads", "pv"], ["pd"]),
        helper.make_node("Tile", ["x", "reps"], ["ti"]),
        helper.make_node("Flatten", ["x"], ["fl"], axis=2),
        helper.make_node("Unsqueeze", ["x", "ua"], ["us"]),
    ]
    inits = [("st", np.array([4, 1], i64)), ("en", np.array([-100, 6], i64)),
             ("ax", np.array([3, 2], i64)), ("sp", np.array([-2, 2], i64)),
             ("spl", np.array([2, 4], i64)), ("gi", np.array([[2, 0], [1, 1]], i64)),
             ("esh", np.array([2, 3, 4], i64)), ("pads", np.array([0, 1, 2, 0, 0, 0, 1, 3], i64)),
             ("pv", np.array(0.5, np.float32)), ("reps", np.array([1, 2, 1, 2], i64)),
             ("ua", np.array([0], i64))]
    outs = ["t", "sl", "cc", "s0", "s1", "ga", "ex", "pd", "ti", "fl", "us"]
    m = model(nodes, [("x", [2, 3, 6, 6]), ("col", [3, 1])], outs, inits)
    assert_matches(m, [r(2, 3, 6, 6), r(3, 1)], workdir)


def test_shape_arithmetic_folds_away(workdir):  # type: ignore[no-untyped-def]
    """The fixture's flatten: Shape -> Slice -> Concat -> Reshape, folded at compile time."""
    i64 = np.int64
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("Slice", ["sh", "z", "two", "z"], ["lead"]),
        helper.make_node("Concat", ["lead", "m1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
        helper.make_node("Relu", ["y"], ["out"]),
    ]
    inits = [("z", np.array([0], i64)), ("two", np.array([2], i64)), ("m1", np.array([-1], i64))]
    m = model(nodes, [("x", [1, 4, 3, 5])], ["out"], inits)
    assert_matches(m, [r(1, 4, 3, 5)], workdir)


def test_output_that_is_an_input_or_a_view(workdir):  # type: ignore[no-untyped-def]
    nodes = [helper.make_node("Identity", ["x"], ["same"]),
             helper.make_node("Reshape", ["x", "s"], ["view"]),
             helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Identity", ["r"], ["r2"])]
    m = model(nodes, [("x", [2, 6])], ["same", "view", "r", "r2"],
              [("s", np.array([3, 4], np.int64))])
    assert_matches(m, [r(2, 6)], workdir)


def test_dropout_and_cast_vanish(workdir):  # type: ignore[no-untyped-def]
    nodes = [helper.make_node("Dropout", ["x"], ["d"]),
             helper.make_node("Cast", ["d"], ["c"], to=TensorProto.FLOAT),
             helper.make_node("Sigmoid", ["c"], ["y"])]
    m = model(nodes, [("x", [3, 5])], ["y"])
    assert_matches(m, [r(3, 5)], workdir)


def test_onnx_model_is_valid() -> None:
    m = model([helper.make_node("Relu", ["x"], ["y"])], [("x", [2])], ["y"])
    onnx.checker.check_model(m)
