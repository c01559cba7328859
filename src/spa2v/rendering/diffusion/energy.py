"""LVD-style energy guidance of the latents from cross-attention maps.

LVD (Lian et al., "LLM-grounded Video Diffusion Models", ICLR 2024) nudges the noisy
latents before each early denoising step down the gradient of an energy that is low when
each object's token attends inside its box and not outside:

    E = sum over objects, mean over frames and steered layers of
        (1 - topk_mean(A inside the box)) + w_bg * topk_mean(A outside the box)

    latents <- latents - sqrt(1 - alpha_bar_t) * scale * dE/dlatents

An object out of view in a frame only has the background term (over the whole frame).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from spa2v.rendering.diffusion.steering import SteeringState


def topk_mean(values: torch.Tensor, mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean of the largest ``ceil(fraction * n)`` values where ``mask`` is set, per row.

    ``values`` must be >= 0 (attention probabilities): masked-out entries become 0 and
    sort last, so the top-k picks only (equal or larger) masked-in values. Rows with an
    empty mask give 0.

    Parameters
    ----------
    values, mask : torch.Tensor
        ``(..., n)`` probabilities and bool mask.
    """
    count = mask.sum(dim=-1)
    k = torch.clamp(torch.ceil(count * fraction), min=1).long()
    ranked = torch.sort(values * mask, dim=-1, descending=True).values
    top_sum = torch.gather(ranked.cumsum(dim=-1), -1, (k - 1).unsqueeze(-1)).squeeze(-1)
    return torch.where(count > 0, top_sum / k, torch.zeros_like(top_sum))


def attention_energy(
    state: SteeringState, topk_fraction: float = 0.5, background_weight: float = 3.0
) -> torch.Tensor:
    """The layout energy of the maps recorded in ``state`` (a scalar tensor).

    Raises ValueError when nothing was recorded (no steered layer ran).
    """
    if not state.maps:
        raise ValueError("no attention maps recorded; run the UNet with state.record = True")
    per_layer = []
    for maps in state.maps.values():  # (F, K, P)
        inside = torch.from_numpy(state.masks(maps.shape[-1])).to(maps.device)
        visible = inside.any(dim=-1)  # (F, K)
        foreground = torch.where(
            visible,
            1.0 - topk_mean(maps, inside, topk_fraction),
            torch.zeros((), dtype=maps.dtype, device=maps.device),
        )
        background = topk_mean(maps, ~inside, topk_fraction)
        per_layer.append((foreground + background_weight * background).mean(dim=0).sum())
    return torch.stack(per_layer).mean()


def conditional_embeddings(
    unet: torch.nn.Module, prompt_embeds: torch.Tensor, num_frames: int
) -> torch.Tensor:
    """The prompt embeddings in the batch layout ``unet`` expects for one video.

    ``UNetMotionModel`` (AnimateDiff) takes one embedding row per frame (the pipeline
    repeats them); ``UNet3DConditionModel`` repeats them itself.
    """
    if type(unet).__name__ == "UNetMotionModel":
        return prompt_embeds.repeat_interleave(num_frames, dim=0)
    return prompt_embeds


def layout_energy(
    unet: torch.nn.Module,
    scheduler: Any,
    latents: torch.Tensor,
    timestep: torch.Tensor | int,
    prompt_embeds: torch.Tensor,
    state: SteeringState,
    topk_fraction: float = 0.5,
    background_weight: float = 3.0,
) -> torch.Tensor:
    """One conditional UNet pass recording the maps; returns the energy (with graph).

    Must run where autograd is enabled if a gradient is wanted.
    """
    state.maps.clear()
    state.record = True
    try:
        model_input = scheduler.scale_model_input(latents, timestep)
        context = conditional_embeddings(unet, prompt_embeds, state.num_frames)
        unet(model_input, timestep, encoder_hidden_states=context)
        return attention_energy(state, topk_fraction, background_weight)
    finally:
        state.record = False


def guide_latents(
    unet: torch.nn.Module,
    scheduler: Any,
    latents: torch.Tensor,
    timestep: torch.Tensor | int,
    prompt_embeds: torch.Tensor,
    state: SteeringState,
    scale: float,
    topk_fraction: float = 0.5,
    background_weight: float = 3.0,
) -> tuple[torch.Tensor, float]:
    """One LVD guidance step: ``latents - sqrt(1 - alpha_bar_t) * scale * dE/dlatents``.

    Parameters
    ----------
    latents : torch.Tensor
        ``(1, C, F, h, w)`` noisy latents about to be denoised at ``timestep``.
    prompt_embeds : torch.Tensor
        ``(1, 77, D)`` conditional prompt embeddings.

    Returns
    -------
    (torch.Tensor, float)
        The guided latents (detached) and the energy before the step.
    """
    with torch.enable_grad():
        x = latents.detach().requires_grad_(True)
        energy = layout_energy(
            unet, scheduler, x, timestep, prompt_embeds, state, topk_fraction, background_weight
        )
        (grad,) = torch.autograd.grad(energy, x)
    state.maps.clear()  # drop the graph
    alpha_bar = float(scheduler.alphas_cumprod[int(timestep)])
    step = math.sqrt(1.0 - alpha_bar) * scale
    return (latents - step * grad.to(latents.dtype)).detach(), float(energy.detach())
