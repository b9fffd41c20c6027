"""Static memory plan: every intermediate tensor gets an offset in one arena.

Lifetimes are taken over the final kernel order. Views ("alias" kernels) share their
source's buffer, so a buffer lives from its producer to the last reader of any of its
views. Offsets come from greedy-by-size placement (as TFLite's arena planner): the largest
buffer first, each at the lowest 64-byte-aligned offset that does not overlap a buffer
already placed whose lifetime intersects it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import MobilecError
from .ir import Graph

ALIGN = 64


def align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    name: str        # the tensor that owns the bytes (its views share them)
    size: int        # bytes, aligned
    first: int       # step that writes it
    last: int        # last step that reads it (or a view of it)
    offset: int = -1


@dataclass
class Plan:
    # tensor -> (kind, index or offset): ("input", k), ("output", k), ("arena", off),
    # ("const", 0)
    storage: dict[str, tuple[str, int]] = field(default_factory=dict)
    buffers: list[Buffer] = field(default_factory=list)
    arena_bytes: int = 0
    lower_bound: int = 0

    @property
    def unplanned_bytes(self) -> int:
        """What the intermediates would take with no reuse at all."""
        return sum(b.size for b in self.buffers)


def plan(graph: Graph) -> Plan:
    root = graph.view_roots()
    p = Plan()
    for k, name in enumerate(graph.inputs):
        p.storage[name] = ("input", k)
    out_roots: dict[str, int] = {}
    for k, name in enumerate(graph.outputs):
        r = root.get(name, name)
        if r in out_roots or r in graph.inputs or graph.t(r).is_const:
            raise MobilecError(f"output '{name}' shares its bytes with another input/output; "
                               "lowering should have copied it", stage="planner")
        out_roots[r] = k

    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for step, node in enumerate(graph.nodes):
        for o in node.outputs:
            if o and node.op != "alias":
                first.setdefault(o, step)
        for i in node.inputs:
            if i:
                r = root.get(i, i)
                last[r] = step
    for step, node in enumerate(graph.nodes):
        for o in node.outputs:
            if o and root.get(o) == o and o not in last:
                last[o] = step  # written but never read (an unused output of a split)

    for name in first:
        if name in out_roots or name in p.storage:
            continue
        p.buffers.append(Buffer(name, align(graph.t(name).nbytes), first[name], last[name]))

    placed: list[Buffer] = []
    for buf in sorted(p.buffers, key=lambda b: (-b.size, b.first, b.name)):
        live = sorted((b for b in placed if b.first <= buf.last and buf.first <= b.last),
                      key=lambda b: b.offset)
        offset = 0
        for other in live:
            if offset + buf.size <= other.offset:
                break
            offset = max(offset, other.offset + other.size)
        buf.offset = offset
        placed.append(buf)
    p.arena_bytes = max((b.offset + b.size for b in p.buffers), default=0)
    steps = len(graph.nodes)
    live_bytes = [0] * max(steps, 1)
    for b in p.buffers:
        for s in range(b.first, b.last + 1):
            live_bytes[s] += b.size
    p.lower_bound = max(live_bytes, default=0)
    check(p)

    for name, t in graph.tensors.items():
        if t.is_const:
            p.storage[name] = ("const", 0)
    offsets = {b.name: b.offset for b in p.buffers}
    for name, r in root.items():
        if r in out_roots:
            p.storage[name] = ("output", out_roots[r])
        elif r in offsets:
            p.storage[name] = ("arena", offsets[r])
        elif r in graph.inputs:
            p.storage[name] = ("input", graph.inputs.index(r))
        elif graph.t(r).is_const:
            p.storage[name] = ("const", 0)
    return p


def check(p: Plan) -> None:
    """Prove the plan valid: no two buffers live at the same step share a byte."""
    bufs = sorted(p.buffers, key=lambda b: b.offset)
    for i, a in enumerate(bufs):
        if a.offset < 0 or a.offset % ALIGN:
            raise MobilecError(f"plan places '{a.name}' at bad offset {a.offset}",
                               stage="planner")
        for b in bufs[i + 1:]:
            if b.offset >= a.offset + a.size:
                break
            if a.first <= b.last and b.first <= a.last:
                raise MobilecError(f"plan overlaps '{a.name}' and '{b.name}' in the arena",
                                   stage="planner")
