"""Attention processors that steer a text-to-video UNet by the layout's boxes.

They are installed on the spatial cross-attention layers only (image pixels attending to
the prompt's tokens) and restored afterwards by :func:`layout_steering`:

- ``modulate``: an additive bias on the attention logits of each object's tokens,
  ``+strength`` at pixels inside the object's box and ``-strength`` outside (and in
  frames where it is out of view), on the conditional branch, during the early steps
  (Direct-a-Video, DenseDiffusion, TrailBlazer and Peekaboo all do variants of this);
- ``record``: the processor also keeps each object's attention map (used by the energy
  guidance of :mod:`spa2v.rendering.diffusion.energy` and by the tests).

Batch layout (diffusers video UNets): the spatial layers see ``batch * frames`` rows,
video-major; with classifier-free guidance the unconditional video comes first, so the
conditional rows are always the *last* ``num_frames`` rows.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from spa2v.errors import BackendUnavailableError


def spatial_cross_attention_names(unet: Any) -> list[str]:
    """Processor names of the UNet's spatial cross-attention layers.

    Temporal/motion modules (``motion_modules``, ``temp_attentions``, ``transformer_in``)
    also have an ``attn2``, but it is self-attention over frames: ``.attentions.`` in the
    name picks the spatial transformers only.
    """
    return [
        name
        for name in unet.attn_processors
        if ".attentions." in name and name.endswith("attn2.processor")
    ]


def layer_hw(seq_len: int, latent_hw: tuple[int, int]) -> tuple[int, int]:
    """Height and width of a layer whose feature map has ``seq_len`` pixels.

    UNet levels halve the latent (rounding up for odd sizes) once per downsampling.

    >>> layer_hw(40, (10, 16))
    (5, 8)
    """
    h, w = latent_hw
    for _ in range(8):
        if h * w == seq_len:
            return h, w
        h, w = math.ceil(h / 2), math.ceil(w / 2)
    raise ValueError(f"no UNet level of a {latent_hw} latent has {seq_len} pixels")


def box_masks(boxes: np.ndarray, h: int, w: int) -> np.ndarray:
    """Which pixels of an ``h x w`` grid lie in each box.

    A pixel is inside when its centre is; a box too small to hold any centre keeps the
    pixel under its own centre, so that every visible object has somewhere to go.

    Parameters
    ----------
    boxes : np.ndarray
        ``(F, K, 4)`` normalized ``[x0, y0, x1, y1]``; NaN rows are objects out of view.

    Returns
    -------
    np.ndarray
        ``(F, K, h * w)`` bool, row-major pixels (as in the attention's query order).
    """
    ys = (np.arange(h) + 0.5) / h
    xs = (np.arange(w) + 0.5) / w
    x0, y0, x1, y1 = (boxes[..., i, None, None] for i in range(4))
    inside = (xs >= x0) & (xs <= x1) & (ys[:, None] >= y0) & (ys[:, None] <= y1)
    masks = inside.reshape(*boxes.shape[:2], h * w)
    visible = ~np.isnan(boxes).any(axis=-1)
    for f, k in zip(*np.nonzero(visible & ~masks.any(axis=-1)), strict=True):
        cx, cy = (boxes[f, k, 0] + boxes[f, k, 2]) / 2, (boxes[f, k, 1] + boxes[f, k, 3]) / 2
        row, col = min(int(cy * h), h - 1), min(int(cx * w), w - 1)
        masks[f, k, row * w + col] = True
    return masks


def logit_bias(
    masks: np.ndarray,
    token_positions: tuple[tuple[int, ...], ...],
    n_tokens: int,
    strength: float,
) -> np.ndarray:
    """Additive cross-attention bias: ``+strength`` in the box, ``-strength`` outside.

    Returns ``(F, h * w, n_tokens)`` float32; columns of tokens that name no object are 0.
    """
    n_frames, _, n_pixels = masks.shape
    bias = np.zeros((n_frames, n_pixels, n_tokens), dtype=np.float32)
    for k, positions in enumerate(token_positions):
        signed = np.where(masks[:, k], strength, -strength).astype(np.float32)  # (F, P)
        for position in positions:
            bias[:, :, position] = signed
    return bias


@dataclass
class SteeringState:
    """What the processors share: the layout, the switches, and the recorded maps.

    The pipeline wrapper flips ``bias_enabled`` off after the early steps and turns
    ``record`` on for the energy-guidance pass; the processors only read them.
    """

    token_positions: tuple[tuple[int, ...], ...]
    boxes: np.ndarray  # (F, K, 4), NaN = out of view
    latent_hw: tuple[int, int]
    strength: float = 0.0
    bias_enabled: bool = False
    record: bool = False
    #: layer name -> (F, K, h*w) attention of each object's tokens (conditional branch).
    maps: dict[str, torch.Tensor] = field(default_factory=dict)
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    @property
    def num_frames(self) -> int:
        return int(self.boxes.shape[0])

    def masks(self, seq_len: int) -> np.ndarray:
        """``(F, K, seq_len)`` box masks at the layer with ``seq_len`` pixels (cached)."""
        key = ("masks", seq_len)
        if key not in self._cache:
            self._cache[key] = box_masks(self.boxes, *layer_hw(seq_len, self.latent_hw))
        return self._cache[key]

    def bias(
        self,
        batch: int,
        heads: int,
        seq_len: int,
        n_tokens: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> torch.Tensor:
        """``(batch * heads, seq_len, n_tokens)`` logit bias, zero but on the last F videos.

        Built once per layer shape and already repeated per head, which is the layout
        diffusers' processors use internally, so they take it without a copy per call.
        """
        key = ("bias", batch, heads, seq_len, n_tokens, dtype, device)
        if key not in self._cache:
            cond = logit_bias(self.masks(seq_len), self.token_positions, n_tokens, self.strength)
            rows = np.zeros((batch, seq_len, n_tokens), dtype=np.float32)
            rows[batch - self.num_frames :] = cond
            per_head = torch.from_numpy(rows).repeat_interleave(heads, dim=0)
            self._cache[key] = per_head.to(device=device, dtype=dtype)
        return self._cache[key]


class LayoutAttnProcessor:
    """Wraps a layer's original processor; adds the layout bias and/or records maps.

    With steering off it calls the original processor untouched. The bias is handed to
    the original processor as an additive ``attention_mask`` (diffusers' processors add
    it to the logits), so the fast SDPA/xformers kernels stay in use.
    """

    def __init__(self, name: str, original: Any, state: SteeringState) -> None:
        self.name = name
        self.original = original
        self.state = state

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> torch.Tensor:
        state = self.state
        if (
            encoder_hidden_states is None
            or hidden_states.ndim != 3
            or not (state.bias_enabled or state.record)
        ):
            return self.original(
                attn, hidden_states, encoder_hidden_states, attention_mask, *args, **kwargs
            )
        batch, seq_len, _ = hidden_states.shape
        mask = attention_mask
        if state.bias_enabled:
            n_tokens = encoder_hidden_states.shape[1]
            mask = state.bias(
                batch, attn.heads, seq_len, n_tokens, hidden_states.dtype, hidden_states.device
            )
            if attention_mask is not None:  # e.g. an encoder padding mask: add both
                mask = mask + attn.prepare_attention_mask(attention_mask, n_tokens, batch)
        if state.record:
            return self._attend_and_record(attn, hidden_states, encoder_hidden_states, mask)
        return self.original(attn, hidden_states, encoder_hidden_states, mask, *args, **kwargs)

    def _attend_and_record(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        # Written out (as diffusers' AttnProcessor does) because the fused kernels do not
        # return the attention probabilities, which are what we record.
        batch, seq_len, _ = hidden_states.shape
        context = encoder_hidden_states
        if attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))
        key = attn.head_to_batch_dim(attn.to_k(context))
        value = attn.head_to_batch_dim(attn.to_v(context))
        if mask is not None:
            mask = attn.prepare_attention_mask(mask, context.shape[1], batch)
        probs = attn.get_attention_scores(query, key, mask)  # (batch * heads, Lq, Lk)

        per_head = probs.view(batch, attn.heads, seq_len, -1)[-self.state.num_frames :]
        mean_probs = per_head.mean(dim=1)  # (F, Lq, Lk)
        self.state.maps[self.name] = torch.stack(
            [mean_probs[..., list(pos)].mean(dim=-1) for pos in self.state.token_positions],
            dim=1,
        )  # (F, K, Lq)

        out = attn.batch_to_head_dim(torch.bmm(probs, value))
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + hidden_states
        return out / attn.rescale_output_factor


@contextlib.contextmanager
def layout_steering(unet: Any, state: SteeringState) -> Iterator[list[str]]:
    """Install :class:`LayoutAttnProcessor` on the spatial cross-attention layers.

    Yields the steered processor names. The UNet's original processors (the very same
    objects) are put back on exit, also when the body raises.

    Raises
    ------
    BackendUnavailableError
        The UNet has no spatial cross-attention layer to steer.
    """
    originals = dict(unet.attn_processors)
    names = spatial_cross_attention_names(unet)
    if not names:
        raise BackendUnavailableError(
            f"{type(unet).__name__} has no spatial cross-attention layers to steer; "
            "use --steering none"
        )
    steered = dict(originals)
    for name in names:
        steered[name] = LayoutAttnProcessor(name, originals[name], state)
    unet.set_attn_processor(steered)  # diffusers pops from the dict it is given: a copy
    try:
        yield names
    finally:
        unet.set_attn_processor(dict(originals))
