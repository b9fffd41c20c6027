"""The runtime's kernels as the compiler sees them: one spec per kernel, the one place
that says what the passes need to know of it -- its template, which layout rule the
layout pass applies to it, which inputs its output may overwrite (the planner), its
scratch size (the runtime's formula, in floats: a test checks the two agree), its
multiply-adds and its label in profiles. A new kernel is a spec here, a lowering or a
pass that makes its node, a template (templates/kernels/<op>.j2), and its runtime code.

Which micro-kernel, tile and blocking a kernel uses per ISA is the runtime's business
(runtime/src/config.h): nothing here depends on the target.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .errors import MobilecError
from .ir import Graph, Node

Attrs = Mapping[str, Any]

# The runtime's constants the scratch formulas use (runtime/src, named beside each).
PANEL = 32  # MCR_PANEL in runtime/include/mcr.h
DWCONV_MAX_TAPS = 256  # MCR_DWCONV_MAX_TAPS
DWCONV_TILE_MAX = 128  # MCR_DWCONV_TILE_MAX (runtime/src/config.h)
GEMM_BAND_PIXELS = 512  # BAND_PIXELS in conv_gemm.c
DWCONV_NHWC_GROUP = 16  # GROUP in dwconv_nhwc.c
DWCONV_NHWC_RING_FLOATS = 6144  # RING_FLOATS in dwconv_nhwc.c
DWCONV_NHWC_BIG_INPUT = 1 << 19  # BIG_INPUT in dwconv_nhwc.c
GEMM_NHWC_BAND = 128  # BAND in conv_gemm_nhwc.c
ATTN_ROWS = 256  # ATTN_ROWS in attention.c
MLP_HIDDEN_FLOATS = 24576  # MLP_HIDDEN_FLOATS in mlp.c
MLP_ROW_STEP = 24  # MLP_ROW_STEP in mlp.c


def dwconv_scratch_floats(oh: int, ow: int, kh: int, kw: int, sh: int, sw: int) -> int:
    """mcr_dwconv2d_scratch_floats: the stride-phase-split padded plane, the flat tile."""
    hq, wq = oh + (kh - 1) // sh, ow + (kw - 1) // sw
    return sh * sw * hq * wq + oh * wq + 2 * DWCONV_TILE_MAX


def dwconv_nhwc_scratch_floats(k: int, h: int, wd: int, c: int, ow: int, kh: int, kw: int,
                               sw: int) -> int:
    """mcr_dwconv2d_nhwc_scratch_floats: a ring of kh + 1 padded rows of a channel group
    (group() in dwconv_nhwc.c)."""
    wp = (ow - 1) * sw + kw
    if k <= DWCONV_NHWC_GROUP or h * wd * c > DWCONV_NHWC_BIG_INPUT:
        group = k
    else:
        group = min(k, max(DWCONV_NHWC_GROUP, DWCONV_NHWC_RING_FLOATS // (kh * wp)
                           // DWCONV_NHWC_GROUP * DWCONV_NHWC_GROUP))
    return (kh + 1) * wp * group


def conv_gemm_nhwc_scratch_floats(c: int, kh: int, kw: int) -> int:
    """mcr_conv2d_gemm_nhwc_scratch_floats: an im2col band."""
    return GEMM_NHWC_BAND * kh * kw * c


def conv_gemm_scratch_floats(c: int, oh: int, ow: int, kh: int, kw: int, groups: int) -> int:
    """mcr_conv2d_gemm_scratch_floats: an im2col band in panels."""
    rows = max(1, min(oh, GEMM_BAND_PIXELS // ow))
    panels = -(-rows * ow // PANEL)
    return (c // groups) * kh * kw * panels * PANEL + ow


def conv_dw_nhwc_scratch_floats(c: int, kh: int, kw: int, k: int, ow: int, kh2: int,
                                kw2: int, sw2: int) -> int:
    """mcr_conv_dw_nhwc_scratch_floats: a ring of kh2 + 1 padded rows of all k channels
    (the last one zeros), an im2col band."""
    return (kh2 + 1) * ((ow - 1) * sw2 + kw2) * k + GEMM_NHWC_BAND * kh * kw * c


def mlp_packed_scratch_floats(h: int) -> int:
    """mcr_mlp_packed_scratch_floats: one block of rows of the hidden tensor."""
    return max(MLP_ROW_STEP, MLP_HIDDEN_FLOATS // h // MLP_ROW_STEP * MLP_ROW_STEP) * h


def attention_scratch_floats(m: int, n: int, d: int, dv: int) -> int:
    """mcr_attention_scratch_floats: a tile of query rows' scores (rows padded to whole
    panels), kᵀ and v packed in panels."""
    ld = -(-n // PANEL) * PANEL
    return min(m, ATTN_ROWS) * ld + d * ld + n * (-(-dv // PANEL) * PANEL)


def _act(a: Attrs) -> str:
    return f" +{str(a['act']).removeprefix('MCR_').lower()}" if a.get("act") else ""


def _dw_label(n: Node) -> str:
    a = n.attrs
    mult = f" x{a['mult']}" if a["mult"] > 1 else ""
    return f"{n.op} {a['kh']}x{a['kw']}/{a['sh']}{mult}{_act(a)}"


def _gemm_conv_label(n: Node) -> str:
    a = n.attrs
    grouped = " grouped" if a["groups"] > 1 else ""
    return f"{n.op} {a['kh']}x{a['kw']}/{a['sh']}{grouped}{_act(a)}"


def _conv_dw_label(n: Node) -> str:
    # the conv's kernel, stride and activation, then the depthwise conv's
    a = n.attrs
    return (f"{n.op} {a['kh']}x{a['kw']}/{a['sh']}{_act({'act': a.get('act1')})}"
            f" + {a['kh2']}x{a['kw2']}/{a['sh2']}{_act(a)}")


def _conv_dw_macs(a: Attrs) -> int:
    return a["n"] * a["k"] * (a["c"] * a["kh"] * a["kw"] * a["oh1"] * a["ow1"]
                              + a["kh2"] * a["kw2"] * a["oh"] * a["ow"])


def _matmul_packed_label(n: Node) -> str:
    # pointwise: a 1x1 conv over NHWC pixels (the layout pass's)
    return ("conv1x1 nhwc" if n.attrs.get("pointwise") else n.op) + _act(n.attrs)


def _mlp_label(n: Node) -> str:
    # the hidden layer's activation (act1), then the output's
    hidden = _act({"act": n.attrs.get("act1")})
    return ("mlp nhwc" if n.attrs.get("pointwise") else "mlp") + hidden + _act(n.attrs)


def _elementwise_label(n: Node) -> str:
    return f"{n.op} {str(n.attrs['op']).removeprefix('MCR_').lower()}"


def _dw_macs(a: Attrs) -> int:
    return a["n"] * a["c"] * a["mult"] * a["oh"] * a["ow"] * a["kh"] * a["kw"]


def _gemm_conv_macs(a: Attrs) -> int:
    return a["n"] * a["k"] * (a["c"] // a["groups"]) * a["kh"] * a["kw"] * a["oh"] * a["ow"]


@dataclass(frozen=True)
class KernelSpec:
    op: str  # the node's op; its template is templates/kernels/<op>.j2
    # The layout pass's rule (compiler/passes/layout.py): "conv" (may turn channels-last),
    # "unary" / "binary" / "reduce" / "copy" (follow their inputs' layouts), "alias" (a
    # view), "row_major" (takes and makes row-major tensors).
    layout: str = "row_major"
    # Inputs the output may overwrite: output element i depends only on input element i
    # (softmax and layernorm per row, after reading the row); binary's only when read
    # with the output's own strides (planner.py checks).
    inplace: tuple[int, ...] = ()
    scratch: Callable[[Attrs], int] | None = None  # floats of scratch, from the attrs
    # Splits its work over the product's threads (its template passes `th`); with scratch,
    # each task after the first takes a slice of its size past the one-thread arena.
    parallel: bool = False
    macs: Callable[[Attrs], int] = lambda a: 0  # multiply-adds worth counting
    label: Callable[[Node], str] = lambda n: n.op + _act(n.attrs)  # groups like calls

    @property
    def template(self) -> str:
        return f"kernels/{self.op}.j2"


SPECS: dict[str, KernelSpec] = {s.op: s for s in [
    KernelSpec("conv1x1", layout="conv",
               macs=lambda a: a["n"] * a["k"] * a["c"] * a["hw"]),
    KernelSpec("dwconv2d", layout="conv", macs=_dw_macs, label=_dw_label,
               scratch=lambda a: dwconv_scratch_floats(a["oh"], a["ow"], a["kh"], a["kw"],
                                                       a["sh"], a["sw"])),
    KernelSpec("dwconv2d_nhwc", macs=_dw_macs, label=_dw_label, parallel=True,
               scratch=lambda a: dwconv_nhwc_scratch_floats(
                   a["c"] * a["mult"], a["h"], a["w"], a["c"], a["ow"], a["kh"], a["kw"],
                   a["sw"])),
    KernelSpec("conv2d_gemm", layout="conv", macs=_gemm_conv_macs, label=_gemm_conv_label,
               scratch=lambda a: conv_gemm_scratch_floats(a["c"], a["oh"], a["ow"], a["kh"],
                                                          a["kw"], a["groups"])),
    KernelSpec("conv2d_gemm_nhwc", macs=_gemm_conv_macs, label=_gemm_conv_label, parallel=True,
               scratch=lambda a: conv_gemm_nhwc_scratch_floats(a["c"], a["kh"], a["kw"])),
    KernelSpec("conv_dw_nhwc", macs=_conv_dw_macs, label=_conv_dw_label, parallel=True,
               scratch=lambda a: conv_dw_nhwc_scratch_floats(a["c"], a["kh"], a["kw"], a["k"],
                                                             a["ow"], a["kh2"], a["kw2"],
                                                             a["sw2"])),
    KernelSpec("matmul", macs=lambda a: len(a["offsets"]) * a["m"] * a["k"] * a["n"]),
    KernelSpec("matmul_packed", macs=lambda a: a["m"] * a["k"] * a["n"],
               label=_matmul_packed_label, parallel=True),
    KernelSpec("mlp_packed", macs=lambda a: a["m"] * a["h"] * (a["c"] + a["n"]),
               label=_mlp_label, parallel=True,
               scratch=lambda a: mlp_packed_scratch_floats(a["h"])),
    KernelSpec("attention",
               macs=lambda a: a["batch"] * a["heads"] * a["m"] * a["n"] * (a["d"] + a["dv"]),
               parallel=True,
               scratch=lambda a: attention_scratch_floats(a["m"], a["n"], a["d"], a["dv"])),
    KernelSpec("unary", layout="unary", inplace=(0,), label=_elementwise_label,
               parallel=True),
    KernelSpec("binary", layout="binary", inplace=(0, 1), label=_elementwise_label,
               parallel=True),
    KernelSpec("channel_affine", inplace=(0,), parallel=True),
    KernelSpec("softmax", inplace=(0,), parallel=True),
    KernelSpec("layernorm", inplace=(0,), parallel=True),
    KernelSpec("reduce", layout="reduce", parallel=True),
    KernelSpec("pool2d", parallel=True),
    KernelSpec("copy", layout="copy", parallel=True),
    KernelSpec("alias", layout="alias"),  # a view: no call, no template
]}


def spec(op: str) -> KernelSpec:
    if op not in SPECS:
        raise MobilecError(f"internal: no kernel '{op}' (compiler/kernels.py)")
    return SPECS[op]


def with_scratch(graph: Graph, node: Node) -> Node:
    """`node` with its scratch tensor appended to its outputs (named after its first
    output), sized by its spec; the planner places it in the arena like any tensor."""
    rule = spec(node.op).scratch
    if rule is not None:
        node.outputs.append(graph.add_tensor(f"{node.outputs[0]}_scratch", (rule(node.attrs),)))
    return node


def task_scratch_bytes(graph: Graph) -> int:
    """Bytes of scratch each thread after the first needs: the largest scratch of a
    threaded kernel (its tasks each take one of that size)."""
    sizes = [graph.t(n.outputs[1]).size * 4 for n in graph.nodes
             if spec(n.op).parallel and spec(n.op).scratch is not None]
    return max(sizes, default=0)
