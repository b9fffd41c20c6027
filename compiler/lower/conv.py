"""Conv (1-D and 2-D, any groups, stride, dilation and padding) -> one conv2d call."""
from __future__ import annotations

from ..ir import Graph, Node
from .common import const_input, kernel, unsupported


def resolve_pads(node: Node, in_hw: list[int], out_hw: list[int], k_hw: list[int],
                 strides: list[int], dils: list[int]) -> list[int]:
    """Begin pads per spatial axis, ONNX rules (explicit pads or auto_pad)."""
    auto = node.attr("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    nd = len(in_hw)
    if auto in ("NOTSET", ""):
        pads = list(node.attr("pads", [0] * (2 * nd)))
        return pads[:nd] + pads[nd:]
    if auto == "VALID":
        return [0] * (2 * nd)
    begin, end = [], []
    for i in range(nd):
        total = max((out_hw[i] - 1) * strides[i] + (k_hw[i] - 1) * dils[i] + 1 - in_hw[i], 0)
        small = total // 2
        b = small if auto == "SAME_UPPER" else total - small
        begin.append(b)
        end.append(total - b)
    return begin + end


def as_2d(shape: list[int]) -> list[int]:
    """A 1-D spatial layout as 2-D with height 1."""
    return [1] + shape if len(shape) == 1 else shape


def lower_conv(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    y = graph.t(node.outputs[0])
    w = graph.t(node.inputs[1])
    nd = len(x.shape) - 2
    if nd not in (1, 2):
        raise unsupported(f"{nd}-D convolution")
    if const_input(node, graph, 1, "Conv weight") is None:
        raise unsupported("Conv without weights")
    const_input(node, graph, 2, "Conv bias")
    k_sp = list(w.shape[2:])
    strides = list(node.attr("strides", [1] * nd))
    dils = list(node.attr("dilations", [1] * nd))
    pads = resolve_pads(node, list(x.shape[2:]), list(y.shape[2:]), k_sp, strides, dils)
    begin = pads[:nd]
    if nd == 1:
        k_sp, strides, dils, begin = [1] + k_sp, [1] + strides, [1] + dils, [0] + begin
    h, wd = as_2d(list(x.shape[2:]))
    oh, ow = as_2d(list(y.shape[2:]))
    inputs = [node.inputs[0], node.inputs[1]]
    if len(node.inputs) > 2 and node.inputs[2]:
        inputs.append(node.inputs[2])
    return [kernel("conv2d", node, inputs, [node.outputs[0]], n=x.shape[0], c=x.shape[1],
                   h=h, w=wd, k=y.shape[1], oh=oh, ow=ow, kh=k_sp[0], kw=k_sp[1],
                   sh=strides[0], sw=strides[1], pt=begin[0], pl=begin[1], dh=dils[0],
                   dw=dils[1], groups=int(node.attr("group", 1)), has_bias=len(inputs) > 2)]


LOWERINGS = {"Conv": lower_conv}
