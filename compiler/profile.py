"""What each lowered kernel call is (a label that groups like calls) and how many
multiply-adds it does: the numbers `mobilec bench --profile` and `make bench` report as
time shares and GFLOP/s."""
from __future__ import annotations

from dataclasses import dataclass

from .ir import Graph, Node
from .kernels import spec


def kernel_label(node: Node) -> str:
    """A short name grouping calls of one kernel on like shapes, e.g. 'dwconv2d 7x7/2 x2'."""
    return spec(node.op).label(node)


def kernel_macs(node: Node) -> int:
    """Multiply-adds of one call (0 for kernels that do none worth counting)."""
    return spec(node.op).macs(node.attrs)


@dataclass
class KernelTime:
    label: str
    calls: int
    seconds: float
    macs: int

    @property
    def gflops(self) -> float:
        return 2 * self.macs / self.seconds / 1e9 if self.seconds > 0 else 0.0


def call_shapes(graph: Graph, node: Node) -> str:
    """A call's first input's and its output's shapes, e.g. '1x320x16x16->1x960x16x16'."""
    def dims(name: str) -> str:
        return "x".join(map(str, graph.t(name).shape)) or "scalar"
    return f"{dims(node.inputs[0]) if node.inputs else '-'}->{dims(node.outputs[0])}"


def by_label(nodes: list[Node], seconds: list[float],
             graph: Graph | None = None) -> list[KernelTime]:
    """Per-call seconds (in the order of the kernel calls) summed per label, most
    expensive first; given the graph, per label and the call's shapes (call_shapes)."""
    calls = [n for n in nodes if n.op != "alias"]
    if len(calls) != len(seconds):
        raise ValueError(f"{len(seconds)} profile entries for {len(calls)} kernel calls")
    out: dict[str, KernelTime] = {}
    for node, s in zip(calls, seconds):
        label = kernel_label(node) + (f" {call_shapes(graph, node)}" if graph else "")
        kt = out.setdefault(label, KernelTime(label, 0, 0.0, 0))
        kt.calls += 1
        kt.seconds += s
        kt.macs += kernel_macs(node)
    return sorted(out.values(), key=lambda k: -k.seconds)


def total_macs(nodes: list[Node]) -> int:
    return sum(kernel_macs(n) for n in nodes if n.op != "alias")
