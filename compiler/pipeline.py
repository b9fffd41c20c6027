"""The whole compiler in order: frontend -> passes -> lowering -> planner -> codegen."""
from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import codegen, lower, planner
from .errors import MobilecError
from .frontend import import_graph
from .ir import Graph
from .targets import resolve
from .passes import (attention_views, canonicalize, compose_copies, fit_ranks, fold_batchnorm,
                     fuse_conv_dw, fuse_epilogues, fuse_mlp, layout, merge_branches, recognize,
                     slice_rows)

Pass = Callable[[Graph], Graph]

# Graph -> Graph passes before lowering, in order.
PASSES: list[tuple[str, Pass]] = [
    ("canonicalize", canonicalize.run),
    ("fold_batchnorm", fold_batchnorm.run),
    ("merge_branches", merge_branches.run),
    ("recognize", recognize.run),
    ("fuse_epilogues", fuse_epilogues.run),
    ("slice_rows", slice_rows.run),
]
# Kernel graph -> kernel graph passes after lowering, in order.
LOWERED_PASSES: list[tuple[str, Pass]] = [
    ("layout", layout.run),
    ("compose_copies", compose_copies.run),
    ("attention_views", attention_views.run),
    ("fuse_mlp", fuse_mlp.run),
    ("fuse_conv_dw", fuse_conv_dw.run),
]
# Last, with or without the optimizer: the strided kernels' dimensions fit the runtime.
FINAL_PASSES: list[tuple[str, Pass]] = [("fit_ranks", fit_ranks.run)]
# What --no-optimize keeps: the graph as exported, one kernel per ONNX op.
REQUIRED_PASSES = ("canonicalize",)


@dataclass
class PassRecord:
    name: str
    nodes_before: int
    nodes_after: int
    ops_before: dict[str, int]
    ops_after: dict[str, int]


@dataclass
class Compiled:
    graph: Graph
    plan: planner.Plan
    generated: codegen.Generated
    passes: list[PassRecord] = field(default_factory=list)
    name: str = "model"
    target: str = "generic"

    def report(self) -> dict[str, Any]:
        g, p = self.graph, self.plan
        return {
            "name": self.name,
            "target": self.target,
            "source": g.path,
            "inputs": [{"name": n, "shape": list(g.t(n).shape)} for n in g.inputs],
            "outputs": [{"name": n, "shape": list(g.t(n).shape)} for n in g.outputs],
            "passes": [vars(r) for r in self.passes],
            "kernels": codegen.kernel_list(g),
            "arena_bytes": p.arena_bytes,
            "lower_bound_bytes": p.lower_bound,
            "unplanned_bytes": p.unplanned_bytes,
            "lower_bound_lowered_order_bytes": p.lower_bound_lowered_order,
            "rescheduled": p.rescheduled,
            "inplace": [{"step": s, "input": i, "output": o} for s, i, o in p.inplace],
            "weights_bytes": self.generated.weights_bytes,
            "plan": [{"tensor": b.name, "offset": b.offset, "size": b.size,
                      "first": b.first, "last": b.last, "tensors": b.tensors}
                     for b in p.buffers],
        }


def _progress(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"mobilec: {msg}", file=sys.stderr, flush=True)


def compile_graph(graph: Graph, name: str, target: str = "generic",
                  quiet: bool = True, weights: str = "auto", optimize: bool = True) -> Compiled:
    records = []
    passes = [p for p in PASSES if optimize or p[0] in REQUIRED_PASSES]
    passes += [("lower", lower.run)] + (LOWERED_PASSES if optimize else []) + FINAL_PASSES
    for pass_name, fn in passes:
        before = len(graph.nodes)
        hist = dict(sorted(graph.histogram().items()))
        try:
            graph = fn(graph)
        except MobilecError as err:
            if err.stage is None:
                err.stage = pass_name
            raise MobilecError(err.message, path=err.path or graph.path, node=err.node,
                               op=err.op, stage=err.stage) from None
        except Exception as err:
            # A compiler bug: say where; MOBILEC_DEBUG=1 shows the traceback.
            if os.environ.get("MOBILEC_DEBUG"):
                raise
            raise MobilecError(f"internal error (a mobilec bug; MOBILEC_DEBUG=1 shows the "
                               f"traceback): {type(err).__name__}: {err}", path=graph.path,
                               stage=pass_name) from None
        after_hist: Counter[str] = graph.histogram()
        records.append(PassRecord(pass_name, before, len(graph.nodes), hist,
                                  dict(sorted(after_hist.items()))))
    _progress(f"planning memory for {len(graph.nodes)} kernel calls", quiet)
    plan = planner.plan(graph)
    _progress("generating C", quiet)
    gen = codegen.generate(graph, plan, name, target, graph.path, weights)
    return Compiled(graph, plan, gen, records, name, target)


def compile_file(path: str, name: str, target: str = "generic",
                 input_shapes: dict[str, tuple[int, ...]] | None = None,
                 quiet: bool = True, weights: str = "auto", optimize: bool = True) -> Compiled:
    target = resolve(target).name  # "native" becomes the concrete target it picks
    _progress(f"importing {path}", quiet)
    graph = import_graph(path, input_shapes, name=name)
    _progress(f"{len(graph.nodes)} nodes, {len(graph.tensors)} tensors; optimizing", quiet)
    return compile_graph(graph, name, target, quiet, weights, optimize)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write via a temporary file in the same folder, so no half-written file is left."""
    write_all({path: content})


def write_all(files: dict[Path, str | bytes]) -> None:
    """Write every file or none: each goes to a temporary file beside its destination
    first, and only when all of them are written are they renamed into place. A path that
    cannot be written (a folder in the way, no permission, a name too long) is one
    MobilecError naming it, and no file is left behind."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, content in files.items():
            where = path
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", dir=str(path.parent))
            except OSError as err:
                raise MobilecError(f"cannot write: {err.strerror or err}", path=str(where)) from None
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        for tmp, path in staged:
            if path.is_dir():
                raise MobilecError("cannot write: is a folder", path=str(path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as err:
        raise MobilecError(f"cannot write: {err.strerror or err}",
                           path=str(err.filename or "")) from None
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def source_files(compiled: Compiled, c_path: Path) -> dict[Path, str | bytes]:
    """<name>_model.c at c_path, its header (and the .incbin weights when the weights go
    there) beside it."""
    if c_path.suffix != ".c":
        raise MobilecError("the output must be a .c file (the header and weights go beside "
                           "it)", path=str(c_path))
    h_path = c_path.with_name(f"{codegen.c_ident(compiled.name)}_model.h")
    gen = compiled.generated
    files: dict[Path, str | bytes] = {c_path: gen.c_source, h_path: gen.header}
    if gen.weights_blob is not None and gen.weights_file:
        files[c_path.with_name(gen.weights_file)] = gen.weights_blob
    return files


def write_sources(compiled: Compiled, c_path: Path) -> Path:
    """Write the C file, its header and weights (all or none); returns the header path."""
    files = source_files(compiled, c_path)
    write_all(files)
    return c_path.with_name(f"{codegen.c_ident(compiled.name)}_model.h")
