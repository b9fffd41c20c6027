"""Checkpoints users have, loaded into timm's definition of the image tower.

Layouts recognized by their keys (after a DataParallel `module.` prefix is dropped):

- apple:    Apple's MobileCLIP release (`mobileclip_s0.pt`, ...): the whole CLIP model,
            image tower under `image_encoder.model.` with the names of Apple's model code;
            remapped by timm's own `checkpoint_filter_fn` (fastvit for MCi,
            vision_transformer_hybrid for ViT-B/16).
- openclip: OpenCLIP / Hugging Face releases (MobileCLIP-S*-OpenCLIP, all MobileCLIP2):
            image tower under `visual.trunk.` with timm's names.
- timm:     a plain timm state dict of the image tower.

Text-tower keys are ignored; every other key must fit the model exactly (strict load).
torch and timm are imported lazily: only `mobilec export` needs them.
"""
from __future__ import annotations

from typing import Any

from .errors import MobilecError

# Keys of the text tower and the CLIP head in the layouts above: not the image encoder's.
TEXT_PREFIXES = ("text_encoder.", "text.", "transformer.", "token_embedding.",
                 "positional_embedding", "ln_final.", "text_projection", "logit_scale",
                 "logit_bias")
WRAPPERS = ("state_dict", "model", "model_state_dict", "module")


def read_state_dict(path: str) -> dict[str, Any]:
    """The tensors of a `.pt`/`.pth`/`.bin` (torch.save) or `.safetensors` file."""
    import torch

    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file
            state: Any = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MobilecError("no such checkpoint file", path=path) from None
    except Exception as err:  # torch and safetensors raise many kinds here
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MobilecError(f"cannot read checkpoint: {first}", path=path) from None
    for key in WRAPPERS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise MobilecError("checkpoint holds no state dict", path=path)
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def detect_layout(state: dict[str, Any]) -> str:
    if any(k.startswith("image_encoder.model.") for k in state):
        return "apple"
    if any(k.startswith("visual.trunk.") for k in state):
        return "openclip"
    return "timm"


def image_tower(state: dict[str, Any], layout: str, model: Any, timm_name: str) -> dict[str, Any]:
    """The image tower's tensors under timm's names."""
    if layout == "apple":
        if timm_name.startswith("vit_"):
            from timm.models.vision_transformer_hybrid import checkpoint_filter_fn
        else:
            from timm.models.fastvit import checkpoint_filter_fn
        # timm's filters drop every key outside `image_encoder.model.` (the text tower).
        return dict(checkpoint_filter_fn(state, model))
    if layout == "openclip":
        out = {}
        for k, v in state.items():
            if k.startswith("visual.trunk."):
                out[k[len("visual.trunk."):]] = v
            elif not k.startswith(TEXT_PREFIXES):
                out[k] = v  # e.g. a `visual.head.*` projection: reported as unexpected
        return out
    return {k: v for k, v in state.items() if not k.startswith(TEXT_PREFIXES)}


def load_into(model: Any, path: str, state: dict[str, Any], layout: str, timm_name: str) -> None:
    """Strict load; the error names the layout seen and the first keys that do not fit."""
    tower = image_tower(state, layout, model, timm_name)
    try:
        result = model.load_state_dict(tower, strict=False)
    except RuntimeError as err:  # shapes that differ ("size mismatch for ...")
        lines = [ln.strip() for ln in str(err).splitlines() if "size mismatch" in ln]
        raise MobilecError(f"{layout}-layout checkpoint does not fit {timm_name}: "
                           f"{lines[0] if lines else str(err).strip()}", path=path) from None
    problems = []
    if result.missing_keys:
        problems.append(f"{len(result.missing_keys)} missing keys (first "
                        f"{', '.join(repr(k) for k in result.missing_keys[:3])})")
    if result.unexpected_keys:
        problems.append(f"{len(result.unexpected_keys)} unexpected keys (first "
                        f"{', '.join(repr(k) for k in result.unexpected_keys[:3])})")
    if problems:
        raise MobilecError(f"{layout}-layout checkpoint does not fit {timm_name}: "
                           + "; ".join(problems), path=path)
