"""Diffusion generator on tiny random-weight pipelines built offline (no hub access).

Checks the issue's "done when" points: modulate concentrates each object's attention in
its box, one energy step lowers the energy, the end-to-end MP4 matches the audio, the
original attention processors come back, and every user error is a clear Spa2vError.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers")
import av
import torch

from diffusion_tiny import HEIGHT, WIDTH, tiny_animatediff, tiny_modelscope
from spa2v.errors import BackendUnavailableError, LayoutError, Spa2vError
from spa2v.planning.vsl import VSL, parse_vsl
from spa2v.rendering.diffusion import (
    DiffusionOptions,
    generate_diffusion_video,
    generate_frames,
    load_pipeline,
)
from spa2v.rendering.diffusion.energy import (
    conditional_embeddings,
    guide_latents,
    layout_energy,
)
from spa2v.rendering.diffusion.prompting import build_prompt, frame_boxes
from spa2v.rendering.diffusion.steering import (
    SteeringState,
    box_masks,
    layout_steering,
    spatial_cross_attention_names,
)

pytestmark = pytest.mark.diffusion
NUM_FRAMES = 4


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """The tiny models run ~10x faster on one thread than fighting for a busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny_models")
    base, adapter = tiny_animatediff(folder)
    return {"base": base, "adapter": adapter, "modelscope": tiny_modelscope(folder)}


def _options(model_dirs: dict[str, Path], base: str, **kwargs: Any) -> DiffusionOptions:
    if base == "animatediff":
        where = {"model": str(model_dirs["base"]), "motion_adapter": str(model_dirs["adapter"])}
    else:
        where = {"model": str(model_dirs["modelscope"])}
    settings = dict(
        steps=3,
        num_frames=NUM_FRAMES,
        width=WIDTH,
        height=HEIGHT,
        device="cpu",
        show_progress=False,
    )
    settings.update(kwargs)
    return DiffusionOptions(base=base, **where, **settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pipes(model_dirs: dict[str, Path]) -> dict[str, Any]:
    """Both tiny pipelines, loaded through our loader as a user's models would be."""
    return {
        base: load_pipeline(_options(model_dirs, base)) for base in ("animatediff", "modelscope")
    }


@pytest.fixture(scope="module")
def vsl() -> VSL:
    """A car crossing right to left, and a dog top-left that leaves after the midpoint."""
    return parse_vsl(
        {
            "schema": "spa2v.vsl/1",
            "duration": 2.0,
            "fps": 1.0,
            "caption": "a red car drives past",
            "background": "a city street",
            "objects": [
                {"id": 0, "name": "car", "audio_label": "Car", "motion": "right-to-left"},
                {"id": 1, "name": "dog", "audio_label": "Bark", "motion": "static"},
            ],
            "frames": [
                {
                    "t": 0.0,
                    "boxes": [
                        {"id": 0, "box": [0.6, 0.45, 1.0, 0.8]},
                        {"id": 1, "box": [0.0, 0.0, 0.3, 0.4]},
                    ],
                },
                {"t": 2.0, "boxes": [{"id": 0, "box": [0.0, 0.45, 0.4, 0.8]}]},
            ],
        }
    )


# -- prompting -----------------------------------------------------------------------------


def test_prompt_locates_object_tokens_and_appends_missing_names(
    pipes: dict[str, Any], vsl: VSL
) -> None:
    tokenizer = pipes["animatediff"].tokenizer
    prompt = build_prompt(vsl, tokenizer)
    assert prompt.text == "a red car drives past, a city street, and a dog"
    ids = tokenizer(prompt.text, padding="max_length", max_length=77).input_ids
    for name, positions in zip(["car", "dog"], prompt.token_positions, strict=True):
        assert tokenizer.decode([ids[p] for p in positions]).strip() == name


def test_too_many_objects_for_the_prompt_is_a_layout_error(pipes: dict[str, Any], vsl: VSL) -> None:
    birds = [{"id": i, "name": "bird", "motion": "static"} for i in range(30)]
    crowd = parse_vsl({**vsl.to_dict(), "objects": birds, "frames": [{"t": 0.0, "boxes": []}]})
    with pytest.raises(LayoutError, match="too many objects"):
        build_prompt(crowd, pipes["animatediff"].tokenizer)
    # a smaller crowd fits once the background and the caption's tail make room
    few = parse_vsl({**crowd.to_dict(), "objects": crowd.to_dict()["objects"][:12]})
    assert len(build_prompt(few, pipes["animatediff"].tokenizer).token_positions) == 12


def test_frame_boxes_follow_the_keyframes(vsl: VSL) -> None:
    boxes = frame_boxes(vsl, NUM_FRAMES)  # frames at t = 0, 0.5, 1.0, 1.5 s
    assert boxes.shape == (NUM_FRAMES, 2, 4)
    centre_x = (boxes[:, 0, 0] + boxes[:, 0, 2]) / 2
    np.testing.assert_allclose(centre_x, [0.8, 0.65, 0.5, 0.35], atol=1e-6)
    assert not np.isnan(boxes[:2, 1]).any()  # the dog before the midpoint...
    assert np.isnan(boxes[2:, 1]).all()  # ...and gone after it


def test_box_masks_keep_a_pixel_for_tiny_boxes() -> None:
    boxes = np.array([[[0.0, 0.0, 0.5, 0.5], [0.61, 0.61, 0.62, 0.62], [np.nan] * 4]])
    masks = box_masks(boxes, 4, 4)
    assert masks[0, 0].reshape(4, 4)[:2, :2].all() and masks[0, 0].sum() == 4
    assert masks[0, 1].sum() == 1 and masks[0, 1].reshape(4, 4)[2, 2]
    assert not masks[0, 2].any()


# -- steering ------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["animatediff", "modelscope"])
def test_only_spatial_cross_attention_is_steered(pipes: dict[str, Any], base: str) -> None:
    names = spatial_cross_attention_names(pipes[base].unet)
    assert len(names) >= 3  # down, mid and up blocks
    for name in names:
        assert ".attentions." in name and name.endswith("attn2.processor")
        assert "motion_modules" not in name and "temp_attentions" not in name


def _inside_share(state: SteeringState) -> np.ndarray:
    """Per object: share of its attention mass inside its box (mean over frames, layers)."""
    shares = []
    for maps in state.maps.values():  # (F, K, P)
        inside = torch.from_numpy(state.masks(maps.shape[-1]))
        share = (maps * inside).sum(-1) / maps.sum(-1)
        visible = inside.any(-1)
        shares.append([share[visible[:, k], k].mean().item() for k in range(maps.shape[1])])
    return np.mean(shares, axis=0)


@pytest.mark.parametrize("base", ["animatediff", "modelscope"])
def test_modulate_moves_each_objects_attention_into_its_box(
    pipes: dict[str, Any], vsl: VSL, base: str
) -> None:
    pipe = pipes[base]
    prompt = build_prompt(vsl, pipe.tokenizer)
    cond, uncond = pipe.encode_prompt(prompt.text, "cpu", 1, True, "")
    latent_hw = (HEIGHT // pipe.vae_scale_factor, WIDTH // pipe.vae_scale_factor)
    state = SteeringState(
        prompt.token_positions, frame_boxes(vsl, NUM_FRAMES), latent_hw, strength=3.0
    )
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn((1, 4, NUM_FRAMES, *latent_hw), generator=generator)
    # The batch the pipeline runs with classifier-free guidance: unconditional first.
    batch = torch.cat([latents, latents])
    context = torch.cat([conditional_embeddings(pipe.unet, e, NUM_FRAMES) for e in (uncond, cond)])
    shares, noise = {}, {}
    with layout_steering(pipe.unet, state), torch.no_grad():
        for steer in (False, True):
            state.bias_enabled, state.record = steer, True
            noise[steer] = pipe.unet(batch, 500, encoder_hidden_states=context).sample
            assert set(state.maps) == set(spatial_cross_attention_names(pipe.unet))
            shares[steer] = _inside_share(state)
        # Without recording, the bias goes through the original (SDPA) processors: same result.
        state.record = False
        fused = pipe.unet(batch, 500, encoder_hidden_states=context).sample
    torch.testing.assert_close(fused, noise[True], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(noise[True], noise[False], atol=1e-5)
    print(f"{base}: inside-box share unsteered {shares[False]}, modulated {shares[True]}")
    assert (shares[True] >= 0.6).all()
    assert (shares[True] >= 2.0 * shares[False]).all()


@pytest.mark.parametrize("base", ["animatediff", "modelscope"])
def test_one_energy_step_lowers_the_energy(pipes: dict[str, Any], vsl: VSL, base: str) -> None:
    pipe = pipes[base]
    prompt = build_prompt(vsl, pipe.tokenizer)
    cond, _ = pipe.encode_prompt(prompt.text, "cpu", 1, False)
    latent_hw = (HEIGHT // pipe.vae_scale_factor, WIDTH // pipe.vae_scale_factor)
    state = SteeringState(prompt.token_positions, frame_boxes(vsl, NUM_FRAMES), latent_hw)
    pipe.scheduler.set_timesteps(10)
    t = pipe.scheduler.timesteps[0]
    generator = torch.Generator().manual_seed(1)
    latents = torch.randn((1, 4, NUM_FRAMES, *latent_hw), generator=generator)
    # Random weights make the attention barely depend on the latents, so the step needs
    # a large scale to move the energy well above float32 noise (~1e-7).
    scale = 1e4
    with layout_steering(pipe.unet, state):
        guided, before = guide_latents(pipe.unet, pipe.scheduler, latents, t, cond, state, scale)
        with torch.no_grad():
            after = float(layout_energy(pipe.unet, pipe.scheduler, guided, t, cond, state))
    # First order: a step of size s along -grad lowers E by s * |grad|^2 = |delta|^2 / s.
    step = (1.0 - float(pipe.scheduler.alphas_cumprod[int(t)])) ** 0.5 * scale
    predicted = float(((latents - guided) ** 2).sum()) / step
    print(f"{base}: energy {before:.6f} -> {after:.6f} (first order {predicted:.2e})")
    assert predicted > 1e-5
    assert before - after > 0.5 * predicted


def test_original_processors_come_back_also_after_an_error(pipes: dict[str, Any], vsl: VSL) -> None:
    unet = pipes["animatediff"].unet
    before = dict(unet.attn_processors)
    state = SteeringState(((1,),), frame_boxes(vsl, NUM_FRAMES)[:, :1], (16, 24))
    with pytest.raises(RuntimeError, match="boom"), layout_steering(unet, state) as names:
        assert all(type(unet.attn_processors[n]).__name__ == "LayoutAttnProcessor" for n in names)
        raise RuntimeError("boom")
    after = unet.attn_processors
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)


# -- end to end ----------------------------------------------------------------------------


def _durations_s(path: Path) -> dict[str, float]:
    with av.open(str(path)) as container:
        out = {}
        for stream in container.streams:
            frames = stream.frames if stream.type == "video" else None
            if stream.type == "video":
                out["video"] = frames / float(stream.average_rate)
            elif stream.duration is not None:
                out[stream.type] = float(stream.duration * stream.time_base)
        return out


@pytest.mark.parametrize(
    ("base", "steering", "video_size"),
    [("animatediff", "modulate", (64, 40)), ("modelscope", "energy", None)],
)
def test_end_to_end_mp4_matches_the_audio(
    pipes: dict[str, Any],
    model_dirs: dict[str, Path],
    vsl: VSL,
    tmp_path: Path,
    tone: Any,
    write_audio: Any,
    base: str,
    steering: str,
    video_size: tuple[int, int] | None,
) -> None:
    audio = write_audio("street.wav", tone(16000, 1.3), 16000)
    unet = pipes[base].unet
    before = dict(unet.attn_processors)
    options = _options(model_dirs, base, steering=steering, video_size=video_size)
    out = generate_diffusion_video(vsl, audio, tmp_path / "out.mp4", options)
    durations = _durations_s(out)
    print(base, steering, durations)
    assert abs(durations["video"] - 1.3) <= 1.0 / 8.0  # one output frame at 8 fps
    assert abs(durations["audio"] - 1.3) < 0.05
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    width, height = video_size or (WIDTH, HEIGHT)
    assert frame.shape == (height, width, 3)
    assert all(unet.attn_processors[name] is before[name] for name in before)


@pytest.mark.parametrize(
    ("base", "steering", "strength"),
    # energy on random weights needs a large scale to change 8-bit pixels (see above)
    [("animatediff", "modulate", None), ("modelscope", "energy", 1e4)],
)
def test_steering_changes_the_video_only_on_its_steps(
    pipes: dict[str, Any],
    model_dirs: dict[str, Path],
    vsl: VSL,
    base: str,
    steering: str,
    strength: float | None,
) -> None:
    pipe = pipes[base]

    def frames(**kwargs: Any) -> np.ndarray:
        return generate_frames(pipe, vsl, _options(model_dirs, base, **kwargs))

    plain = frames(steering="none")
    steered = frames(steering=steering, steering_strength=strength)
    idle = frames(steering=steering, steering_strength=strength, steering_steps=0)
    assert plain.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3) and plain.dtype == np.uint8
    assert np.abs(plain.astype(int) - steered.astype(int)).max() > 0
    np.testing.assert_array_equal(idle, plain)  # steering acts only on its steps


# -- errors --------------------------------------------------------------------------------


def test_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="no such model folder"):
        load_pipeline(DiffusionOptions(model=str(tmp_path / "nope"), device="cpu"))


def test_hub_id_without_network_says_how_to_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    # What HF_HUB_OFFLINE=1 sets (huggingface_hub reads the variable once, at import).
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    options = DiffusionOptions(model="ali-vilab/text-to-video-ms-1.7b", device="cpu")
    with pytest.raises(BackendUnavailableError) as info:
        load_pipeline(options)
    message = str(info.value)
    assert "hf download ali-vilab/text-to-video-ms-1.7b --local-dir DIR" in message
    assert "--model DIR" in message and "\n" not in message


def test_cuda_requested_but_absent(
    monkeypatch: pytest.MonkeyPatch, model_dirs: dict[str, Path]
) -> None:
    # Simulates a machine without a GPU also where the tests run on one.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    options = _options(model_dirs, "modelscope", device="cuda")
    with pytest.raises(BackendUnavailableError, match="sees no CUDA GPU"):
        load_pipeline(options)


def test_device_auto_without_cuda_is_refused_not_silently_cpu(
    monkeypatch: pytest.MonkeyPatch, model_dirs: dict[str, Path]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    options = _options(model_dirs, "modelscope", device="auto")
    with pytest.raises(BackendUnavailableError, match=r"no CUDA GPU.*--device cpu"):
        load_pipeline(options)


def test_float16_on_cpu_is_refused(model_dirs: dict[str, Path]) -> None:
    options = _options(model_dirs, "modelscope", dtype="float16")
    with pytest.raises(Spa2vError, match="float16 needs a CUDA GPU"):
        load_pipeline(options)


def test_a_missing_model_is_one_line_without_library_noise(vsl: VSL, tmp_path: Path) -> None:
    """transformers' warnings, library log records and progress bars stay hidden unless
    --verbose: the user sees the one-line error only."""
    import json
    import subprocess
    import sys

    import soundfile as sf

    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(vsl.to_dict()))
    sf.write(tmp_path / "a.wav", 0.1 * np.random.default_rng(0).standard_normal(32000), 16000)
    argv = [sys.executable, "-m", "spa2v", "render", str(layout), "--audio"]
    argv += [str(tmp_path / "a.wav"), "-o", str(tmp_path / "o.mp4"), "--generator", "diffusion"]
    argv += ["--device", "cpu", "--model", str(tmp_path / "no-model")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        f"spa2v render: error: --model {tmp_path / 'no-model'}: no such model folder "
        "(give a diffusers model folder or a Hugging Face Hub id such as emilianJR/epiCRealism)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "layout.json"]
