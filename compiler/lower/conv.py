"""Conv (1-D and 2-D, any groups, stride, dilation and padding) -> one kernel call: a
channel affine (1x1 depthwise), conv1x1 (pointwise GEMM), dwconv2d (depthwise stencil) or
conv2d_gemm (anything else, GEMMs over bands of output rows)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from ..kernels import DWCONV_MAX_TAPS, with_scratch
from .common import const_input, epilogue_attrs, kernel, prod, unsupported


def h_w(shape: tuple[int, ...]) -> int:
    return prod(shape[2:])


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
    groups = int(node.attr("group", 1))
    c, k = x.shape[1], y.shape[1]
    residual = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else None
    ep = epilogue_attrs(node, residual)
    fused = bool(ep["act"] or residual)
    if nd == 2 and groups == c == k and k_sp == [1, 1] and strides == [1, 1] and not any(pads) \
            and not fused:
        # A 1x1 depthwise conv is a per-channel affine (a BatchNorm, a layer scale).
        wv = graph.const(node.inputs[1])
        assert wv is not None
        bv = graph.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        scale = graph.add_const(f"{node.inputs[1]}_scale", wv.reshape(c).astype(np.float32))
        shift = graph.add_const(f"{node.name}_shift", (bv if bv is not None else
                                                        np.zeros(c)).astype(np.float32))
        return [kernel("channel_affine", node, [node.inputs[0], scale, shift], [node.outputs[0]],
                       outer=x.shape[0], c=c, inner=h_w(x.shape))]
    h, wd = as_2d(list(x.shape[2:]))
    oh, ow = as_2d(list(y.shape[2:]))
    has_bias = len(node.inputs) > 2 and bool(node.inputs[2])
    inputs = [node.inputs[0], node.inputs[1], node.inputs[2] if has_bias else ""]
    if residual:
        inputs.append(residual)
    if k_sp == [1, 1] and strides == [1, 1] and not any(pads) and groups == 1:
        # Pointwise: a GEMM over pixels, the register-blocked kernel.
        return [kernel("conv1x1", node, inputs, [node.outputs[0]], n=x.shape[0], c=c, k=k,
                       hw=h * wd, has_bias=has_bias, **ep)]
    kh, kw = k_sp
    sh, sw = strides
    if groups == c and dils == [1, 1] and kh * kw <= DWCONV_MAX_TAPS:
        # Depthwise (one input channel per group, maybe several outputs): the stencil
        # kernel over a padded copy of each plane.
        return [with_scratch(graph, kernel(
            "dwconv2d", node, inputs, [node.outputs[0]], n=x.shape[0], c=c, h=h, w=wd,
            mult=k // c, oh=oh, ow=ow, kh=kh, kw=kw, sh=sh, sw=sw, pt=begin[0], pl=begin[1],
            has_bias=has_bias, **ep))]
    return [with_scratch(graph, kernel(
        "conv2d_gemm", node, inputs, [node.outputs[0]], n=x.shape[0], c=c, h=h, w=wd, k=k,
        oh=oh, ow=ow, kh=kh, kw=kw, sh=sh, sw=sw, pt=begin[0], pl=begin[1], dh=dils[0],
        dw=dils[1], groups=groups, has_bias=has_bias, **ep))]


LOWERINGS = {"Conv": lower_conv, "mobilec.Conv": lower_conv}
