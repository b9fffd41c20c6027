"""tests/models/gemm_vs_ort.py, the per-call comparison of a tree's GEMM with onnxruntime's
1x1 Conv or Gemm: both compute the same layer (edge columns and rows included), the report
has its form, and a folder that is no tree or a size that does not fit is named (no timing
asserted: the times are for people)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

TOOL = str(ROOT / "tests" / "models" / "gemm_vs_ort.py")


@pytest.mark.parametrize("op, m", [("conv", 25), ("gemm", 29)])
def test_gemm_vs_ort_agrees_with_onnxruntime(op: str, m: int) -> None:
    # 25 pixels or 29 rows (neither a whole number of 3-, 4-, 6- or 8-row tiles), 40
    # columns (one panel and an edge of 8), k = 70 (over one packed block of 64)
    proc = subprocess.run([sys.executable, TOOL, str(ROOT), str(m), "70", "40", "--op", op,
                           "--target", "generic", "--rounds", "2"], text=True,
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    head, line = proc.stdout.strip().splitlines()
    t = r"[\d.]+(e-\d+)?"
    node = {"conv": "Conv", "gemm": "Gemm"}[op]
    assert re.fullmatch(rf"gemm_vs_ort: {m}x70x40 generic, 2 rounds of 3 calls: onnxruntime "
                        rf"{node} median {t} ms fastest {t}", head), head
    hit = re.fullmatch(rf"  {re.escape(str(ROOT))}: median {t} ms fastest {t} \| /onnxruntime "
                       rf"median [\d.]+ fastest [\d.]+ \| max\|diff\| (\S+)", line)
    assert hit, line
    assert float(hit.group(3)) < 1e-5, line


def test_gemm_vs_ort_names_a_folder_that_is_no_tree(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, TOOL, str(tmp_path), "4", "4", "4", "--target",
                           "generic"], text=True, capture_output=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"gemm_vs_ort: {tmp_path.resolve()}: not a mobilec tree " \
                                  "(no runtime/src)", proc.stderr


def test_gemm_vs_ort_wants_square_pixels_for_a_conv() -> None:
    proc = subprocess.run([sys.executable, TOOL, str(ROOT), "29", "4", "4", "--target",
                           "generic"], text=True, capture_output=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "gemm_vs_ort: with --op conv, M must be a square number of " \
                                  "pixels", proc.stderr
