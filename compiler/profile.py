"""What each lowered kernel call is (a label that groups like calls) and how many
multiply-adds it does: the numbers `mobilec bench --profile` and `make bench` report as
time shares and GFLOP/s."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .ir import Node
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


def by_label(nodes: list[Node], seconds: list[float],
             detail: Callable[[Node], str] | None = None) -> list[KernelTime]:
    """Per-call seconds (in the order of the kernel calls) summed per label, most
    expensive first; with `detail`, per label and detail(node) (e.g. its shapes)."""
    calls = [n for n in nodes if n.op != "alias"]
    if len(calls) != len(seconds):
        raise ValueError(f"{len(seconds)} profile entries for {len(calls)} kernel calls")
    out: dict[str, KernelTime] = {}
    for node, s in zip(calls, seconds):
        label = kernel_label(node) + (f" {detail(node)}" if detail else "")
        kt = out.setdefault(label, KernelTime(label, 0, 0.0, 0))
        kt.calls += 1
        kt.seconds += s
        kt.macs += kernel_macs(node)
    return sorted(out.values(), key=lambda k: -k.seconds)


def total_macs(nodes: list[Node]) -> int:
    return sum(kernel_macs(n) for n in nodes if n.op != "alias")
