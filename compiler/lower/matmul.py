"""MatMul (with numpy batch broadcasting) and Gemm -> matmul calls."""
from __future__ import annotations

import itertools

import numpy as np

from ..ir import Graph, Node
from ..kernels import PANEL
from .common import broadcast_strides, contiguous_strides, epilogue_attrs, kernel, prod, unsupported
from .elementwise import binary
from .movement import lower_transpose


def matmul_call(src: Node, graph: Graph, a: str, b: str, bias: str | None, out: str,
                residual: str | None = None) -> Node:
    """out = a @ b (+ bias[n]), a: [..., M, K], b: [..., K, N], batch dims broadcast.

    The batch is one table of (a, b, c) element offsets: with a constant b and no batch of
    its own, all of a's batch rows fold into M and the table has one entry."""
    ash, bsh = list(graph.t(a).shape), list(graph.t(b).shape)
    osh = list(graph.t(out).shape)
    if len(ash) == 1:
        ash = [1] + ash
    if len(bsh) == 1:
        bsh = bsh + [1]
    m, k = ash[-2], ash[-1]
    n = bsh[-1]
    if bsh[-2] != k:
        raise unsupported(f"MatMul inner dimensions {k} and {bsh[-2]} differ")
    batch = list(np.broadcast_shapes(tuple(ash[:-2]), tuple(bsh[:-2])))
    if prod(bsh[:-2]) == 1:
        m = m * prod(ash[:-2])
        offsets = [[0, 0, 0]]
    else:
        a_st = broadcast_strides(tuple(ash[:-2]), tuple(batch))
        b_st = broadcast_strides(tuple(bsh[:-2]), tuple(batch))
        offsets = []
        for idx in itertools.product(*[range(d) for d in batch]):
            ia = sum(i * s for i, s in zip(idx, a_st)) * m * k
            ib = sum(i * s for i, s in zip(idx, b_st)) * k * n
            ic = sum(i * s for i, s in zip(idx, contiguous_strides(batch))) * m * n
            offsets.append([ia, ib, ic])
    if prod(osh) != len(offsets) * m * n:
        raise unsupported("MatMul output shape does not match its inputs")
    bval = graph.const(b)
    if bval is not None and len(offsets) == 1:
        # Constant weights: packed now into the panels the GEMM reads, so that the
        # generated code streams them and packs nothing at run time.
        packed = graph.add_const(f"{b}_packed", pack_panels(bval.reshape(k, n)))
        inputs = [a, packed, bias or ""] + ([residual] if residual else [])
        return kernel("matmul_packed", src, inputs, [out], m=m, k=k, n=n, lda=k, ldc=n,
                      has_bias=bool(bias), **epilogue_attrs(src, residual))
    inputs = [a, b, bias or ""] + ([residual] if residual else [])
    return kernel("matmul", src, inputs, [out], m=m, k=k, n=n, lda=k, ldb=n, ldc=n,
                  offsets=offsets, has_bias=bool(bias), **epilogue_attrs(src, residual))




def pack_panels(b: np.ndarray) -> np.ndarray:
    """b [k][n] as mcr_matmul_packed_f32 reads it: panels of PANEL columns, each k rows
    of PANEL floats, the last zero-padded."""
    k, n = b.shape
    panels = -(-n // PANEL)
    padded = np.zeros((k, panels * PANEL), np.float32)
    padded[:, :n] = b
    return np.ascontiguousarray(padded.reshape(k, panels, PANEL).transpose(1, 0, 2))


def lower_matmul(node: Node, graph: Graph) -> list[Node]:
    """MatMul, and mobilec.MatMul (made by passes): inputs [a, b, bias or "", residual],
    attributes of the fused activation."""
    ins = node.inputs + [""] * (4 - len(node.inputs))
    return [matmul_call(node, graph, ins[0], ins[1], ins[2] or None, node.outputs[0],
                        ins[3] or None)]


def lower_gemm(node: Node, graph: Graph) -> list[Node]:
    """Y = alpha * A' B' + beta * C. Constant operands are transposed and scaled at compile
    time; runtime ones get a transpose copy."""
    alpha = float(node.attr("alpha", 1.0))
    beta = float(node.attr("beta", 1.0))
    a, b = node.inputs[0], node.inputs[1]
    c = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    out = node.outputs[0]
    calls: list[Node] = []

    def transposed(name: str) -> str:
        value = graph.const(name)
        if value is not None:
            return graph.add_const(f"{name}_T", np.ascontiguousarray(value.T))
        t = graph.t(name)
        dst = graph.add_tensor(f"{name}_T", tuple(t.shape[::-1]))
        calls.extend(lower_transpose(Node("Transpose", node.name, [name], [dst],
                                          {"perm": [1, 0]}), graph))
        return dst

    if node.attr("transA", 0):
        a = transposed(a)
    if node.attr("transB", 0):
        b = transposed(b)
    if alpha != 1.0:
        bv = graph.const(b)
        if bv is None:
            raise unsupported("Gemm alpha != 1 with a runtime B")
        b = graph.add_const(f"{b}_alpha", (bv.astype(np.float64) * alpha).astype(np.float32))
    n = graph.t(out).shape[-1]
    bias = None
    if c is not None and beta != 0.0:
        cv = graph.const(c)
        if cv is not None and prod(cv.shape) in (1, n) and (cv.ndim < 2 or cv.shape[0] == 1):
            vec = np.broadcast_to(cv.reshape(-1), (n,)).astype(np.float64) * beta
            bias = graph.add_const(f"{c}_bias", vec.astype(np.float32))
        elif beta == 1.0:
            tmp = graph.add_tensor(f"{out}_ab", graph.t(out).shape)
            calls.append(matmul_call(node, graph, a, b, None, tmp))
            calls.append(binary(node, graph, "MCR_ADD", tmp, c, out))
            return calls
        else:
            raise unsupported("Gemm with a runtime C and beta != 1")
    calls.append(matmul_call(node, graph, a, b, bias, out))
    return calls


LOWERINGS = {"MatMul": lower_matmul, "mobilec.MatMul": lower_matmul, "Gemm": lower_gemm}
