"""Load a diffusers text-to-video pipeline and generate a layout-steered video with it.

torch and diffusers are imported inside the functions, so that importing this module
works without the ``diffusion`` extra; using it then raises BackendUnavailableError.

Bases: AnimateDiff (``AnimateDiffPipeline`` = an SD 1.5 base + a ``MotionAdapter``)
and ModelScope/Zeroscope (``TextToVideoSDPipeline``, deprecated upstream since diffusers
0.33 but still working).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spa2v.errors import BackendUnavailableError, Spa2vError, shorten
from spa2v.io.atomic import check_output_path
from spa2v.planning.vsl import VSL
from spa2v.rendering.diffusion.options import DEFAULT_MOTION_ADAPTER, DiffusionOptions

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

INSTALL_HINT = "install with pip install 'spa2v[diffusion]'"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def require_backend() -> None:
    """Raise BackendUnavailableError unless torch, diffusers and transformers import."""
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the diffusion generator needs torch, diffusers and transformers "
            f"({exc.name or exc} is missing): {INSTALL_HINT}"
        ) from None


# -- device and precision ----------------------------------------------------------------


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when torch sees a GPU, else an error (a video model on a CPU takes
    hours: only an explicit ``--device cpu`` runs there); CUDA asked but absent -> error."""
    import torch

    if device == "auto":
        if not torch.cuda.is_available():
            raise BackendUnavailableError(
                f"the diffusion generator needs a CUDA GPU and torch {torch.__version__} sees "
                "no CUDA GPU; pass --device cpu to run it on the CPU anyway (very slow)"
            )
        return torch.device("cuda")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise Spa2vError(f"unknown --device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailableError(
            f"--device {device} was asked for but torch {torch.__version__} sees no CUDA GPU; "
            "use --device cpu (slow) or install a CUDA build of torch on a machine with a GPU"
        )
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise BackendUnavailableError(
            f"--device {device}: only {torch.cuda.device_count()} CUDA GPU(s) are visible"
        )
    return resolved


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto`` -> float16 on CUDA, float32 elsewhere; float16 only on CUDA."""
    import torch

    if dtype == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if dtype == "float16" and device.type != "cuda":
        raise Spa2vError(
            f"--dtype float16 needs a CUDA GPU (device is {device}); use --dtype float32"
        )
    return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[dtype]


# -- loading -----------------------------------------------------------------------------


def _is_hub_id(reference: str) -> bool:
    return bool(_HUB_ID.match(reference)) and not Path(reference).expanduser().exists()


def _check_reference(reference: str, flag: str) -> None:
    """A path-looking ``reference`` that does not exist -> BackendUnavailableError."""
    if Path(reference).expanduser().exists() or _is_hub_id(reference):
        return
    raise BackendUnavailableError(
        f"{flag} {reference}: no such model folder (give a diffusers model folder or a "
        "Hugging Face Hub id such as emilianJR/epiCRealism)"
    )


def _load_error(reference: str, flag: str, exc: BaseException) -> BackendUnavailableError:
    """Turn a ``from_pretrained`` failure into a one-line, actionable error."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    log.debug("loading %s failed: %s", reference, exc)
    if _is_hub_id(reference):
        return BackendUnavailableError(
            f"cannot get {reference} from the Hugging Face Hub (offline, or not downloaded "
            f"yet); on a machine with network run `hf download {reference} --local-dir DIR` "
            f"(pip install huggingface_hub), copy DIR here and pass {flag} DIR"
        )
    return BackendUnavailableError(
        f"cannot load {flag} {reference}: {shorten(reason)} (is it a diffusers model folder?)"
    )


def _load_errors() -> tuple[type[BaseException], ...]:
    """Exceptions ``from_pretrained`` raises for a missing, partial or unreachable model."""
    errors: list[type[BaseException]] = [OSError, ValueError]
    try:
        from huggingface_hub.errors import HfHubHTTPError, HFValidationError

        errors += [HfHubHTTPError, HFValidationError]
    except ImportError:  # pragma: no cover - old huggingface_hub
        pass
    try:
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover - requests-based huggingface_hub
        pass
    return tuple(errors)


def _dtype_kwargs(torch_dtype: torch.dtype) -> dict[str, Any]:
    """``from_pretrained``'s precision argument, named as this diffusers expects it.

    Recent diffusers renamed ``torch_dtype`` to ``dtype`` (the old name warns); older
    ones know only ``torch_dtype``.
    """
    from diffusers.utils import deprecation_utils

    renamed = hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE")
    return {"dtype" if renamed else "torch_dtype": torch_dtype}


def _from_pretrained(cls: Any, reference: str, flag: str, **kwargs: Any) -> Any:
    _check_reference(reference, flag)
    try:
        return cls.from_pretrained(os.path.expanduser(reference), **kwargs)
    except _load_errors() as exc:
        raise _load_error(reference, flag, exc) from None


def _is_full_animatediff(reference: str) -> bool:
    """A local folder saved from an ``AnimateDiffPipeline`` (motion UNet included)."""
    index = Path(reference).expanduser() / "model_index.json"
    return index.is_file() and '"AnimateDiffPipeline"' in index.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=2)
def _load_cached(
    model: str, base: str, motion_adapter: str | None, device: str, dtype: str, progress: bool
) -> Any:
    from diffusers import AnimateDiffPipeline, DDIMScheduler, MotionAdapter, TextToVideoSDPipeline

    torch_device = resolve_device(device)
    precision = _dtype_kwargs(resolve_dtype(dtype, torch_device))
    _check_reference(model, "--model")  # before minutes spent fetching an adapter
    if base == "animatediff":
        if _is_full_animatediff(model) and motion_adapter is None:
            pipe = _from_pretrained(AnimateDiffPipeline, model, "--model", **precision)
        else:
            adapter_ref = motion_adapter or DEFAULT_MOTION_ADAPTER
            adapter = _from_pretrained(MotionAdapter, adapter_ref, "--motion-adapter", **precision)
            pipe = _from_pretrained(
                AnimateDiffPipeline,
                model,
                "--model",
                motion_adapter=adapter,
                **precision,
            )
        # The scheduler settings diffusers' AnimateDiff docs recommend.
        pipe.scheduler = DDIMScheduler.from_config(
            pipe.scheduler.config,
            beta_schedule="linear",
            clip_sample=False,
            timestep_spacing="linspace",
            steps_offset=1,
        )
    else:
        pipe = _from_pretrained(TextToVideoSDPipeline, model, "--model", **precision)
    pipe.set_progress_bar_config(disable=not progress)
    return pipe.to(torch_device)


def load_pipeline(options: DiffusionOptions) -> Any:
    """The diffusers pipeline ``options`` name, on its device and dtype (cached).

    Raises
    ------
    BackendUnavailableError
        Extra not installed, model folder missing, hub id unreachable, CUDA absent.
    Spa2vError
        float16 asked for on a CPU.
    """
    require_backend()
    opts = options.resolved()
    assert opts.model is not None  # resolved() fills it
    return _load_cached(
        opts.model, opts.base, opts.motion_adapter, opts.device, opts.dtype, opts.show_progress
    )


# -- generation --------------------------------------------------------------------------


def generate_frames(pipe: Any, vsl: VSL, options: DiffusionOptions) -> np.ndarray:
    """Generate the model's frames for ``vsl``, steered as ``options.steering`` says.

    Returns
    -------
    np.ndarray
        ``(num_frames, height, width, 3)`` uint8 RGB.
    """
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    from spa2v.rendering.diffusion.energy import guide_latents
    from spa2v.rendering.diffusion.prompting import build_prompt, frame_boxes
    from spa2v.rendering.diffusion.steering import SteeringState, layout_steering

    opts = options.resolved()
    opts.validate()
    assert opts.steps and opts.num_frames and opts.width and opts.height  # resolved()
    prompt = build_prompt(vsl, pipe.tokenizer)
    log.info("diffusion prompt: %s", prompt.text)
    device = pipe._execution_device
    do_cfg = opts.guidance_scale is not None and opts.guidance_scale > 1.0
    cond, uncond = pipe.encode_prompt(prompt.text, device, 1, do_cfg, opts.negative_prompt)
    latent_hw = (opts.height // pipe.vae_scale_factor, opts.width // pipe.vae_scale_factor)
    state = SteeringState(
        token_positions=prompt.token_positions,
        boxes=frame_boxes(vsl, opts.num_frames),
        latent_hw=latent_hw,
        strength=float(opts.steering_strength or 0.0),
    )
    n_steered = int(opts.steering_steps or 0)
    state.bias_enabled = opts.steering == "modulate" and n_steered > 0

    # Our own initial noise, so that energy guidance can act before the first step too.
    generator = torch.Generator(device="cpu").manual_seed(opts.seed)
    shape = (1, pipe.unet.config.in_channels, opts.num_frames, *latent_hw)
    latents = randn_tensor(shape, generator=generator, device=device, dtype=cond.dtype)
    pipe.scheduler.set_timesteps(opts.steps, device=device)
    sigma = float(pipe.scheduler.init_noise_sigma)

    def guide(x: torch.Tensor, step: int) -> torch.Tensor:
        t = pipe.scheduler.timesteps[step]
        x, energy = guide_latents(
            pipe.unet,
            pipe.scheduler,
            x,
            t,
            cond,
            state,
            float(opts.steering_strength or 0.0),
            opts.energy_topk_fraction,
            opts.energy_background_weight,
        )
        log.debug("step %d: layout energy %.4f", step, energy)
        return x

    def after_step(step: int, x: torch.Tensor) -> torch.Tensor:
        """Runs after denoising step ``step``; returns the latents for the next one."""
        steer_next = step + 1 < n_steered
        if opts.steering == "modulate":
            state.bias_enabled = steer_next
        elif opts.steering == "energy" and steer_next:
            x = guide(x, step + 1)
        return x

    kwargs: dict[str, Any] = dict(
        prompt_embeds=cond,
        negative_prompt_embeds=uncond,
        num_frames=opts.num_frames,
        height=opts.height,
        width=opts.width,
        num_inference_steps=opts.steps,
        guidance_scale=opts.guidance_scale,
        latents=latents,
        output_type="np",
    )
    kwargs.update(_step_callback(pipe, after_step))
    if opts.steering == "none":
        output = pipe(**kwargs)
    else:
        with layout_steering(pipe.unet, state):
            if opts.steering == "energy" and n_steered > 0:
                kwargs["latents"] = guide(latents * sigma, 0) / sigma
            output = pipe(**kwargs)
    frames = np.asarray(output.frames)[0]  # (F, H, W, 3) floats in [0, 1]
    return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _step_callback(pipe: Any, after_step: Any) -> dict[str, Any]:
    """Pipeline arguments that call ``after_step(i, latents) -> latents`` after each step."""
    import inspect

    if "callback_on_step_end" in inspect.signature(type(pipe).__call__).parameters:
        return {  # AnimateDiff: the returned latents replace the pipeline's
            "callback_on_step_end": lambda _pipe, i, _t, tensors: {
                "latents": after_step(i, tensors["latents"])
            },
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
    # TextToVideoSD has only the legacy callback: update its latents in place.
    return {"callback": lambda i, _t, x: x.copy_(after_step(i, x)), "callback_steps": 1}


def stretch_indices(num_frames: int, duration_s: float, fps: float) -> np.ndarray:
    """Which generated frame to show at each output frame, to fill ``duration_s``.

    The ``num_frames`` generated frames are spread evenly over the duration (held or
    dropped as needed); there are ``max(1, round(duration_s * fps))`` output frames.

    >>> stretch_indices(4, 1.0, 8.0).tolist()
    [0, 0, 1, 1, 2, 2, 3, 3]
    """
    n_out = max(1, round(duration_s * fps))
    return np.minimum((np.arange(n_out) * num_frames) // n_out, num_frames - 1)


def resize_frames(frames: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Frames ``(N, H, W, 3)`` uint8 scaled to ``size = (width, height)`` (Lanczos)."""
    if size is None or (frames.shape[2], frames.shape[1]) == tuple(size):
        return frames
    from PIL import Image

    return np.stack(
        [np.asarray(Image.fromarray(f).resize(size, Image.Resampling.LANCZOS)) for f in frames]
    )


def _audio_duration_s(audio_path: str | os.PathLike[str]) -> float:
    from spa2v.rendering.video import read_audio_for_mux

    samples, sr = read_audio_for_mux(audio_path)
    return samples.shape[1] / sr


def generate_diffusion_video(
    vsl: VSL,
    audio_path: str | os.PathLike[str] | None,
    out_path: str | os.PathLike[str],
    options: DiffusionOptions | argparse.Namespace | None = None,
) -> Path:
    """Render ``vsl`` with a steered text-to-video model into an MP4 with the audio.

    The generated clip is stretched in time to the audio's duration (the layout's
    duration without audio) at ``options.video_fps``, scaled to ``options.video_size``
    when given, and muxed with the original audio.

    Parameters
    ----------
    options : DiffusionOptions or argparse.Namespace, optional
        A namespace parsed with :func:`add_diffusion_arguments` is converted with
        :meth:`DiffusionOptions.from_namespace`.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    BackendUnavailableError, LayoutError, AudioInputError, OutputError, Spa2vError
        See :func:`load_pipeline`; too many objects; unreadable audio; bad output path.
    """
    from spa2v.rendering.video import write_mp4

    if isinstance(options, argparse.Namespace):
        options = DiffusionOptions.from_namespace(options)
    opts = (options or DiffusionOptions()).resolved()
    opts.validate()
    out_path = Path(out_path)
    check_output_path(out_path, {".mp4"}, "video")  # fail before minutes of generation
    duration_s = _audio_duration_s(audio_path) if audio_path is not None else vsl.duration
    require_backend()
    pipe = load_pipeline(opts)
    frames = resize_frames(generate_frames(pipe, vsl, opts), opts.video_size)
    fps = float(opts.video_fps or 8.0)
    order = stretch_indices(len(frames), duration_s, fps)
    log.info(
        "%d generated frames stretched to %d frames at %g fps (%.2f s)",
        len(frames),
        len(order),
        fps,
        len(order) / fps,
    )
    return write_mp4(
        (frames[i] for i in order), fps, out_path, audio_path=audio_path, n_frames=len(order)
    )
