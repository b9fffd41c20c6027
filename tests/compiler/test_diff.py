"""mobilec diff: both sides traced, compared tensor by tensor in ONNX's layout; an injected
perturbation is named as the first divergence wherever it is (start, middle, end; fused and
channels-last kernels; with and without the optimizer); --isolate confines it to its own
row; the trace hooks compile to nothing in a product build."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.build import cc
from compiler.cli import main
from compiler.pipeline import compile_file, write_sources
from helpers import ROOT, build_model, fixture

NO_DIVERGENCE = re.compile(r"^diff: no divergence \((\d+) tensors compared, (\d+) fused\)$")
FIRST = re.compile(r"^diff: first divergence at '(.*)' \(node '(.*)', op (\S+), kernel (.+)\)$")


def small_model() -> onnx.ModelProto:
    """conv+relu (fused epilogue, channels-last out), depthwise conv + residual add (fused),
    1x1 conv, global pool, flatten (a view), Gemm: each kind of kernel the MCi stem uses."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], name="dw1", group=8, pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c1", "r0"], ["a1"], name="add1"),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"], name="pw2"),
        helper.make_node("GlobalAveragePool", ["c2"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], name="fc", transB=1),
    ]
    inits = {"w0": rng.standard_normal((8, 3, 3, 3)) * 0.3, "b0": rng.standard_normal(8),
             "w1": rng.standard_normal((8, 1, 3, 3)) * 0.3,
             "w2": rng.standard_normal((16, 8, 1, 1)) * 0.3, "b2": rng.standard_normal(16),
             "w3": rng.standard_normal((10, 16)) * 0.3, "b3": rng.standard_normal(10)}
    return build_model(nodes, [("x", [1, 3, 12, 12])], ["y"], inits)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diff") / "small.onnx"
    onnx.save(small_model(), str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["diff", *map(str, args), "-q"])
    out = capsys.readouterr()
    return code, out.out.strip().splitlines(), out.err


def test_no_divergence_and_json(small: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    for flags in ([], ["--no-optimize"]):
        code, lines, err = run(capsys, small, "--json", tmp_path / "d.json", *flags)
        assert code == 0, lines[-3:] + [err]
        m = NO_DIVERGENCE.match(lines[-1])
        assert m, lines[-1]
        rows = json.loads((tmp_path / "d.json").read_text())["rows"]
        # Every tensor the model computes, in graph order, with the promised keys.
        assert [r["tensor"] for r in rows] == ["c0", "r0", "c1", "a1", "c2", "p", "f", "y"]
        for r in rows:
            assert {"tensor", "node", "op", "shape", "max_abs", "rel", "cosine", "compared",
                    "fused_into"} <= set(r)
            assert r["compared"] or r["fused_into"], r
            assert not r["compared"] or r["rel"] <= 1e-4, r
        compared = sum(r["compared"] for r in rows)
        assert (int(m[1]), int(m[2])) == (compared, len(rows) - compared)
        if flags:  # one kernel per ONNX op: everything compared
            assert compared == len(rows)
        else:  # the conv's output is in its relu's epilogue, the dwconv's in its residual add
            fused = {r["tensor"]: r["fused_into"] for r in rows if not r["compared"]}
            assert set(fused) >= {"c0", "c1"}
            assert "('r0')" in fused["c0"] and "('a1')" in fused["c1"]


# (tensor, flags, the kernel that writes it): start, middle and end; fused epilogues and
# channels-last kernels; one kernel per op without the optimizer.
INJECT = [("r0", (), "conv2d_gemm_nhwc"), ("a1", (), "dwconv2d_nhwc"), ("c2", (), "matmul_packed"),
          ("y", (), "matmul_packed"), ("c0", ("--no-optimize",), "conv2d_gemm"),
          ("a1", ("--no-optimize",), "binary"), ("y", ("--no-optimize",), "matmul_packed")]


@pytest.mark.parametrize("tensor,flags,kernel", INJECT,
                         ids=[f"{t}{''.join(f)}" for t, f, _ in INJECT])
def test_inject_is_found(small: Path, tensor: str, flags: tuple[str, ...], kernel: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, small, "--inject", tensor, *flags)
    m = FIRST.match(lines[-1])
    assert code == 1 and m, lines[-3:] + [err]
    assert m[1] == tensor and m[4].startswith(kernel + " #"), lines[-1]
    marked = [ln for ln in lines if ln.endswith("<-- first divergence")]
    assert len(marked) == 1 and f" {tensor} " in marked[0]


def test_isolate_confines_an_injection(small: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Run on its own upstream values, everything after a perturbed kernel diverges; run on
    onnxruntime's, only that kernel's output does."""
    def diverging(*flags: str) -> list[str]:
        code, lines, _ = run(capsys, small, "--inject", "a1", "--json", tmp_path / "j.json",
                             *flags)
        assert code == 1
        rows = json.loads((tmp_path / "j.json").read_text())["rows"]
        return [r["tensor"] for r in rows if r["compared"] and r["rel"] > 1e-4]

    assert diverging() == ["a1", "c2", "p", "f", "y"]
    assert diverging("--isolate") == ["a1"]
    code, lines, _ = run(capsys, small, "--isolate")
    assert code == 0 and NO_DIVERGENCE.match(lines[-1])


def test_float64_reference(small: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    """Against a float64 run, isolated or not: every tensor within float32's reach, and an
    injection still named."""
    for flags in ([], ["--isolate"]):
        code, lines, err = run(capsys, small, "--reference", "float64", "--json",
                               tmp_path / "f.json", *flags)
        assert code == 0 and NO_DIVERGENCE.match(lines[-1]), lines[-3:] + [err]
        doc = json.loads((tmp_path / "f.json").read_text())
        assert doc["reference"] == "float64"
        assert all(r["rel"] < 1e-6 for r in doc["rows"] if r["compared"])
    code, lines, _ = run(capsys, small, "--reference", "float64", "--inject", "a1")
    m = FIRST.match(lines[-1])
    assert code == 1 and m and m[1] == "a1"


def test_views_of_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A reshape of the model's input is no kernel's output: said so, not "fused"."""
    m = build_model([helper.make_node("Reshape", ["x", "s"], ["v"], name="view"),
                     helper.make_node("Relu", ["v"], ["y"], name="relu")],
                    [("x", [2, 3, 4])], ["y"], {"s": np.array([6, 4], np.int64)})
    onnx.save(m, str(tmp_path / "v.onnx"))
    code, lines, err = run(capsys, tmp_path / "v.onnx", "--json", tmp_path / "v.json")
    assert code == 0 and NO_DIVERGENCE.match(lines[-1]), lines[-3:] + [err]
    rows = {r["tensor"]: r for r in json.loads((tmp_path / "v.json").read_text())["rows"]}
    assert not rows["v"]["compared"] and rows["v"]["fused_into"] is None
    assert any(" v " in ln and "a view of the model's input" in ln for ln in lines)
    assert rows["y"]["compared"]


def test_inject_needs_a_kernel_output(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, small, "--inject", "c0")  # in conv0's relu epilogue
    assert code == 2 and "--inject: no kernel writes 'c0'" in err and len(err.splitlines()) == 1
    code, lines, err = run(capsys, small, "--inject", "nonesuch")
    assert code == 2 and "'nonesuch' is not a float tensor" in err


def test_plot(small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, small, "--plot", tmp_path / "e.png")
    assert code == 0 and (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_hooks_compile_away(small: Path, tmp_path: Path) -> None:
    """Without -DMOBILEC_TRACE the model's object file is byte for byte the one built from
    the same source with every trace line deleted: a product build pays nothing."""
    compiled = compile_file(str(small), "small", "generic")
    for d in ("hooks", "stripped"):
        write_sources(compiled, tmp_path / d / "small_model.c")
    src = (tmp_path / "hooks" / "small_model.c").read_text()
    assert src.count("TRACE(") > 8
    (tmp_path / "stripped" / "small_model.c").write_text(
        "".join(ln for ln in src.splitlines(keepends=True)
                if not ln.strip().startswith("TRACE(")))

    def build(d: str, *flags: str) -> bytes:
        subprocess.run([cc(), "-c", "-std=c99", "-O2", *flags, "-I",
                        str(ROOT / "runtime" / "include"), "-I", ".", "small_model.c", "-o",
                        "small_model.o"], cwd=tmp_path / d, check=True)
        return (tmp_path / d / "small_model.o").read_bytes()

    assert build("hooks") == build("stripped")
    assert build("hooks", "-DMOBILEC_TRACE") != build("stripped", "-DMOBILEC_TRACE")


def test_verify_failure_suggests_diff(small: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    x = np.random.default_rng(1).random((1, 3, 12, 12), dtype=np.float32)
    x.tofile(tmp_path / "x.bin")
    np.zeros(10, np.float32).tofile(tmp_path / "wrong.bin")  # an expected output that is wrong
    code = main(["verify", str(small), "-q", "--input", str(tmp_path / "x.bin"),
                 "--expect", str(tmp_path / "wrong.bin")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and lines[-1].startswith("verify: FAIL")
    assert lines[-2] == (f"verify: to find the first tensor that diverges, run: mobilec diff "
                         f"{small} --name small --target generic --input {tmp_path / 'x.bin'}")


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """timm's VisionTransformer, as ViT-B/16 is built, at a size that runs in a second: the
    same ops (patch conv, class token, attention, GELU MLP, the class token's rows only in
    the last block)."""
    torch = pytest.importorskip("torch")
    from timm.models.vision_transformer import VisionTransformer
    torch.manual_seed(0)
    model = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                              num_classes=0).eval()
    path = tmp_path_factory.mktemp("vit") / "tiny_vit.onnx"
    torch.onnx.export(model, (torch.rand(1, 3, 32, 32),), str(path), dynamo=False,
                      opset_version=17, input_names=["image"], output_names=["embedding"])
    return path


def test_tiny_vit(tiny_vit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, tiny_vit, "--json", tmp_path / "v.json")
    assert code == 0 and NO_DIVERGENCE.match(lines[-1]), lines[-3:] + [err]
    rows = json.loads((tmp_path / "v.json").read_text())["rows"]
    compared = [r for r in rows if r["compared"]]
    kernels = {r["kernel"].split()[0] for r in compared}
    assert {"attention", "layernorm", "matmul_packed"} <= kernels, kernels
    # The last block computes the class token only: its rows are compared as such.
    assert any("rows 0:1" in ln for ln in lines)
    start = next(r["tensor"] for r in compared if r["kernel"].startswith("conv2d_gemm_nhwc"))
    middle = next(r["tensor"] for r in compared if r["kernel"].startswith("attention"))
    end = [r["tensor"] for r in compared if not r["kernel"].startswith("view")][-1]
    for tensor in (start, middle, end):
        code, lines, err = run(capsys, tiny_vit, "--inject", tensor)
        m = FIRST.match(lines[-1]) if lines else None
        assert code == 1 and m and m[1] == tensor, (tensor, lines[-1:], err)


FIXTURE = "mci0_64_train.onnx"


def test_fixture(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The export made elsewhere: no divergence, isolated or not; injections at the start,
    in the middle (channels-last depthwise with its residual, attention) and at the end are
    named, with and without the optimizer."""
    model, image = fixture(FIXTURE), fixture("mci0_64_input.bin")
    for flags in ([], ["--isolate"]):
        code, lines, err = run(capsys, model, "--input", image, "--target", "native",
                               "--json", tmp_path / "f.json", *flags)
        assert code == 0 and NO_DIVERGENCE.match(lines[-1]), lines[-3:] + [err]
    rows = [r for r in json.loads((tmp_path / "f.json").read_text())["rows"] if r["compared"]]
    by_kernel = {}
    for r in rows:
        by_kernel.setdefault(r["kernel"].split()[0], []).append(r["tensor"])
    picks = [rows[0]["tensor"], by_kernel["dwconv2d_nhwc"][len(by_kernel["dwconv2d_nhwc"]) // 2],
             by_kernel["attention"][0], rows[-1]["tensor"]]
    for tensor in picks:
        code, lines, _ = run(capsys, model, "--input", image, "--target", "native",
                             "--inject", tensor)
        m = FIRST.match(lines[-1])
        assert code == 1 and m and m[1] == tensor, (tensor, lines[-1])
    code, lines, _ = run(capsys, model, "--input", image, "--no-optimize", "--json",
                         tmp_path / "n.json")
    assert code == 0 and NO_DIVERGENCE.match(lines[-1]), lines[-3:]
    rows = [r["tensor"] for r in json.loads((tmp_path / "n.json").read_text())["rows"]
            if r["compared"]]
    for tensor in (rows[0], rows[len(rows) // 2], rows[-1]):
        code, lines, _ = run(capsys, model, "--input", image, "--no-optimize", "--inject", tensor)
        m = FIRST.match(lines[-1])
        assert code == 1 and m and m[1] == tensor, (tensor, lines[-1])
