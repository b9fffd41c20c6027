"""The memory planner: plans are valid (the checker proves it, and rejects bad ones),
in-place and scheduling lower memory without changing results, and a full inference
makes no heap allocation."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler import planner
from compiler.build import RUNTIME, build_program
from compiler.errors import MobilecError
from compiler.frontend import import_graph
from compiler.pipeline import compile_graph, write_sources
from helpers import fixture, assert_matches, build_model as make

rng = np.random.default_rng(1)


def compiled_of(m: onnx.ModelProto, tmp: Path, name: str = "p"):  # type: ignore[no-untyped-def]
    path = tmp / f"{name}.onnx"
    onnx.save(m, str(path))
    return compile_graph(import_graph(str(path), name=name), name)


def two_branches() -> onnx.ModelProto:
    """x -> conv (wide) -> pool -> a;  x -> conv (wide) -> pool -> b;  a + b.
    Lowered order computes both wide tensors before either pool; running each branch to
    its end first halves the peak."""
    w1 = rng.standard_normal((16, 2, 3, 3)).astype(np.float32)
    w2 = rng.standard_normal((16, 2, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["x", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c1"], ["a"]),
        helper.make_node("GlobalAveragePool", ["c2"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    return make(nodes, [("x", [1, 2, 16, 16])], ["y"], [("w1", w1), ("w2", w2)])


def test_scheduling_lowers_the_peak_and_keeps_results(workdir: Path) -> None:
    c = compiled_of(two_branches(), workdir)
    p = c.plan
    assert p.rescheduled
    assert p.lower_bound < p.lower_bound_lowered_order
    assert p.arena_bytes == p.lower_bound
    assert_matches(two_branches(), [rng.standard_normal((1, 2, 16, 16)).astype(np.float32)], workdir)


def test_inplace_chain_uses_one_buffer(workdir: Path) -> None:
    nodes = [helper.make_node("Sigmoid", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Tanh", ["b"], ["c"]), helper.make_node("Neg", ["c"], ["y"])]
    m = make(nodes, [("x", [4, 100])], ["y"])
    c = compiled_of(m, workdir)
    assert len(c.plan.buffers) == 1 and len(c.plan.inplace) == 2
    assert c.plan.arena_bytes == planner.align(4 * 100 * 4)
    assert_matches(m, [rng.standard_normal((4, 100)).astype(np.float32)], workdir)


def test_no_inplace_over_a_tensor_read_later(workdir: Path) -> None:
    nodes = [helper.make_node("Sigmoid", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"])]
    m = make(nodes, [("x", [3, 7])], ["y"])
    c = compiled_of(m, workdir)
    assert c.plan.inplace == []
    assert_matches(m, [rng.standard_normal((3, 7)).astype(np.float32)], workdir)


def test_no_inplace_over_a_broadcast_operand(workdir: Path) -> None:
    nodes = [helper.make_node("Sigmoid", ["x"], ["a"]), helper.make_node("Sigmoid", ["z"], ["b"]),
             helper.make_node("Mul", ["b", "a"], ["y"])]
    m = make(nodes, [("x", [1, 4]), ("z", [4, 1])], ["y"])
    c = compiled_of(m, workdir)
    assert c.plan.inplace == []
    assert_matches(m, [rng.standard_normal((1, 4)).astype(np.float32),
                       rng.standard_normal((4, 1)).astype(np.float32)], workdir)


def test_fixture_plan_is_valid_and_tight() -> None:
    c = compile_graph(import_graph(str(fixture("mci0_64_train.onnx")), name="f"), "f")
    p = c.plan
    planner.check(p, c.graph)
    assert p.lower_bound <= p.arena_bytes <= p.unplanned_bytes
    assert p.arena_bytes <= 1.05 * p.lower_bound


def test_checker_rejects_overlap(workdir: Path) -> None:
    c = compiled_of(two_branches(), workdir)
    p = c.plan
    # Force two buffers that are live together onto the same bytes.
    live_pairs = [(x, y) for x in p.buffers for y in p.buffers
                  if x is not y and x.first <= y.last and y.first <= x.last]
    assert live_pairs
    x, y = live_pairs[0]
    y.offset = x.offset
    with pytest.raises(MobilecError, match="overlaps") as err:
        planner.check(p, c.graph)
    assert x.name in str(err.value) and y.name in str(err.value)


def test_checker_rejects_inplace_the_kernel_forbids(workdir: Path) -> None:
    c = compiled_of(two_branches(), workdir)
    conv_step = next(i for i, n in enumerate(c.graph.nodes) if n.op.startswith(("conv2d_gemm", "dwconv2d")))
    node = c.graph.nodes[conv_step]
    c.plan.inplace.append((conv_step, node.inputs[0], node.outputs[0]))
    with pytest.raises(MobilecError, match="does not allow"):
        planner.check(c.plan, c.graph)


ALLOC_DRIVER = r"""
/* Counts heap allocations during one inference by interposing glibc's malloc family. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "f_model.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static long allocs;
void *malloc(size_t n) { allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocs++; return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { allocs++; return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n) { allocs++; *p = __libc_memalign(a, n); return *p ? 0 : 12; }

int main(void)
{
    static float in[F_INPUT_SIZE], out[F_OUTPUT_SIZE];
    void *arena = __libc_memalign(64, F_ARENA_BYTES + 64);
    for (long i = 0; i < F_INPUT_SIZE; i++) in[i] = (float)(i % 17) / 17.0f;
    const long probe = allocs;
    free(malloc(16)); /* the interposer must see this one */
    if (allocs != probe + 1) { puts("interposer not active"); return 3; }
    const long before = allocs;
    const int rc = f_run(in, out, arena);
    const long during = allocs - before;
    printf("rc=%d allocations=%ld out0=%g\n", rc, during, (double)out[0]);
    return rc != 0 || during != 0;
}
"""


def test_inference_makes_no_heap_allocation(workdir: Path) -> None:
    c = compile_graph(import_graph(str(fixture("mci0_64_train.onnx")), name="f"), "f")
    src = workdir / "f_model.c"
    write_sources(c, src)
    drv = workdir / "alloc_driver.c"
    drv.write_text(ALLOC_DRIVER)
    exe = build_program([src, drv], workdir / "alloc", "generic")
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "allocations=0" in proc.stdout
    assert RUNTIME.exists()
