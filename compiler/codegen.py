"""Plan -> <name>_model.c and <name>_model.h, rendered by the Jinja2 templates.

The codegen never rewrites the graph: it lays the constants out in one read-only blob,
names every tensor's bytes from the plan, and renders one template per kernel call.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from . import __version__
from .blob import BYTES_PER_LINE, string_lines
from .errors import MobilecError
from .ir import Graph
from .kernels import spec, task_scratch_bytes
from .planner import Plan, align
from .targets import resolve

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
WEIGHT_FORMATS = ("auto", "inline", "incbin")
# Above this many weight bytes, "auto" picks incbin. Measured here with gcc 12 -O2: inline
# weights cost the compiler about 11 bytes of memory per weight byte (the front end holds
# the ~2.9-characters-per-byte literal text, and the assembler then reads gcc's .ascii
# output); ViT-B/16's 345 MB would need 4.6 GB. An .incbin blob costs nothing to compile.
INLINE_LIMIT = 192 << 20


@dataclass
class Generated:
    c_source: str
    header: str
    weights_bytes: int
    weights_blob: bytes | None = None  # set when the weights go in a separate .incbin file
    weights_file: str | None = None


def c_ident(name: str) -> str:
    """A C identifier from a user-given model name."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not ident or ident[0].isdigit():
        ident = "m_" + ident
    return ident


def c_float(v: Any) -> str:
    """A float32 value as a C literal that reads back bit-exact."""
    f = float(np.float32(v))
    if math.isnan(f):
        return "NAN"
    if math.isinf(f):
        return "INFINITY" if f > 0 else "(-INFINITY)"
    text = repr(f)
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_longs(values: list[int]) -> str:
    if not values:
        return "NULL"
    return "(const long[]){" + ", ".join(str(int(v)) for v in values) + "}"


def comment(text: str) -> str:
    """Text from the ONNX file made safe inside a C comment: printable ASCII only, no
    comment delimiters (`*/` would end it, `/*` inside one is a -Wcomment error), no
    `??` (a trigraph start, -Wtrigraphs)."""
    text = re.sub(r"[^\x20-\x7e]", "_", str(text))
    while "*/" in text or "/*" in text or "??" in text:
        text = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "?_")
    return text


def environment() -> jinja2.Environment:
    """The Jinja2 environment over templates/, with the C-literal filters."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["cfloat"] = c_float
    env.filters["clongs"] = c_longs
    env.filters["comment"] = comment
    return env


def _layout_weights(graph: Graph) -> tuple[dict[str, int], bytes]:
    offsets: dict[str, int] = {}
    parts: list[bytes] = []
    size = 0
    for node in graph.nodes:
        for name in node.inputs:
            t = graph.tensors.get(name) if name else None
            if t is None or not t.is_const or name in offsets:
                continue
            assert t.data is not None
            if t.dtype != np.float32:
                raise MobilecError(f"constant '{name}' is {t.dtype}; kernels read float32 only",
                                   path=graph.path, node=node.name, op=node.op)
            pad = align(size) - size
            if pad:
                parts.append(b"\0" * pad)
                size += pad
            offsets[name] = size
            raw = np.ascontiguousarray(t.data, dtype="<f4").tobytes()
            parts.append(raw)
            size += len(raw)
    return offsets, b"".join(parts)


def trace_points(graph: Graph, plan: Plan) -> dict[int, tuple[list[tuple[int, str]],
                                                              list[tuple[int, str]]]]:
    """Per kernel step, the (index, tensor) pairs a trace build (-DMOBILEC_TRACE) hands to
    the tracer: the inputs it reads from the arena or an output buffer (before the call),
    and the outputs that something reads (after it; scratch is not)."""
    readers = set(graph.consumers()) | set(graph.outputs)
    points = {}
    for step, node in enumerate(graph.nodes):
        if node.op == "alias":
            continue
        ins = [(k, t) for k, t in enumerate(node.inputs)
               if t and plan.storage[t][0] in ("arena", "output")]
        outs = [(k, t) for k, t in enumerate(node.outputs)
                if t and t in readers and plan.storage[t][0] in ("arena", "output")]
        points[step] = (ins, outs)
    return points


def generate(graph: Graph, plan: Plan, name: str, target: str = "generic",
             source: str = "", weights: str = "auto") -> Generated:
    tgt = resolve(target)
    if weights not in WEIGHT_FORMATS:
        raise MobilecError(f"unknown weights format '{weights}' (choose from "
                           f"{', '.join(WEIGHT_FORMATS)})")
    ident = c_ident(name)
    env = environment()
    woff, blob = _layout_weights(graph)
    incbin = weights == "incbin" or (weights == "auto" and len(blob) > INLINE_LIMIT)
    weights_file = f"{ident}_model.weights" if incbin else None
    single = len(graph.inputs) == 1 and len(graph.outputs) == 1
    in_names = ["input"] if single else [f"input{k}" for k in range(len(graph.inputs))]
    out_names = ["output"] if single else [f"output{k}" for k in range(len(graph.outputs))]

    def ptr(tensor: str, write: bool) -> str:
        kind, where = plan.storage[tensor]
        if kind == "input":
            return in_names[where]
        if kind == "output":
            return out_names[where]
        if kind == "arena":
            return f"(float *)(arena_ + {where})"
        assert not write, f"kernel writes constant {tensor}"
        return f"W({woff[tensor]})"

    points = trace_points(graph, plan)

    calls = []
    for step, node in enumerate(graph.nodes):
        if node.op == "alias":
            continue
        tmpl = env.get_template(spec(node.op).template)
        code = tmpl.render(a=node.attrs, x=[ptr(i, False) if i else "NULL" for i in node.inputs],
                           y=[ptr(o, True) if o else "" for o in node.outputs]).strip()
        shapes = ", ".join("x".join(map(str, graph.t(o).shape)) or "scalar" for o in node.outputs)
        ins, outs = points[step]
        calls.append({"step": step, "op": node.op, "node": node.name, "shapes": shapes,
                      "code": code,
                      "trace_in": [(k, ptr(t, True), graph.t(t).size) for k, t in ins],
                      "trace_out": [(k, ptr(t, True), graph.t(t).size) for k, t in outs]})

    io = {
        "inputs": [(n, graph.t(t).shape, graph.t(t).size, comment(t))
                   for n, t in zip(in_names, graph.inputs)],
        "outputs": [(n, graph.t(t).shape, graph.t(t).size, comment(t))
                    for n, t in zip(out_names, graph.outputs)],
    }
    # The guard also hashes the exact name: --name a and --name A share every macro's
    # upper-case prefix, but a product including both headers must see two guards.
    guard = f"{ident.upper()}_MODEL_H_{hashlib.sha1(ident.encode()).hexdigest()[:8].upper()}"
    ctx = {"name": ident, "NAME": ident.upper(), "guard": guard, "target": tgt.name,
           "target_macros": tgt.macros,
           "target_march": " ".join(f for f in tgt.cflags if f.startswith("-march")),
           "target_summary": tgt.summary, "version": __version__,
           "source": comment(Path(source).name if source else graph.path),
           "arena_bytes": plan.arena_bytes, "weights_bytes": len(blob),
           "task_scratch_bytes": align(task_scratch_bytes(graph)),
           "weight_lines": [] if incbin else list(string_lines(blob)),
           "row_bytes": BYTES_PER_LINE,
           "weights_file": weights_file, "calls": calls, **io}
    return Generated(env.get_template("model.c.j2").render(**ctx),
                     env.get_template("model.h.j2").render(**ctx), len(blob),
                     blob if incbin else None, weights_file)


def kernel_list(graph: Graph) -> list[dict[str, Any]]:
    """The kernel calls in order, as the report shows them."""
    out = []
    for node in graph.nodes:
        if node.op == "alias":
            continue
        out.append({"op": node.op, "node": node.name,
                    "outputs": [list(graph.t(o).shape) for o in node.outputs]})
    return out
