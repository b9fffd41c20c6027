"""compiler/bench.py's summaries of the timed rounds (no timing here: test_cli.py runs
`mobilec bench` itself)."""
from __future__ import annotations

from compiler.bench import BenchResult
from compiler.ir import Node
from compiler.profile import kernel_label


def test_best_ratio_is_fastest_round_over_fastest_round() -> None:
    """Not the smallest per-round ratio: each side's own fastest round, whichever round
    it came in (the load that slows one side in a round need not slow the other)."""
    r = BenchResult("m", "generic", mobilec_ms=12.0, onnxruntime_ms=20.0, macs=1,
                    mobilec_rounds=[10.0, 12.0, 14.0], onnxruntime_rounds=[30.0, 20.0, 16.0])
    assert r.best_ratio == 10.0 / 16.0
    assert r.best == "0.625"
    assert r.round_ratios == [10 / 30, 12 / 20, 14 / 16]
    assert r.spread == "0.333-0.875"


def test_best_ratio_without_rounds() -> None:
    r = BenchResult("m", "generic", mobilec_ms=1.0, onnxruntime_ms=2.0, macs=1)
    assert r.best_ratio is None and r.best == "-" and r.spread == "-"


def test_conv_labels_name_their_fused_activation() -> None:
    """A convolution's profile row says when its time includes a fused GELU (the stem's
    3x3/2 conv is compared with onnxruntime's conv plus its Gelu)."""
    conv = {"kh": 3, "kw": 3, "sh": 2, "groups": 1}
    dw = {"kh": 7, "kw": 7, "sh": 2, "mult": 2}
    def label(op: str, attrs: dict[str, object]) -> str:
        return kernel_label(Node(op, "n", ["x"], ["y"], attrs))
    assert label("conv2d_gemm_nhwc", {**conv, "act": "MCR_GELU_ERF"}) \
        == "conv2d_gemm_nhwc 3x3/2 +gelu_erf"
    assert label("conv2d_gemm_nhwc", {**conv, "act": None}) == "conv2d_gemm_nhwc 3x3/2"
    assert label("dwconv2d_nhwc", {**dw, "act": "MCR_GELU_ERF"}) \
        == "dwconv2d_nhwc 7x7/2 x2 +gelu_erf"
    assert label("dwconv2d", {**dw, "mult": 1}) == "dwconv2d 7x7/2"
