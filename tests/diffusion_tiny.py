"""Tiny random-weight diffusers pipelines, built offline, for the diffusion tests/benchmark.

The configurations follow diffusers' own fast tests (``get_dummy_components`` of the
AnimateDiff and TextToVideoSD test suites), shrunk further. The CLIP tokenizer is a real
``CLIPTokenizer`` built from a small BPE vocabulary written to disk, so prompts are
tokenized (and truncated at 77 tokens) exactly as with a real model.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    MotionAdapter,
    StableDiffusionPipeline,
    TextToVideoSDPipeline,
    UNet2DConditionModel,
    UNet3DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

#: Words that become single tokens; any other word is spelled letter by letter.
WORDS = (
    *("a", "and", "the", "on", "in", "of", "from", "to", "left", "right", "quiet"),
    *("car", "dog", "piano", "bird", "tree", "red", "street", "city", "room"),
    *("drives", "past", "barks", "plays", "sings"),
)
_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789,.'-!?&"
CROSS_DIM = 16
#: Latent/pixel size used by the tests: 48x32 pixels -> 24x16 latents (VAE scale 2).
WIDTH, HEIGHT = 48, 32


def write_tokenizer(folder: Path) -> CLIPTokenizer:
    """Write ``vocab.json`` + ``merges.txt`` to ``folder`` and load a CLIPTokenizer.

    Each word of :data:`WORDS` gets a chain of merges ("c a", "ca r</w>") so that it
    becomes one token, as in CLIP's real vocabulary.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for char in _CHARS:
            vocab.setdefault(char + suffix, len(vocab))
    merges: list[str] = []
    for word in WORDS:
        merged = word[0]
        for i, char in enumerate(word[1:]):
            piece = char + ("</w>" if i == len(word) - 2 else "")
            merges.append(f"{merged} {piece}")
            merged += piece
            vocab.setdefault(merged, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    )


def _text_encoder(vocab_size: int) -> CLIPTextModel:
    config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=CROSS_DIM,
        intermediate_size=32,
        num_attention_heads=2,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        max_position_embeddings=77,
    )
    return CLIPTextModel(config)


def _vae() -> AutoencoderKL:
    return AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=2,
    )


def _scheduler() -> DDIMScheduler:
    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        clip_sample=False,
        steps_offset=1,
    )


def tiny_animatediff(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Save a tiny SD 1.5-style base and a tiny motion adapter; return their folders.

    Loading them is what a user does with ``--model BASE --motion-adapter ADAPTER``.
    """
    torch.manual_seed(seed)
    tokenizer = write_tokenizer(folder / "tokenizer_src")
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=CROSS_DIM,
        attention_head_dim=4,
        norm_num_groups=2,
    )
    base = StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=_text_encoder(len(tokenizer) + 8),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    adapter = MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
    )
    base.save_pretrained(folder / "base")
    adapter.save_pretrained(folder / "adapter")
    return folder / "base", folder / "adapter"


def tiny_modelscope(folder: Path, seed: int = 0) -> Path:
    """Save a tiny ``TextToVideoSDPipeline`` (ModelScope layout); return its folder."""
    torch.manual_seed(seed)
    tokenizer = write_tokenizer(folder / "tokenizer_src")
    unet = UNet3DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=CROSS_DIM,
        attention_head_dim=4,
        norm_num_groups=2,
    )
    pipe = TextToVideoSDPipeline(
        vae=_vae(),
        text_encoder=_text_encoder(len(tokenizer) + 8),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
    )
    pipe.save_pretrained(folder / "modelscope")
    return folder / "modelscope"
