"""Checkpoints users have: Apple's release layout (the shared fixture, made with Apple's
model code, against Apple's own output), OpenCLIP/Hugging Face (`visual.trunk.`,
`module.`), plain timm, `.safetensors`; strict loading with one-line errors; ViT-B/16
built as Apple or as timm defines it, by the checkpoint's origin."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import fixture

torch = pytest.importorskip("torch")

from compiler.errors import MobilecError  # noqa: E402
from compiler.export import build_model  # noqa: E402
from compiler.verify import compare  # noqa: E402


def embed(model: object, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()  # type: ignore[operator]


def test_apple_release_layout_reproduces_apples_output() -> None:
    """The fixture's weights were drawn in Apple's model code: loaded through timm's
    remapping into timm's MCi0, the embedding must be Apple's to float32 rounding."""
    ckpt = fixture("mci0_apple_checkpoint.pt")
    x = np.fromfile(fixture("mci0_apple_input.bin"), dtype="<f4").reshape(1, 3, 256, 256)
    ref = np.fromfile(fixture("mci0_apple_output.bin"), dtype="<f4")
    model = build_model("mci0", 256, seed=0, checkpoint=str(ckpt))
    c = compare("timm MCi0 with Apple's checkpoint vs Apple's output", embed(model, x), ref)
    assert c.cosine >= 1 - 1e-9 and c.rel <= 1e-5, c


@pytest.mark.parametrize("layout", ["timm", "timm-wrapped", "openclip", "openclip-module",
                                    "safetensors-openclip"])
def test_layouts_load_the_same_weights(layout: str, tmp_path: Path) -> None:
    src = build_model("mci0", 64, seed=3, checkpoint=None)
    state = src.state_dict()
    text = {"text.token_embedding.weight": torch.zeros(3, 2), "logit_scale": torch.ones(())}
    path = tmp_path / "ckpt.pt"
    if layout == "timm":
        torch.save(state, path)
    elif layout == "timm-wrapped":
        torch.save({"state_dict": state, "epoch": 3}, path)
    elif layout in ("openclip", "openclip-module"):
        pre = "module." if layout == "openclip-module" else ""
        torch.save({**{f"{pre}visual.trunk.{k}": v for k, v in state.items()},
                    **{f"{pre}{k}": v for k, v in text.items()}}, path)
    else:
        from safetensors.torch import save_file
        path = tmp_path / "ckpt.safetensors"
        save_file({**{f"visual.trunk.{k}": v.contiguous() for k, v in state.items()}, **text},
                  str(path))
    loaded = build_model("mci0", 64, seed=99, checkpoint=str(path))
    x = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    np.testing.assert_array_equal(embed(loaded, x), embed(src, x))


def test_strict_load_names_layout_and_keys(tmp_path: Path) -> None:
    state = build_model("mci0", 64, seed=0, checkpoint=None).state_dict()
    key = sorted(state)[5]
    partial = tmp_path / "partial.pt"
    torch.save({f"visual.trunk.{k}": v for k, v in state.items() if k != key}, partial)
    with pytest.raises(MobilecError, match=rf"openclip-layout checkpoint does not fit "
                                           rf"fastvit_mci0: 1 missing keys \(first '{key}'\)"):
        build_model("mci0", 64, seed=0, checkpoint=str(partial))
    extra = tmp_path / "extra.pt"
    torch.save({**state, "visual.head.proj": torch.zeros(2, 2)}, extra)
    with pytest.raises(MobilecError, match=r"1 unexpected keys \(first 'visual.head.proj'\)"):
        build_model("mci0", 64, seed=0, checkpoint=str(extra))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(MobilecError, match="cannot read checkpoint"):
        build_model("mci0", 64, seed=0, checkpoint=str(junk))


def test_vit_b16_definition_follows_the_checkpoint(tmp_path: Path) -> None:
    """Random weights (and Apple's files) build Apple's ViT-B/16: the 4x4/4 stem conv pads
    by 1 and LayerNorms use eps 1e-5, so it is timm's definition with eps 1e-5 run on the
    image padded by one pixel. A timm/OpenCLIP checkpoint builds timm's definition."""
    apple = build_model("vit_b16", 224, seed=0, checkpoint=None)
    path = tmp_path / "vit.pt"
    torch.save({f"visual.trunk.{k}": v for k, v in apple.state_dict().items()}, path)
    timm_def = build_model("vit_b16", 224, seed=0, checkpoint=str(path))
    stem_a, stem_t = apple.patch_embed.backbone[0].conv, timm_def.patch_embed.backbone[0].conv
    assert stem_a.padding == (1, 1) and stem_t.padding == (0, 0)
    eps = {m.eps for m in apple.modules() if isinstance(m, torch.nn.LayerNorm)}
    assert eps == {1e-5}
    assert {m.eps for m in timm_def.modules() if isinstance(m, torch.nn.LayerNorm)} == {1e-6}

    x = np.random.default_rng(1).random((1, 3, 224, 224), dtype=np.float32)
    got_apple, got_timm = embed(apple, x), embed(timm_def, x)
    assert compare("apple vs timm definition", got_timm, got_apple).rel > 1e-3
    for m in timm_def.modules():
        if isinstance(m, torch.nn.LayerNorm):
            m.eps = 1e-5
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))[:, :, :224, :224]
    c = compare("timm eps 1e-5 on the padded image vs apple", embed(timm_def, padded), got_apple)
    assert c.rel <= 1e-5, c
