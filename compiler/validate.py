"""mobilec's own rules for a node, checked at import before it is folded or shaped.

Each rule refuses, with one line naming the node and op, a node that ONNX allows but
whose meaning the references disagree on, so that no answer mobilec could give is
trustworthy. A rule per op, looked up by op type.
"""
from __future__ import annotations

import math
from typing import Callable

from .errors import MobilecError
from .ir import Node, Tensor

Rule = Callable[[Node, dict[str, Tensor]], None]


def _unsupported(node: Node, msg: str) -> MobilecError:
    return MobilecError(f"unsupported: {msg}", node=node.name, op=node.op)


def pool_ceil_mode(node: Node, tensors: dict[str, Tensor]) -> None:
    """ceil_mode where the last window would start past the input (in the end padding):
    ONNX's shape inference counts that window, onnxruntime and PyTorch drop it."""
    if not node.attr("ceil_mode", 0) or not node.inputs or node.inputs[0] not in tensors:
        return
    spatial = tensors[node.inputs[0]].shape[2:]
    k = list(node.attr("kernel_shape", []))
    nd = len(k)
    strides = list(node.attr("strides", [1] * nd))
    dils = list(node.attr("dilations", [1] * nd))
    pads = list(node.attr("pads", [0] * 2 * nd))
    if len(spatial) != nd or len(strides) != nd or len(dils) != nd or len(pads) != 2 * nd:
        return  # the shape inference reports malformed attributes
    for i in range(nd):
        span = spatial[i] + pads[i] + pads[i + nd] - dils[i] * (k[i] - 1) - 1
        out = math.ceil(span / strides[i]) + 1 if strides[i] > 0 else 0
        if out > 1 and (out - 1) * strides[i] >= spatial[i] + pads[i]:
            raise _unsupported(node, "ceil_mode with a last window that starts in the end "
                                     "padding (ONNX's shape inference and onnxruntime "
                                     "disagree on the output size)")


INT64_MAX = 2**63 - 1


def slice_negative_step_to_int64_max(node: Node, tensors: dict[str, Tensor]) -> None:
    """A negative step with end = INT64_MAX: ONNX clamps that end to the last element
    (an empty slice), onnxruntime reads it as "through the first element" (measured on
    every start of a 5-element axis: they disagree exactly there)."""
    if len(node.inputs) < 5 or not node.inputs[4]:
        return
    ends, steps = (tensors[i].data if i in tensors else None for i in (node.inputs[2],
                                                                      node.inputs[4]))
    if ends is None or steps is None:
        return
    for en, sp in zip(ends.reshape(-1), steps.reshape(-1)):
        if sp < 0 and en == INT64_MAX:
            raise _unsupported(node, "Slice with a negative step and end INT64_MAX (ONNX "
                                     "and onnxruntime disagree on what it selects)")


RULES: dict[str, list[Rule]] = {
    "Slice": [slice_negative_step_to_int64_max],
    "AveragePool": [pool_ceil_mode],
    "MaxPool": [pool_ceil_mode],
}


def check_node(node: Node, tensors: dict[str, Tensor], path: str) -> None:
    for rule in RULES.get(node.op, []):
        try:
            rule(node, tensors)
        except MobilecError as err:
            err.path = path
            raise MobilecError(err.message, path=path, node=err.node, op=err.op) from None
