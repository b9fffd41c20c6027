"""The IR: a Graph of Nodes over Tensors. Every shape is static; constants are numpy arrays.

ONNX nodes have domain "" and ONNX attributes. After lowering, every node has domain "mcr"
and is one runtime kernel call (or an "alias": a view that costs nothing).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))
    data: np.ndarray | None = None  # set for constants

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


@dataclass
class Node:
    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: str = ""

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


@dataclass
class Graph:
    name: str
    tensors: dict[str, Tensor]
    nodes: list[Node]
    inputs: list[str]
    outputs: list[str]
    opset: int
    path: str = "<graph>"
    # What `mobilec diff` needs to find an ONNX tensor's value in a kernel's output: a
    # tensor keeping its ONNX name holds that tensor's value, laid out as layouts[name]
    # (logical dims in memory order; row-major when absent, set by the layout pass), and
    # when row_slices[name] lists (axis, start, length) slices, only those rows of it
    # (set by slice_rows). A pass that makes a named tensor hold anything else renames it.
    layouts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    row_slices: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)

    # --- queries -------------------------------------------------------------------
    def t(self, name: str) -> Tensor:
        return self.tensors[name]

    def const(self, name: str) -> np.ndarray | None:
        """The constant value of a tensor, or None when it is computed at run time."""
        if not name:
            return None
        return self.tensors[name].data

    def producers(self) -> dict[str, Node]:
        return {o: n for n in self.nodes for o in n.outputs if o}

    def consumers(self) -> dict[str, list[Node]]:
        users: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                if i:
                    users.setdefault(i, []).append(n)
        return users

    def view_roots(self) -> dict[str, str]:
        """Tensor -> the tensor whose bytes it is (itself unless an "alias" kernel made it
        a view of another)."""
        root: dict[str, str] = {}
        for node in self.nodes:
            for o in node.outputs:
                if o:
                    src = node.inputs[0] if node.op == "alias" else o
                    root[o] = root.get(src, src)
        return root

    def histogram(self) -> Counter[str]:
        return Counter(n.op for n in self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    # --- edits ---------------------------------------------------------------------
    def add_const(self, hint: str, value: np.ndarray) -> str:
        name = self.fresh(hint)
        value = np.asarray(value, order="C")
        self.tensors[name] = Tensor(name, tuple(value.shape), value.dtype, value)
        return name

    def add_tensor(self, hint: str, shape: tuple[int, ...],
                   dtype: np.dtype | None = None) -> str:
        name = self.fresh(hint)
        self.tensors[name] = Tensor(name, tuple(shape), np.dtype(dtype or np.float32))
        return name

    def fresh(self, hint: str) -> str:
        name, k = hint, 0
        while name in self.tensors:
            k += 1
            name = f"{hint}_{k}"
        return name

    def replace_uses(self, old: str, new: str) -> None:
        """Every reader of `old` reads `new` instead (graph outputs included)."""
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def remove_dead(self) -> None:
        """Drop nodes whose outputs nobody reads, and tensors nobody refers to."""
        live = set(self.outputs)
        kept: list[Node] = []
        for n in reversed(self.nodes):
            if any(o in live for o in n.outputs):
                kept.append(n)
                live.update(i for i in n.inputs if i)
        self.nodes = kept[::-1]
        # A kept node's unread outputs stay: it still writes them (a Split's unused part).
        used = live | set(self.inputs) | {o for n in kept for o in n.outputs if o}
        self.tensors = {k: v for k, v in self.tensors.items() if k in used}
