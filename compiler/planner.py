"""Static memory plan: every intermediate tensor gets an offset in one arena.

1. Schedule: the lowered order, or a memory-aware reordering of it (a topological order
   that, among the ready kernels, runs the one that frees the most bytes for the fewest
   allocated), kept only when it lowers the peak of live bytes.
2. Buffers: a tensor owns its bytes unless it is a view ("alias" kernel) of another, or an
   in-place kernel writes it over an input that dies at that step (elementwise kernels
   whose output element i depends only on input element i: KernelSpec.inplace, kernels.py).
3. Offsets: greedy by size, as TFLite's arena planner: the largest buffer first, each at
   the lowest 64-byte-aligned offset that overlaps no placed buffer whose lifetime meets it.
4. check() proves the plan valid: no two buffers live at one step share a byte, and every
   in-place pair is one the kernel allows. A plan it rejects is a compiler bug: compile
   fails naming the tensors, and no code is emitted.

The lower bound is the largest total of live (aligned) bytes at any step: no placement of
these buffers in this order can use less.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import MobilecError
from .ir import Graph, Node
from .kernels import spec

ALIGN = 64



def align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    name: str        # the tensor that owns the bytes (views and in-place results share them)
    size: int        # bytes, aligned
    first: int       # step that writes it
    last: int        # last step that reads it (or a tensor sharing it)
    offset: int = -1
    tensors: list[str] = field(default_factory=list)


@dataclass
class Plan:
    # tensor -> (kind, index or byte offset): ("input", k), ("output", k), ("arena", off),
    # ("const", 0)
    storage: dict[str, tuple[str, int]] = field(default_factory=dict)
    buffers: list[Buffer] = field(default_factory=list)
    inplace: list[tuple[int, str, str]] = field(default_factory=list)  # (step, input, output)
    arena_bytes: int = 0
    lower_bound: int = 0
    lower_bound_lowered_order: int = 0  # the peak before scheduling, for the report
    rescheduled: bool = False
    unplanned_bytes: int = 0  # what the intermediates would take with no reuse at all


def _contiguous(shape: list[int]) -> list[int]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return out[::-1]


def inplace_ok(node: Node, k: int, graph: Graph) -> bool:
    """Whether `node` may write its output over its input k."""
    if k not in spec(node.op).inplace or k >= len(node.inputs):
        return False
    src, dst = graph.t(node.inputs[k]), graph.t(node.outputs[0])
    if src.nbytes != dst.nbytes or dst.nbytes == 0:
        return False
    if node.op == "binary":
        stride = node.attrs["astride" if k == 0 else "bstride"]
        shape = node.attrs["shape"]
        return [s for s, n in zip(stride, shape) if n != 1] == \
            [s for s, n in zip(_contiguous(shape), shape) if n != 1]
    return True


def _buffers(graph: Graph, nodes: list[Node], inplace: bool) -> tuple[
        dict[str, str], dict[str, Buffer], list[tuple[int, str, str]]]:
    """Tensor -> owning tensor, the buffers (by owner), and the in-place pairs."""
    owner: dict[str, str] = {}
    bufs: dict[str, Buffer] = {}
    pairs: list[tuple[int, str, str]] = []
    outputs = set(graph.outputs)
    end = len(nodes)
    last_use: dict[str, int] = {}
    for step, node in enumerate(nodes):
        for i in node.inputs:
            if i:
                last_use[i] = step
    for o in outputs:
        last_use[o] = end  # the caller reads the outputs after the last step
    owner_last: dict[str, int] = {}  # owner -> last step any tensor sharing it is read

    def assign(t: str, own: str, step: int) -> None:
        owner[t] = own
        owner_last[own] = max(owner_last.get(own, step), last_use.get(t, step))

    for step, node in enumerate(nodes):
        for o in node.outputs:
            if not o:
                continue
            if node.op == "alias":
                src = node.inputs[0]
                assign(o, owner.get(src, src), step)
                continue
            own = o
            if inplace and o not in outputs:
                for k in spec(node.op).inplace:
                    src = node.inputs[k] if k < len(node.inputs) else ""
                    src_owner = owner.get(src, "")
                    # The input's bytes die here: nothing sharing them is read later.
                    if (src_owner in bufs and owner_last.get(src_owner) == step
                            and inplace_ok(node, k, graph)):
                        own = src_owner
                        pairs.append((step, src, o))
                        break
            if own == o:
                bufs[o] = Buffer(o, align(graph.t(o).nbytes), step, step)
            assign(o, own, step)
    for t, own in owner.items():
        if own in bufs:
            bufs[own].tensors.append(t)
            bufs[own].last = max(bufs[own].last, owner_last[own])
    return owner, bufs, pairs


def _arena_buffers(graph: Graph, owner: dict[str, str], bufs: dict[str, Buffer]) -> dict[str, Buffer]:
    """The buffers that live in the arena: not graph outputs nor views of inputs."""
    out_owners = {owner.get(o, o) for o in graph.outputs}
    return {k: b for k, b in bufs.items() if k not in out_owners}


def peak(bufs: list[Buffer], steps: int) -> int:
    live = [0] * max(steps, 1)
    for b in bufs:
        for s in range(b.first, b.last + 1):
            live[s] += b.size
    return max(live, default=0)


def memory_aware_order(graph: Graph) -> list[Node]:
    """A topological order that, among ready kernels, prefers the one whose step frees the
    most bytes net of what it allocates (ties: the lowered order)."""
    producers = {o: i for i, n in enumerate(graph.nodes) for o in n.outputs if o}
    deps = [{producers[i] for i in n.inputs if i in producers} for n in graph.nodes]
    users: dict[int, list[int]] = {}
    for i, d in enumerate(deps):
        for j in d:
            users.setdefault(j, []).append(i)
    readers: dict[str, int] = {}
    for n in graph.nodes:
        for i in set(x for x in n.inputs if x):
            readers[i] = readers.get(i, 0) + 1
    remaining = dict(readers)
    done: set[int] = set()
    ready = {i for i, d in enumerate(deps) if not d}
    order: list[Node] = []
    while ready:
        def gain(i: int) -> tuple[int, int]:
            n = graph.nodes[i]
            alloc = 0 if n.op == "alias" else sum(graph.t(o).nbytes for o in n.outputs if o)
            freed = sum(graph.t(x).nbytes for x in set(n.inputs) if x and remaining.get(x) == 1
                        and not graph.t(x).is_const and x not in graph.inputs)
            return (alloc - freed, i)
        best = min(ready, key=gain)
        ready.discard(best)
        done.add(best)
        n = graph.nodes[best]
        order.append(n)
        for x in set(n.inputs):
            if x:
                remaining[x] -= 1
        for u in users.get(best, []):
            if deps[u] <= done:
                ready.add(u)
    if len(order) != len(graph.nodes):
        raise MobilecError("the lowered graph has a cycle", stage="planner")
    return order


def plan(graph: Graph, inplace: bool = True, schedule: bool = True) -> Plan:
    """Plan the arena for `graph`; may reorder graph.nodes (a valid topological order) when
    that lowers the peak."""
    p = Plan()
    base_owner, base_bufs, _ = _buffers(graph, graph.nodes, inplace)
    base_peak = peak(list(_arena_buffers(graph, base_owner, base_bufs).values()), len(graph.nodes))
    p.lower_bound_lowered_order = base_peak
    if schedule:
        order = memory_aware_order(graph)
        owner, bufs, _ = _buffers(graph, order, inplace)
        if peak(list(_arena_buffers(graph, owner, bufs).values()), len(order)) < base_peak:
            graph.nodes = order
            p.rescheduled = True
    owner, bufs, p.inplace = _buffers(graph, graph.nodes, inplace)

    for k, name in enumerate(graph.inputs):
        p.storage[name] = ("input", k)
    out_owner: dict[str, int] = {}
    for k, name in enumerate(graph.outputs):
        r = owner.get(name, name)
        if r in out_owner or r in graph.inputs or graph.t(r).is_const:
            raise MobilecError(f"output '{name}' shares its bytes with another input/output; "
                               "lowering should have copied it", stage="planner")
        out_owner[r] = k

    arena = _arena_buffers(graph, owner, bufs)
    p.buffers = sorted(arena.values(), key=lambda b: b.first)
    p.unplanned_bytes = sum(align(graph.t(t).nbytes) for n in graph.nodes if n.op != "alias"
                            for t in n.outputs if t and owner.get(t) in arena)
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
    p.lower_bound = peak(p.buffers, len(graph.nodes))
    check(p, graph)

    for name, t in graph.tensors.items():
        if t.is_const:
            p.storage[name] = ("const", 0)
    for name, r in owner.items():
        if r in out_owner:
            p.storage[name] = ("output", out_owner[r])
        elif r in arena:
            p.storage[name] = ("arena", arena[r].offset)
        elif r in graph.inputs:
            p.storage[name] = ("input", graph.inputs.index(r))
        elif graph.t(r).is_const:
            p.storage[name] = ("const", 0)
    return p


def check(p: Plan, graph: Graph) -> None:
    """Prove the plan valid, or raise naming what is wrong."""
    bufs = sorted(p.buffers, key=lambda b: b.offset)
    for i, a in enumerate(bufs):
        if a.offset < 0 or a.offset % ALIGN:
            raise MobilecError(f"plan places '{a.name}' at bad offset {a.offset}",
                               stage="planner")
        if a.size < align(max(graph.t(t).nbytes for t in a.tensors)):
            raise MobilecError(f"plan gives '{a.name}' {a.size} bytes, too few for "
                               f"{a.tensors}", stage="planner")
        for b in bufs[i + 1:]:
            if b.offset >= a.offset + a.size:
                break
            if a.first <= b.last and b.first <= a.last:
                raise MobilecError(
                    f"plan overlaps '{a.name}' (bytes {a.offset}-{a.offset + a.size}, steps "
                    f"{a.first}-{a.last}) and '{b.name}' (bytes {b.offset}-{b.offset + b.size}, "
                    f"steps {b.first}-{b.last}) in the arena", stage="planner")
    for step, src, dst in p.inplace:
        node = graph.nodes[step]
        k = node.inputs.index(src) if src in node.inputs else -1
        if dst not in node.outputs or not inplace_ok(node, k, graph):
            raise MobilecError(f"plan writes '{dst}' over '{src}' in place, which kernel "
                               f"{node.op} does not allow", stage="planner")
