"""The fuzzer in `make test`: a few hundred seeded malformed models, each ending in a
one-line error (exit 2, no file) or C that builds with -Werror and runs clean under ASan
and UBSan; and each failure the fuzzer found, kept as a regression case."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz  # noqa: E402

CASES = 300


def test_seeded_malformed_models() -> None:
    results = fuzz.fuzz(CASES, seed=0)
    counts = {k: len(v) for k, v in results.items()}
    print(f"fuzz: {CASES} cases: {counts}")
    bad = [f"case {c.index} ({c.mutation}): {o.kind}: {o.detail}"
           for kind, v in results.items() if kind not in ("error", "compiled") for c, o in v]
    assert not bad, "\n".join(bad)
    # The generator must reach both ends, or it tests nothing.
    assert counts.get("error", 0) > CASES // 4 and counts.get("compiled", 0) > CASES // 10


def _seed(k: int) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(fuzz.seeds()[k])
    return m


def _attr(m: onnx.ModelProto, node: str, name: str) -> onnx.AttributeProto:
    n = next(n for n in m.graph.node if n.name == node)
    return next(a for a in n.attribute if a.name == name)


def _short_pads(m: onnx.ModelProto) -> None:
    del _attr(m, "conv", "pads").ints[-1]


def _zero_stride(m: onnx.ModelProto) -> None:
    _attr(m, "conv", "strides").ints[0] = 0


def _group_mismatch(m: onnx.ModelProto) -> None:
    _attr(m, "dw", "group").i = 3


def _bad_perm(m: onnx.ModelProto) -> None:
    _attr(m, "tr", "perm").ints[0] = 7


def _empty_scale(m: onnx.ModelProto) -> None:
    g = next(t for t in m.graph.initializer if t.name == "g")
    g.CopyFrom(numpy_helper.from_array(np.zeros(0, np.float32), "g"))


def _bn_vector(m: onnx.ModelProto) -> None:
    s = next(t for t in m.graph.initializer if t.name == "s")
    s.CopyFrom(numpy_helper.from_array(np.ones(5, np.float32), "s"))


def _declared_output(m: onnx.ModelProto) -> None:
    m.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 1 << 62


def _half_retyped(m: onnx.ModelProto) -> None:
    """A float32 initializer's type changed to float16: twice the bytes its dims need."""
    next(t for t in m.graph.initializer if t.name == "w").data_type = TensorProto.FLOAT16


def _opset5_slice_form(m: onnx.ModelProto) -> None:
    m.opset_import[0].version = 5  # Gather by a scalar -> slice_rows makes a Slice-10


REGRESSIONS = {  # what the fuzzer found, each once an internal error, a traceback or worse
    "short_pads": (0, _short_pads, "pads"),
    "zero_stride": (0, _zero_stride, "strides"),
    "group_mismatch": (1, _group_mismatch, "group 3"),
    "bad_perm": (2, _bad_perm, "perm"),
    "empty_layernorm_scale": (6, _empty_scale, "must broadcast to the normalized dims"),
    "batchnorm_vector": (7, _bn_vector, "BatchNormalization needs [3]"),
    "declared_output_shape": (3, _declared_output, "declared with shape"),
    "float16_initializer_retyped": (3, _half_retyped, "float16 tensor 'w' cannot be read"),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_regression_is_one_line(case: str, tmp_path: Path) -> None:
    k, mutate, words = REGRESSIONS[case]
    m = _seed(k)
    mutate(m)
    results = fuzz.fuzz_one(m.SerializeToString(), tmp_path)
    assert results.kind == "error" and words in results.detail, results


def test_opset5_gather_sliced_by_a_pass_compiles(tmp_path: Path) -> None:
    m = _seed(2)
    _opset5_slice_form(m)
    results = fuzz.fuzz_one(m.SerializeToString(), tmp_path)
    assert results.kind == "compiled", results
