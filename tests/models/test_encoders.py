"""Whole encoders: exported by the project's exporter (MCi at 64x64 to keep `make test`
short, ViT-B/16 at its native 224x224), compiled, built, run and compared with
onnxruntime; and the export made elsewhere in ../shared/fixtures against its float64
reference. Full resolution runs in `make models`."""
from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import fixture, ROOT

EXPORTS = ROOT / "build" / "test-models"


def mobilec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT,
                          capture_output=True, text=True)


@functools.cache  # a test process exports each model once; several tests read it
def export(model: str, res: int, *flags: str) -> Path:
    tag = "_".join([model, str(res)] + [f.lstrip("-") for f in flags])
    out = EXPORTS / f"{tag}.onnx"
    proc = mobilec("export", model, "--resolution", str(res), "-o", str(out), "--reference",
                   *flags)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def verify(path: Path, input_file: Path | None = None, expect: Path | None = None,
           *flags: str) -> str:
    """mobilec verify on the export's reference input, also against its float64 output."""
    stem = str(path.with_suffix(""))
    proc = mobilec("verify", str(path), "-q", "--input", str(input_file or stem + "_input.bin"),
                   "--expect", str(expect or stem + "_output_fp64.bin"), *flags)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    assert proc.returncode == 0 and last.startswith("verify: PASS"), proc.stdout + proc.stderr
    return proc.stdout


CASES = [
    ("mci0", 64, ()), ("mci0", 64, ("--form", "reparam")), ("mci0", 64, ("--keep-bn",)),
    ("mci0", 64, ("--exporter", "dynamo")),
    ("mci0", 64, ("--exporter", "dynamo", "--form", "reparam")),
    ("mci0", 64, ("--exporter", "dynamo", "--keep-bn")),
    ("mci1", 64, ()), ("mci1", 64, ("--form", "reparam")),
    ("mci2", 64, ()), ("mci2", 64, ("--form", "reparam")), ("mci2", 64, ("--keep-bn",)),
    ("vit_b16", 224, ()),
]


@pytest.mark.parametrize("model,res,flags", CASES,
                         ids=["-".join([m, str(r), *[f.lstrip("-") for f in fl]]) for m, r, fl in CASES])
def test_encoder_matches_onnxruntime(model: str, res: int, flags: tuple[str, ...]) -> None:
    """verify, then `mobilec diff`: every ONNX tensor a kernel of the optimized program
    writes agrees with onnxruntime's (whatever the exporter, form or BatchNorm placement:
    a pass that left an ONNX name on a value that is not that tensor's would show here)."""
    path = export(model, res, *flags)
    verify(path)
    proc = mobilec("diff", str(path), "-q", "--target", "native", "--input",
                   str(path.with_suffix("")) + "_input.bin")
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    assert proc.returncode == 0 and last.startswith("diff: no divergence"), last


ARM = [("mci0", 64, ()), ("mci1", 64, ("--form", "reparam")), ("mci2", 64, ()),
       ("vit_b16", 224, ())]


@pytest.mark.parametrize("model,res,flags", ARM,
                         ids=["-".join([m, str(r), *[f.lstrip("-") for f in fl]])
                              for m, r, fl in ARM])
def test_encoder_on_aarch64(model: str, res: int, flags: tuple[str, ...]) -> None:
    """The aarch64 target (NEON micro-kernels), run under qemu-aarch64 where this machine
    is not aarch64: every block kind of the MCi (train and reparameterized) and ViT-B/16."""
    path = export(model, res, *flags)
    out = verify(path, None, None, "--target", "aarch64")
    assert "target=aarch64" in out.splitlines()[-1]


DYNAMIC = [("mci0", 64, "torchscript", 3), ("mci0", 64, "dynamo", 8), ("mci1", 64, "torchscript", 2),
           ("mci2", 64, "dynamo", 1), ("mci3", 64, "torchscript", 4),
           ("vit_b16", 224, "torchscript", 2)]


@pytest.mark.parametrize("model,res,exporter,batch", DYNAMIC,
                         ids=[f"{m}-{r}-{e}-batch{b}" for m, r, e, b in DYNAMIC])
def test_dynamic_batch(model: str, res: int, exporter: str, batch: int) -> None:
    """A dynamic-batch export compiles for the batch given with --input-shape (its shape
    arithmetic, Shape -> Gather -> Unsqueeze -> Concat, folds with scalars kept scalar)."""
    path = export(model, res, "--dynamic-batch", "--exporter", exporter)
    proc = mobilec("verify", str(path), "-q", "--input-shape", f"image={batch}x3x{res}x{res}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("verify: PASS")
    proc = mobilec("compile", str(path), "-q", "-o", str(path.with_suffix(".c")))
    assert proc.returncode == 2 and "dynamic shape" in proc.stderr, proc.stderr


def test_fixture_exported_elsewhere() -> None:
    """PyTorch 1.13 TorchScript export at opset 17: lone BNs, exact GELU as Div/Erf, 5-D
    attention reshapes, unfolded flatten, zero Pad, AveragePool and ReduceMean."""
    model, image = fixture("mci0_64_train.onnx"), fixture("mci0_64_input.bin")
    out = verify(model, image, fixture("mci0_64_train_output_fp64.bin"))
    assert "vs mci0_64_train_output_fp64.bin" in out
    # Also against the float32 PyTorch output beside it.
    out = verify(model, image, fixture("mci0_64_train_output.bin"))
    assert "vs mci0_64_train_output.bin" in out


def test_checkpoint_path(tmp_path: Path) -> None:
    """A state dict saved here loads into the exporter and gives the same model as the
    weights it was saved from; a checkpoint of another model is refused in one line."""
    import torch
    from compiler.export import build_model

    model = build_model("mci0", 64, seed=7, checkpoint=None)
    ckpt = tmp_path / "mci0.pt"
    torch.save({"state_dict": model.state_dict()}, ckpt)
    a = export("mci0", 64, "--seed", "7")
    b = tmp_path / "from_ckpt.onnx"
    proc = mobilec("export", "mci0", "--resolution", "64", "-o", str(b), "--checkpoint",
                   str(ckpt), "--seed", "7", "--reference")
    assert proc.returncode == 0, proc.stderr[-2000:]
    ref_a = np.fromfile(str(a.with_suffix("")) + "_output_fp64.bin")
    ref_b = np.fromfile(str(b.with_suffix("")) + "_output_fp64.bin")
    np.testing.assert_array_equal(ref_a, ref_b)
    verify(b)

    other = tmp_path / "mci1.pt"
    torch.save(build_model("mci1", 64, seed=0, checkpoint=None).state_dict(), other)
    proc = mobilec("export", "mci0", "--resolution", "64", "-o", str(tmp_path / "x.onnx"),
                   "--checkpoint", str(other))
    assert proc.returncode == 2 and "timm-layout checkpoint does not fit fastvit_mci0" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.onnx").exists()


def test_exporter_refuses_ill_conditioned_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Catastrophic cancellation: float32 and float64 runs disagree, so no export."""
    import torch
    from compiler import export as exp
    from compiler.errors import MobilecError

    class Cancel(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return ((x + 1e7) - 1e7).flatten(1)

    monkeypatch.setattr(exp, "build_model", lambda *a, **k: Cancel())
    with pytest.raises(MobilecError, match="ill-conditioned"):
        exp.export(exp.ExportOptions(model="mci0", output=str(tmp_path / "m.onnx"), resolution=8))
    assert not (tmp_path / "m.onnx").exists()


def test_random_weights_are_far_from_defaults() -> None:
    """Every BatchNorm and layer scale is moved off its init, so every branch matters."""
    import torch
    from compiler.export import build_model

    model = build_model("mci0", 64, seed=0, checkpoint=None)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(float(b.running_var.min()) >= 0.5 and float(b.running_mean.abs().max()) > 0
                       for b in bns)
    scales = [p for n, p in model.named_parameters() if "layer_scale" in n or n.endswith("gamma")]
    assert scales and all(0.3 <= float(p.min()) and float(p.max()) <= 0.6 for p in scales)


@pytest.mark.parametrize("model", ["mci0", "mci1", "mci2"])
def test_train_form_lowers_like_reparam_form(model: str, tmp_path: Path) -> None:
    """mobilec's own reparameterization: the train-form export (BatchNorms unfolded too)
    and timm's reparameterized export become the same kernel calls."""
    def kernels(path: Path) -> list[str]:
        report = tmp_path / f"{path.stem}.json"
        proc = mobilec("compile", str(path), "-q", "-o", str(tmp_path / path.stem / "m_model.c"),
                       "--report-json", str(report))
        assert proc.returncode == 0, proc.stderr
        import json
        return sorted(k["op"] for k in json.loads(report.read_text())["kernels"])

    reparam = kernels(export(model, 64, "--form", "reparam"))
    assert kernels(export(model, 64)) == reparam
    assert kernels(export(model, 64, "--keep-bn")) == reparam


@pytest.mark.parametrize("target", ["x86-64-v3", "x86-64-v4"])
def test_fixture_on_x86_targets(target: str) -> None:
    """The ISA targets take other kernel paths; they must verify the same way. A target
    this CPU cannot run is skipped, saying so."""
    from compiler.targets import TARGETS, runs_here
    import platform
    if platform.machine() not in ("x86_64", "AMD64") or not runs_here(TARGETS[target]):
        pytest.skip(f"this CPU cannot run {target} code")
    model, image = fixture("mci0_64_train.onnx"), fixture("mci0_64_input.bin")
    proc = mobilec("verify", str(model), "-q", "--target", target, "--input", str(image),
                   "--expect", str(fixture("mci0_64_train_output_fp64.bin")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"target={target}" in proc.stdout.splitlines()[-1]


def test_apple_style_attention(tmp_path: Path) -> None:
    """Attention as Apple's ViT-B/16 writes it (ml-mobileclip's transformer): qkv reshaped
    to [N, S, 3, h, c], transposed to [N, h, 3, S, c], then q, k, v = qkv[:, :, i] — the
    TorchScript exporter writes a Gather on axis 2 by a rank-0 index, which removes the
    axis. Compiled with and without the optimizer."""
    import torch

    class Attention(torch.nn.Module):
        def __init__(self, dim: int = 32, heads: int = 4) -> None:
            super().__init__()
            self.qkv = torch.nn.Linear(dim, 3 * dim)
            self.proj = torch.nn.Linear(dim, dim)
            self.heads, self.scale = heads, (dim // heads) ** -0.5

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, s, _ = x.shape
            qkv = self.qkv(x).reshape(b, s, 3, self.heads, -1).transpose(1, 3).contiguous()
            q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
            a = torch.softmax(torch.matmul(q * self.scale, k.transpose(-1, -2)), dim=-1)
            return self.proj(torch.matmul(a, v).transpose(1, 2).reshape(b, s, -1))

    torch.manual_seed(0)
    path = tmp_path / "attn.onnx"
    torch.onnx.export(Attention().eval(), (torch.randn(1, 17, 32),), str(path), dynamo=False,
                      opset_version=17, input_names=["x"], output_names=["y"])
    for flags in ((), ("--no-optimize",)):
        proc = mobilec("verify", str(path), "-q", *flags)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("model", ["mci0", "vit_b16"])
def test_float16_export(model: str) -> None:
    """A float16 export (onnxconverter-common, float32 I/O) compiles: computed in float32
    with its weights widened, compared with onnxruntime running the float16 graph and with
    the float32 model's float64 output, under the float16 bar (8 * 2^-11)."""
    res = 64 if model == "mci0" else 224
    path = export(model, res, "--float16")
    import onnx
    assert any(t.data_type == onnx.TensorProto.FLOAT16
               for t in onnx.load(str(path), load_external_data=False).graph.initializer)
    out = verify(path)
    assert "float16 model" in out.splitlines()[-1], out


def test_float16_inputs_and_outputs(tmp_path: Path) -> None:
    """A graph typed float16 end to end: the generated C still takes and returns float32;
    verify feeds onnxruntime float16."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.linspace(-1, 1, 12, dtype=np.float16).reshape(4, 3), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"]),
             helper.make_node("Cast", ["y"], ["z"], to=TensorProto.FLOAT16)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [2, 4])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT16, [2, 3])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = tmp_path / "half.onnx"
    onnx.save(m, str(path))
    proc = mobilec("verify", str(path), "-q", "--seeds", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "float16 model" in proc.stdout.splitlines()[-1]
