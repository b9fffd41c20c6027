"""float16 graphs computed in float32: every float16 in the model becomes float32.

A model converted to float16 (onnxconverter-common's `convert_float_to_float16`, how fp16
ONNX files are published) stores its weights as float16 and computes in float16, often
with float32 inputs and outputs and Casts at the edges (`keep_io_types=True`). mobilec
runs it in float32: float16 initializers and Constant values are widened at compile time
(exactly: every float16 is a float32), Casts to float16 become Casts to float32 (then
no-ops), and float16 inputs, outputs and value infos are typed float32 — the generated
C takes and returns float32 either way. Only the rounding of activations to float16
is dropped, so the result is the float16 model's weights computed more exactly.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from .errors import MobilecError

F16, F32 = TensorProto.FLOAT16, TensorProto.FLOAT


def is_float16(model: onnx.ModelProto) -> bool:
    g = model.graph
    if any(t.data_type == F16 for t in g.initializer):
        return True
    if any(vi.type.tensor_type.elem_type == F16 for vi in [*g.input, *g.output, *g.value_info]):
        return True
    return any(n.op_type == "Cast" and any(a.name == "to" and a.i == F16 for a in n.attribute)
               for n in g.node)


def _widen_tensor(t: onnx.TensorProto) -> None:
    if t.data_type != F16:
        return
    try:
        value = numpy_helper.to_array(t)
    except Exception as err:  # numpy and onnx raise ValueError, TypeError, ...
        raise MobilecError(f"float16 tensor '{t.name}' cannot be read (its data does not "
                           f"match its dims?): {err}") from None
    t.CopyFrom(numpy_helper.from_array(value.astype(np.float32), t.name))


def widen(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` in which every float16 is float32 (see the module's text)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for t in g.initializer:
        _widen_tensor(t)
    for vi in [*g.input, *g.output, *g.value_info]:
        if vi.type.tensor_type.elem_type == F16:
            vi.type.tensor_type.elem_type = F32
    for n in g.node:
        for a in n.attribute:
            if a.name in ("to", "dtype") and a.type == onnx.AttributeProto.INT and a.i == F16:
                a.i = F32
            elif a.type == onnx.AttributeProto.TENSOR:
                _widen_tensor(a.t)
            elif a.type == onnx.AttributeProto.TENSORS:
                for t in a.tensors:
                    _widen_tensor(t)
    return m
