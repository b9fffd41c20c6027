"""mobilec's own rules for a node, checked at import before it is folded or shaped.

Two kinds, each a one-line error naming the node and op: attributes out of their range
for the op (ONNX's checker checks types, its shape inference not every value: a short
`pads` or a zero stride got through to the passes), and nodes that ONNX allows but whose
meaning the references disagree on, so that no answer mobilec could give is trustworthy.
Rules are looked up by op type.
"""
from __future__ import annotations

import math
from typing import Callable

import onnx

from .errors import MobilecError
from .ir import Node, Tensor

Rule = Callable[[Node, dict[str, Tensor]], None]


def _unsupported(node: Node, msg: str) -> MobilecError:
    return MobilecError(f"unsupported: {msg}", node=node.name, op=node.op)


def _invalid(node: Node, msg: str) -> MobilecError:
    return MobilecError(f"invalid attribute: {msg}", node=node.name, op=node.op)


def _shape(tensors: dict[str, Tensor], name: str) -> tuple[int, ...] | None:
    return tensors[name].shape if name and name in tensors else None


def _ints(node: Node, key: str, n: int, lo: int, what: str) -> list[int] | None:
    """An INTS attribute of n values each >= lo, when present."""
    v = node.attr(key)
    if v is None:
        return None
    v = list(v)
    if len(v) != n or any(not isinstance(x, int) or x < lo for x in v):
        raise _invalid(node, f"{key} {v} must be {n} {what}")
    return v


def window_attrs(node: Node, tensors: dict[str, Tensor]) -> None:
    """Conv and pooling: kernel, strides, dilations, pads of the right length and range;
    a Conv's weight and group fit its input."""
    x = _shape(tensors, node.inputs[0] if node.inputs else "")
    if x is None:
        return
    if len(x) < 3:
        raise _invalid(node, f"input of rank {len(x)}; needs N, C and spatial dims")
    nd = len(x) - 2
    kernel = _ints(node, "kernel_shape", nd, 1, "positive sizes")
    _ints(node, "strides", nd, 1, "strides >= 1")
    _ints(node, "dilations", nd, 1, "dilations >= 1")
    pads = _ints(node, "pads", 2 * nd, 0, "pads >= 0")
    auto = node.attr("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise _invalid(node, f"auto_pad '{auto}'")
    if node.op != "Conv":
        if kernel is None:
            raise _invalid(node, "kernel_shape is required")
        if pads is not None and any(p >= k for p, k in zip(pads, kernel + kernel)):
            raise _invalid(node, f"pads {pads} must be smaller than the kernel {kernel}")
        return
    w = _shape(tensors, node.inputs[1] if len(node.inputs) > 1 else "")
    group = node.attr("group", 1)
    if not isinstance(group, int) or group < 1 or x[1] % group:
        raise _invalid(node, f"group {group} must divide the {x[1]} input channels")
    if w is None:
        return
    if len(w) != len(x) or w[1] * group != x[1] or w[0] % group or w[0] == 0:
        raise _invalid(node, f"weight {list(w)} does not fit input {list(x)} with group {group}")
    if kernel is not None and list(w[2:]) != kernel:
        raise _invalid(node, f"kernel_shape {kernel} is not the weight's {list(w[2:])}")
    b = _shape(tensors, node.inputs[2] if len(node.inputs) > 2 else "")
    if b is not None and b != (w[0],):
        raise _invalid(node, f"bias {list(b)} must be [{w[0]}]")


def transpose_perm(node: Node, tensors: dict[str, Tensor]) -> None:
    x = _shape(tensors, node.inputs[0] if node.inputs else "")
    perm = node.attr("perm")
    if x is not None and perm is not None and sorted(perm) != list(range(len(x))):
        raise _invalid(node, f"perm {list(perm)} is not a permutation of {len(x)} axes")


def batchnorm_vectors(node: Node, tensors: dict[str, Tensor]) -> None:
    x = _shape(tensors, node.inputs[0] if node.inputs else "")
    if x is None or len(x) < 2:
        return
    for name in node.inputs[1:5]:
        v = _shape(tensors, name)
        if v is not None and v != (x[1],):
            raise _invalid(node, f"'{name}' has shape {list(v)}; BatchNormalization needs "
                                 f"[{x[1]}] (the channels)")


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


def layernorm_params(node: Node, tensors: dict[str, Tensor]) -> None:
    """Scale and bias must broadcast to the normalized dims (ONNX's inference does not
    check them)."""
    x = _shape(tensors, node.inputs[0] if node.inputs else "")
    axis = node.attr("axis", -1)
    if x is None or not -len(x) <= axis < len(x):
        return
    norm = x[axis:] if axis >= 0 else x[len(x) + axis:]
    for name in node.inputs[1:3]:
        v = _shape(tensors, name)
        if v is None:
            continue
        if len(v) > len(norm) or any(a not in (1, b) for a, b in zip(v[::-1], norm[::-1])):
            raise _invalid(node, f"'{name}' has shape {list(v)}; it must broadcast to the "
                                 f"normalized dims {list(norm)}")


RULES: dict[str, list[Rule]] = {
    "LayerNormalization": [layernorm_params],
    "Slice": [slice_negative_step_to_int64_max],
    "AveragePool": [window_attrs, pool_ceil_mode],
    "MaxPool": [window_attrs, pool_ceil_mode],
    "Conv": [window_attrs],
    "Transpose": [transpose_perm],
    "BatchNormalization": [batchnorm_vectors],
}


def schema_fit(node: Node, opset: int) -> None:
    """The node fits its op's schema at the model's opset: input and output counts,
    required attributes present, attribute types right. (onnx's checker passed a Slice
    with three inputs in an opset-5 model, whose Slice takes one and attributes.)"""
    try:
        schema = onnx.defs.get_schema(node.op, opset, node.domain or "")
    except onnx.defs.SchemaError:
        raise _unsupported(node, f"no op {node.op} in opset {opset}") from None
    n_in = len(node.inputs)
    while n_in and not node.inputs[n_in - 1]:
        n_in -= 1  # trailing optional inputs left empty
    if not schema.min_input <= n_in <= schema.max_input:
        raise _invalid(node, f"{n_in} inputs; {node.op}-{schema.since_version} takes "
                             f"{schema.min_input} to {schema.max_input}")
    if not schema.min_output <= len(node.outputs) <= schema.max_output:
        raise _invalid(node, f"{len(node.outputs)} outputs; {node.op}-{schema.since_version} "
                             f"gives {schema.min_output} to {schema.max_output}")
    for name, attr in schema.attributes.items():
        if attr.required and name not in node.attrs:
            raise _invalid(node, f"'{name}' is required by {node.op}-{schema.since_version}")
    for name in node.attrs:
        if name not in schema.attributes:
            raise _invalid(node, f"'{name}' is not an attribute of "
                                 f"{node.op}-{schema.since_version}")


def check_node(node: Node, tensors: dict[str, Tensor], path: str, opset: int) -> None:
    """Every rule for `node`; the first that fails is one MobilecError naming the file."""
    try:
        schema_fit(node, opset)
        for rule in RULES.get(node.op, []):
            rule(node, tensors)
    except MobilecError as err:
        raise MobilecError(err.message, path=path, node=err.node, op=err.op) from None
