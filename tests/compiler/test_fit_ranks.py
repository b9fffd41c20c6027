"""fit_ranks: strided kernels fit the runtime's MCR_MAX_RANK; binary dims merge."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from helpers import ROOT, assert_matches, build_model
from compiler.errors import MobilecError
from compiler.frontend import import_graph
from compiler.passes.fit_ranks import MAX_RANK, merge_dims
from compiler.pipeline import compile_graph


def test_max_rank_is_the_runtimes() -> None:
    header = (ROOT / "runtime" / "include" / "mcr.h").read_text()
    assert int(re.search(r"#define MCR_MAX_RANK (\d+)", header).group(1)) == MAX_RANK


def test_merge_dims() -> None:
    # [2, 3, 4] output; a broadcast along the middle dim; b full.
    shape, (a, b) = merge_dims([2, 1, 3, 4], [4, 4, 0, 1], [12, 12, 4, 1])
    assert (shape, a, b) == ([2, 3, 4], [4, 0, 1], [12, 4, 1])
    shape, (a, b) = merge_dims([2, 3, 4], [12, 4, 1], [0, 0, 0])
    assert (shape, a, b) == ([24], [1], [0])
    assert merge_dims([1, 1], [1, 1]) == ([1], [[1]])


def test_broadcast_over_ten_dims_that_merge(workdir: Path) -> None:
    """10-D operands whose broadcast pattern alternates in two runs: merges to 2 dims."""
    a_shape = [2] * 10
    b_shape = [2] * 5 + [1] * 5
    m = build_model([helper.make_node("Add", ["a", "b"], ["y"])],
                    [("a", a_shape), ("b", b_shape)], ["y"])
    rng = np.random.default_rng(0)
    assert_matches(m, [rng.standard_normal(a_shape).astype(np.float32),
                       rng.standard_normal(b_shape).astype(np.float32)], workdir)


@pytest.mark.parametrize("op", ["Transpose", "Add"])
def test_unmergeable_rank_is_refused(op: str, workdir: Path) -> None:
    """A valid model whose strided walk has 10 dimensions that cannot merge: refused in
    one line naming the node, not an overrun of the runtime's index array."""
    shape = [2] * 10
    if op == "Transpose":
        node = helper.make_node("Transpose", ["a"], ["y"], perm=[9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
                                name="flip")
        m = build_model([node], [("a", shape)], ["y"])
    else:  # every other dimension broadcast: no two neighbours merge
        node = helper.make_node("Add", ["a", "b"], ["y"], name="flip")
        m = build_model([node], [("a", shape), ("b", [2, 1] * 5)], ["y"])
    path = workdir / "m.onnx"
    import onnx
    onnx.save(m, str(path))
    with pytest.raises(MobilecError, match=r"node 'flip'.*unsupported: a strided .* over 10 "
                                           r"dimensions"):
        compile_graph(import_graph(str(path)), "m")
