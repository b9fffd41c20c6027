"""What each lowered kernel call is (a label that groups like calls) and how many
multiply-adds it does: the numbers `mobilec bench --profile` and `make bench` report as
time shares and GFLOP/s."""
from __future__ import annotations

from dataclasses import dataclass

from .ir import Node


def kernel_label(node: Node) -> str:
    """A short name grouping calls of one kernel on like shapes, e.g. 'dwconv2d 7x7/2 x2'."""
    a = node.attrs
    if node.op in ("dwconv2d", "dwconv2d_nhwc"):
        mult = f" x{a['mult']}" if a["mult"] > 1 else ""
        return f"{node.op} {a['kh']}x{a['kw']}/{a['sh']}{mult}"
    if node.op in ("conv2d_gemm", "conv2d_gemm_nhwc"):
        grouped = " grouped" if a["groups"] > 1 else ""
        return f"{node.op} {a['kh']}x{a['kw']}/{a['sh']}{grouped}"
    if node.op == "matmul_packed" and a.get("pointwise"):  # a 1x1 conv over NHWC
        return "conv1x1 nhwc" + (f" +{str(a['act']).removeprefix('MCR_').lower()}"
                                 if a.get("act") else "")
    if node.op in ("unary", "binary"):
        return f"{node.op} {str(a['op']).removeprefix('MCR_').lower()}"
    if node.op in ("conv1x1", "matmul", "matmul_packed") and a.get("act"):
        return f"{node.op} +{str(a['act']).removeprefix('MCR_').lower()}"
    return node.op


def kernel_macs(node: Node) -> int:
    """Multiply-adds of one call (0 for kernels that do none worth counting)."""
    a = node.attrs
    if node.op == "conv1x1":
        return a["n"] * a["k"] * a["c"] * a["hw"]
    if node.op in ("dwconv2d", "dwconv2d_nhwc"):
        return a["n"] * a["c"] * a["mult"] * a["oh"] * a["ow"] * a["kh"] * a["kw"]
    if node.op in ("conv2d_gemm", "conv2d_gemm_nhwc"):
        return a["n"] * a["k"] * (a["c"] // a["groups"]) * a["kh"] * a["kw"] * a["oh"] * a["ow"]
    if node.op == "matmul":
        return len(a["offsets"]) * a["m"] * a["k"] * a["n"]
    if node.op == "matmul_packed":
        return a["m"] * a["k"] * a["n"]
    if node.op == "attention":
        return a["batch"] * a["m"] * a["n"] * (a["d"] + a["dv"])
    return 0


@dataclass
class KernelTime:
    label: str
    calls: int
    seconds: float
    macs: int

    @property
    def gflops(self) -> float:
        return 2 * self.macs / self.seconds / 1e9 if self.seconds > 0 else 0.0


def by_label(nodes: list[Node], seconds: list[float]) -> list[KernelTime]:
    """Per-call seconds (in the order of the kernel calls) summed per label, most
    expensive first."""
    calls = [n for n in nodes if n.op != "alias"]
    if len(calls) != len(seconds):
        raise ValueError(f"{len(seconds)} profile entries for {len(calls)} kernel calls")
    out: dict[str, KernelTime] = {}
    for node, s in zip(calls, seconds):
        label = kernel_label(node)
        kt = out.setdefault(label, KernelTime(label, 0, 0.0, 0))
        kt.calls += 1
        kt.seconds += s
        kt.macs += kernel_macs(node)
    return sorted(out.values(), key=lambda k: -k.seconds)


def total_macs(nodes: list[Node]) -> int:
    return sum(kernel_macs(n) for n in nodes if n.op != "alias")
