"""fuse_conv_dw: a dense channels-last conv whose output only a depthwise conv (multiplier
1) reads becomes one conv_dw_nhwc kernel (after layout, beside fuse_mlp).

MCi's stem convolves the image to 64-96 channels at half its size (3x3/2, GELU) and hands
that to a depthwise 3x3/2: 4 MB at 256x256, written to memory and read straight back.
conv_dw_nhwc (runtime/src/conv_gemm_nhwc.c) computes the conv's rows into a ring of the
depthwise conv's window as they are needed, so that tensor never leaves L2 (nor takes
arena space). Only where it would not fit in L2 anyway (more than the depthwise kernel's
BIG_INPUT, where it takes all channels in one pass as the fused kernel does): a smaller
input keeps dwconv2d_nhwc's channel groups, whose ring stays in L1. The outputs keep their
bits.
"""
from __future__ import annotations

from ..ir import Graph, Node
from ..kernels import DWCONV_NHWC_BIG_INPUT, with_scratch
from .pairs import fuse_pairs


def fusable(graph: Graph, conv: Node, dw: Node) -> bool:
    """conv's output is dw's input and nothing else's, large, and dw repeats no channel."""
    a, b = conv.attrs, dw.attrs
    mid = conv.outputs[0]
    return (conv.op == "conv2d_gemm_nhwc" and dw.op == "dwconv2d_nhwc"
            and dw.inputs[0] == mid and mid not in graph.outputs
            and not a.get("has_residual") and b["mult"] == 1
            and (a["n"], a["k"], a["oh"], a["ow"]) == (b["n"], b["c"], b["h"], b["w"])
            and b["h"] * b["w"] * b["c"] > DWCONV_NHWC_BIG_INPUT)


def fuse(graph: Graph, conv: Node, dw: Node) -> Node:
    a, b = conv.attrs, dw.attrs
    first = {key: a[key] for key in ("n", "c", "h", "w", "k", "kh", "kw", "sh", "sw", "pt",
                                     "pl", "dh", "dw", "x_nhwc")}
    attrs = dict(first, oh1=a["oh"], ow1=a["ow"], has_bias1=a["has_bias"], act1=a["act"],
                 alpha1=a["alpha"], beta1=a["beta"], oh=b["oh"], ow=b["ow"], kh2=b["kh"],
                 kw2=b["kw"], sh2=b["sh"], sw2=b["sw"], pt2=b["pt"], pl2=b["pl"],
                 has_bias=b["has_bias"], act=b["act"], alpha=b["alpha"], beta=b["beta"],
                 has_residual=b["has_residual"])
    res = dw.inputs[3:4] if b.get("has_residual") else []
    return with_scratch(graph, Node(
        "conv_dw_nhwc", dw.name, conv.inputs[:3] + dw.inputs[1:3] + res, [dw.outputs[0]],
        attrs, domain="mcr"))


def run(graph: Graph) -> Graph:
    return fuse_pairs(graph, "conv2d_gemm_nhwc", fusable, fuse)
