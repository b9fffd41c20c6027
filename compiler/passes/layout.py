"""layout: pick the memory layout of activations between kernels (runs after lowering).

Every tensor is NCHW / row-major, except where this pass measures a gain: a tensor that
a 1x1 convolution writes and only 1x1 convolutions read (the hidden activation of every
MCi ConvMlp) is stored in pixel panels (runtime/include/mcr.h, MCR_PANEL). The producer
then writes whole contiguous tiles, and the consumers' GEMMs read their b operand
already packed. Measured on this machine (AVX-512, the GEMM of MCi0's stage-1
projection, y[64][4096] = w[64][192] x[192][4096]): 188 GFLOP/s packing x at run time,
251 GFLOP/s reading it in panels; the whole of MCi0: 30.4 -> 29.0 ms. Since no other
kernel reads such a tensor, no reorder is ever inserted: the layout changes only between
kernels that agree on it. Graph inputs and outputs stay NCHW.
"""
from __future__ import annotations

from collections import defaultdict

from ..ir import Graph, Node
from ..lower.matmul import PANEL


def run(graph: Graph) -> Graph:
    readers: dict[str, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        for name in node.inputs:
            if name:
                readers[name].append(node)
    for node in graph.nodes:
        if node.op != "conv1x1" or node.attrs["hw"] % PANEL or node.attrs.get("has_residual"):
            continue
        out = node.outputs[0]
        users = readers.get(out, [])
        if out in graph.outputs or not users:
            continue
        # Only as the x operand of other 1x1 convolutions (not their residual).
        if all(u.op == "conv1x1" and u.inputs[0] == out and out not in u.inputs[1:]
               for u in users):
            node.attrs["panels"] |= 2  # MCR_PANELS_Y
            for u in users:
                u.attrs["panels"] |= 1  # MCR_PANELS_X
    return graph
