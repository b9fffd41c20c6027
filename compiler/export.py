"""Export a MobileCLIP image encoder from timm's reference definitions to ONNX.

torch and timm are imported lazily: only this module needs them, and the compiler
itself must work without them.
"""
from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MobilecError
from .pipeline import write_all

# Model name -> (timm constructor, default resolution, embedding size). MobileCLIP's image
# embedding: global pool, then a projection (512-d; MobileCLIP2-S3/S4's MCi3/MCi4: 768-d).
MODELS: dict[str, tuple[str, int, int]] = {
    "mci0": ("fastvit_mci0", 256, 512),
    "mci1": ("fastvit_mci1", 256, 512),
    "mci2": ("fastvit_mci2", 256, 512),
    "mci3": ("fastvit_mci3", 256, 768),
    "mci4": ("fastvit_mci4", 256, 768),
    "vit_b16": ("vit_base_mci_224", 224, 512),
}

# The exporter refuses a model whose float32 and float64 runs differ by more than this
# (max |diff| / max |ref|): beyond it, comparing two float32 implementations means nothing.
CONDITIONING_TOL = 1e-5


@dataclass
class ExportOptions:
    model: str
    output: str
    resolution: int | None = None
    form: str = "train"
    exporter: str = "torchscript"
    checkpoint: str | None = None
    seed: int = 0
    keep_bn: bool = False
    reference: bool = False
    opset: int | None = None  # default: 17 for torchscript, 18 for dynamo
    dynamic_batch: bool = False
    float16: bool = False


def _log(msg: str) -> None:
    print(f"export: {msg}", file=sys.stderr, flush=True)


def build_model(name: str, resolution: int, seed: int, checkpoint: str | None) -> Any:
    """The timm model in eval mode, with deterministic random weights or a checkpoint's."""
    import torch
    import timm

    from .checkpoint import detect_layout, load_into, read_state_dict

    if name not in MODELS:
        raise MobilecError(f"unknown model '{name}' (choose from {', '.join(MODELS)})")
    timm_name, _, embed_dim = MODELS[name]
    kwargs: dict[str, Any] = {"num_classes": embed_dim}
    if name == "vit_b16":
        kwargs["img_size"] = resolution
    state, layout = None, "random"
    if checkpoint is not None:
        state = read_state_dict(checkpoint)
        layout = detect_layout(state)
        _log(f"checkpoint layout: {layout}")
    torch.manual_seed(seed)
    model = timm.create_model(timm_name, pretrained=False, **kwargs)
    if name == "vit_b16":
        # Apple's weights were trained in Apple's definition; OpenCLIP/timm files in timm's.
        if layout in ("random", "apple"):
            apple_vit_b16(model)
            _log("ViT-B/16 as Apple defines it (stem padding 1, LayerNorm eps 1e-5)")
        else:
            _log("ViT-B/16 as timm defines it (stem padding 0, LayerNorm eps 1e-6)")
    if state is not None:
        assert checkpoint is not None
        load_into(model, checkpoint, state, layout, timm_name)
    else:
        randomize(model, seed)
    return model.eval()


def apple_vit_b16(model: Any) -> None:
    """timm's vit_base_mci_224 made Apple's ViT-B/16 (ml-mobileclip `vit.py`): Apple's
    ConvNormAct pads a k x k conv by (k - 1) // 2, so the 4x4/4 stem conv has padding 1
    (timm: 0; the patch grid shifts by a pixel), and its LayerNorms use eps 1e-5 (timm:
    1e-6). Same parameters, so the same state dict loads into either."""
    import torch

    model.patch_embed.backbone[0].conv.padding = (1, 1)
    for mod in model.modules():
        if isinstance(mod, torch.nn.LayerNorm):
            mod.eps = 1e-5


def to_float16(path: str) -> None:
    """Convert the ONNX file at `path` to float16 in place, as fp16 files are published:
    onnxconverter-common's convert_float_to_float16 with keep_io_types. Two repairs make
    its result load in onnxruntime: the model's own Casts to float32 (shape arithmetic
    turned into a float, e.g. attention's head_dim ** -0.5) become Casts to float16 (the
    converter leaves them float32 and feeds them to float16 ops), and the stale value
    infos are dropped."""
    import warnings

    import onnx
    from onnx import TensorProto
    from onnxconverter_common import float16

    model = onnx.load(path)
    own_casts = {n.name for n in model.graph.node if n.op_type == "Cast"}
    with warnings.catch_warnings():  # one warning per tiny weight it clamps to 1e-7
        warnings.simplefilter("ignore")
        half = float16.convert_float_to_float16(model, keep_io_types=True)
    for n in half.graph.node:
        if n.op_type == "Cast" and n.name in own_casts:
            for a in n.attribute:
                if a.name == "to" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16
    del half.graph.value_info[:]
    onnx.save(half, path)


def randomize(model: Any, seed: int) -> None:
    """Draw weights that make every branch matter yet keep the model well conditioned.

    BatchNorm statistics and affines are moved far from (0, 1); layer scales from their
    1e-5 init to U(0.3, 0.6) (near 1 these encoders blow up: float32 and float64 runs then
    differ by ~1%); zero biases get small random values.
    """
    import torch

    gen = torch.Generator().manual_seed(seed + 1)

    def uniform(t: Any, lo: float, hi: float) -> Any:
        return torch.rand(t.shape, generator=gen, dtype=t.dtype) * (hi - lo) + lo

    def normal(t: Any, std: float) -> Any:
        return torch.randn(t.shape, generator=gen, dtype=t.dtype) * std

    with torch.no_grad():
        for mod_name, mod in model.named_modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(normal(mod.running_mean, 0.2))
                mod.running_var.copy_(uniform(mod.running_var, 0.5, 2.0))
                mod.weight.copy_(uniform(mod.weight, 0.5, 1.5))
                mod.bias.copy_(normal(mod.bias, 0.2))
            elif isinstance(mod, torch.nn.LayerNorm) and mod.weight is not None:
                mod.weight.copy_(uniform(mod.weight, 0.5, 1.5))
                mod.bias.copy_(normal(mod.bias, 0.2))
        for name, param in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("gamma", "layer_scale") or "layer_scale" in name or leaf.startswith("ls"):
                param.copy_(uniform(param, 0.3, 0.6))
            elif leaf == "bias" and bool(torch.all(param == 0)):
                param.copy_(normal(param, 0.02))
            elif leaf in ("cls_token", "pos_embed"):
                param.copy_(normal(param, 0.02))


def reference_input(resolution: int, seed: int) -> np.ndarray:
    """A deterministic image in [0, 1], the range MobileCLIP's encoders take."""
    rng = np.random.default_rng(seed + 2)
    return rng.random((1, 3, resolution, resolution), dtype=np.float64).astype(np.float32)


def check_conditioning(model: Any, image: np.ndarray) -> tuple[np.ndarray, float]:
    """Run float32 and float64; return the float64 output and their relative difference."""
    import copy
    import torch

    with torch.no_grad():
        out32 = model(torch.from_numpy(image)).numpy().astype(np.float64)
        m64 = copy.deepcopy(model).double()
        out64 = m64(torch.from_numpy(image.astype(np.float64))).numpy()
    scale = float(np.max(np.abs(out64)))
    rel = float(np.max(np.abs(out32 - out64))) / (scale if scale > 0 else 1.0)
    return out64, rel


def export(opts: ExportOptions) -> None:
    import torch
    from timm.utils.model import reparameterize_model

    if opts.form not in ("train", "reparam"):
        raise MobilecError(f"--form must be train or reparam, not '{opts.form}'")
    if opts.exporter not in ("torchscript", "dynamo"):
        raise MobilecError(f"--exporter must be torchscript or dynamo, not '{opts.exporter}'")
    if opts.model not in MODELS:
        raise MobilecError(f"unknown model '{opts.model}' (choose from {', '.join(MODELS)})")
    if opts.checkpoint is not None and not os.path.isfile(opts.checkpoint):
        raise MobilecError("no such checkpoint file", path=opts.checkpoint)
    res = opts.resolution or MODELS[opts.model][1]
    # dynamo emits opset 18 natively; converting it down fails on some graphs.
    opset = opts.opset or (17 if opts.exporter == "torchscript" else 18)
    _log(f"building {opts.model} ({MODELS[opts.model][0]}) at {res}x{res}, "
         f"{'checkpoint ' + opts.checkpoint if opts.checkpoint else f'random weights, seed {opts.seed}'}")
    model = build_model(opts.model, res, opts.seed, opts.checkpoint)
    if opts.form == "reparam":
        model = reparameterize_model(model)
    image = reference_input(res, opts.seed)
    _log("checking conditioning (float32 vs float64 PyTorch)")
    out64, rel = check_conditioning(model, image)
    if opts.checkpoint is None and not rel <= CONDITIONING_TOL:
        raise MobilecError(
            f"refusing to export: float32 and float64 PyTorch outputs differ by {rel:.2e} "
            f"relative (limit {CONDITIONING_TOL:.0e}); the weights are ill-conditioned")
    _log(f"float32 vs float64: max|diff|/max|ref| = {rel:.2e}")

    out_path = Path(opts.output)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=str(out_path.parent))
    os.close(fd)
    try:
        _log(f"exporting with the {opts.exporter} exporter, opset {opset}"
             + (", batch dimension dynamic" if opts.dynamic_batch else ""))
        x = torch.from_numpy(image)
        with torch.no_grad():
            if opts.exporter == "torchscript":
                training = (torch.onnx.TrainingMode.PRESERVE if opts.keep_bn
                            else torch.onnx.TrainingMode.EVAL)
                axes = ({"image": {0: "batch"}, "embedding": {0: "batch"}}
                        if opts.dynamic_batch else None)
                torch.onnx.export(model, (x,), tmp, dynamo=False, opset_version=opset,
                                  input_names=["image"], output_names=["embedding"],
                                  training=training, do_constant_folding=not opts.keep_bn,
                                  dynamic_axes=axes)
            else:
                dims = (({0: torch.export.Dim("batch", min=1, max=1024)},)
                        if opts.dynamic_batch else None)
                prog = torch.onnx.export(model, (x,), dynamo=True, opset_version=opset,
                                         input_names=["image"], output_names=["embedding"],
                                         external_data=False, optimize=not opts.keep_bn,
                                         dynamic_shapes=dims)
                assert prog is not None
                prog.save(tmp, external_data=False)
        if opts.float16:
            _log("converting to float16 (onnxconverter-common, float32 inputs and outputs)")
            to_float16(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if opts.reference:
        stem = str(out_path.with_suffix(""))
        # Renamed into place whole: a reader (another export of the same model running
        # beside this one, as the tests do) never sees a half-written file.
        write_all({Path(stem + "_input.bin"): image.astype("<f4").tobytes(),
                   Path(stem + "_output_fp64.bin"): out64.astype("<f8").tobytes()})
        _log(f"wrote {stem}_input.bin and {stem}_output_fp64.bin")
    _log(f"wrote {out_path}")
