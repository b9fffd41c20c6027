"""Elementwise ops: binary ones with broadcasting (as strides), unary ones with their
parameters."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from .common import broadcast_strides, const_input, kernel, unsupported

BINARY = {"Add": "MCR_ADD", "Sub": "MCR_SUB", "Mul": "MCR_MUL", "Div": "MCR_DIV",
          "Pow": "MCR_POW", "Max": "MCR_MAX", "Min": "MCR_MIN", "Sum": "MCR_ADD"}

UNARY = {"Relu": "MCR_RELU", "Sigmoid": "MCR_SIGMOID", "Tanh": "MCR_TANH", "Erf": "MCR_ERF",
         "Exp": "MCR_EXP", "Log": "MCR_LOG", "Sqrt": "MCR_SQRT", "Neg": "MCR_NEG",
         "Abs": "MCR_ABS", "Reciprocal": "MCR_RECIPROCAL", "Clip": "MCR_CLIP",
         "LeakyRelu": "MCR_LEAKY_RELU", "HardSigmoid": "MCR_HARD_SIGMOID",
         "HardSwish": "MCR_HARD_SWISH", "Elu": "MCR_ELU", "Softplus": "MCR_SOFTPLUS",
         "Floor": "MCR_FLOOR", "Ceil": "MCR_CEIL", "Gelu": "MCR_GELU_ERF"}


def binary(src: Node, graph: Graph, op: str, a: str, b: str, out: str) -> Node:
    shape = graph.t(out).shape
    return kernel("binary", src, [a, b], [out], op=op, shape=list(shape),
                  astride=broadcast_strides(graph.t(a).shape, shape),
                  bstride=broadcast_strides(graph.t(b).shape, shape))


def lower_binary(node: Node, graph: Graph) -> list[Node]:
    op = BINARY[node.op]
    ins = [i for i in node.inputs if i]
    for k, name in enumerate(ins):
        value = graph.const(name)
        if value is not None and value.dtype != np.float32:
            # Pow's exponent may be an integer tensor; the kernels compute in float32.
            if node.op != "Pow" or not np.all(value.astype(np.float32) == value):
                raise unsupported(f"{value.dtype} operand '{name}'")
            ins[k] = graph.add_const(f"{name}_f32", value.astype(np.float32))
    out = node.outputs[0]
    if len(ins) == 1:  # variadic Sum/Max/Min of one input is a copy
        return [kernel("alias", node, ins, [out])]
    if len(ins) == 2:
        return [binary(node, graph, op, ins[0], ins[1], out)]
    # Variadic with more inputs: a chain through temporaries of the broadcast shape.
    calls, acc = [], ins[0]
    for k, nxt in enumerate(ins[1:]):
        last = k == len(ins) - 2
        if last:
            dst = out
        else:
            shape = np.broadcast_shapes(graph.t(acc).shape, graph.t(nxt).shape)
            dst = graph.add_tensor(f"{out}_acc{k}", tuple(shape))
        calls.append(binary(node, graph, op, acc, nxt, dst))
        acc = dst
    return calls


def unary_params(node: Node, graph: Graph) -> tuple[str, float, float]:
    """(C enum of the op, alpha, beta) of a unary ONNX node."""
    op = UNARY[node.op]
    alpha, beta = 0.0, 0.0
    if node.op == "Clip":
        if graph.opset < 11:
            alpha = float(node.attr("min", -np.inf))
            beta = float(node.attr("max", np.inf))
        else:
            lo = const_input(node, graph, 1, "Clip min")
            hi = const_input(node, graph, 2, "Clip max")
            alpha = float(np.asarray(lo).reshape(-1)[0]) if lo is not None else -np.inf
            beta = float(np.asarray(hi).reshape(-1)[0]) if hi is not None else np.inf
    elif node.op == "LeakyRelu":
        alpha = float(node.attr("alpha", 0.01))
    elif node.op == "Elu":
        alpha = float(node.attr("alpha", 1.0))
    elif node.op == "HardSigmoid":
        alpha = float(node.attr("alpha", 0.2))
        beta = float(node.attr("beta", 0.5))
    elif node.op == "Gelu":
        approx = node.attr("approximate", b"none")
        approx = approx.decode() if isinstance(approx, bytes) else approx
        if approx == "tanh":
            op = "MCR_GELU_TANH"
        elif approx != "none":
            raise unsupported(f"Gelu approximate='{approx}'")
    return op, alpha, beta


def lower_unary(node: Node, graph: Graph) -> list[Node]:
    op, alpha, beta = unary_params(node, graph)
    n = graph.t(node.outputs[0]).size
    return [kernel("unary", node, [node.inputs[0]], [node.outputs[0]], op=op, n=n,
                   alpha=alpha, beta=beta)]


LOWERINGS = {**{op: lower_binary for op in BINARY}, **{op: lower_unary for op in UNARY}}
