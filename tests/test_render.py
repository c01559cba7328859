"""The animatic renderer and the MP4 writer, checked on the decoded video.

Layouts and audio are made in the tests; the MP4 is decoded with PyAV and compared
with the layout (sprite boxes found in the pixels) and with the input audio.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from scipy import ndimage

from spa2v import api
from spa2v.errors import OutputError
from spa2v.planning.vsl import VSL, parse_vsl
from spa2v.rendering.animatic import AnimaticRenderer, n_video_frames
from spa2v.rendering.background import classify_scene, render_background
from spa2v.rendering.sprites import emoji_font, emoji_sprite, shape_sprite, sprite_for
from spa2v.rendering.storyboard import panel_times, write_storyboard_from_video
from spa2v.rendering.video import read_audio_for_mux, write_mp4

FPS = 24
SR = 22050


def make_audio(path: Path, duration_s: float, seed: int = 0) -> np.ndarray:
    """A stereo test signal (two tones + noise, different per channel); returns (2, n)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration_s * SR)) / SR
    left = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(t.size)
    right = 0.2 * np.sin(2 * np.pi * 550 * t) * (1 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    samples = np.stack([left, right]).astype(np.float32)
    sf.write(path, samples.T, SR, subtype="PCM_16")
    return samples


def still_layout(name: str, audio_label: str, box: list[float]) -> VSL:
    """A 1 s layout of one object standing in ``box`` in a concert hall."""
    return parse_vsl(
        {
            "schema": "spa2v.vsl/1",
            "duration": 1.0,
            "fps": 1.0,
            "caption": f"a {name}",
            "background": "a concert hall",
            "objects": [{"id": 0, "name": name, "audio_label": audio_label}],
            "frames": [{"t": t, "caption": "", "boxes": [{"id": 0, "box": box}]} for t in (0, 1)],
        }
    )


def car_layout(duration_s: float, direction: str = "right-to-left") -> VSL:
    """A car crossing the frame on a street, entering and leaving at the edges."""
    # Boxes as the camera model draws a 4.5 m x 1.5 m car (3:1), clipped at the edges.
    start, end = [0.85, 0.5, 1.0, 0.62], [0.0, 0.5, 0.2, 0.62]
    middle = [0.35, 0.5, 0.65, 0.66]
    if direction == "left-to-right":
        start, end = (
            [1 - end[2], *end[1:2], 1 - end[0], end[3]],
            [1 - start[2], start[1], 1 - start[0], start[3]],
        )
    frames = [
        {"t": 0.0, "caption": "a car enters", "boxes": [{"id": 0, "box": start}]},
        {"t": duration_s / 2, "caption": "the car passes", "boxes": [{"id": 0, "box": middle}]},
        {"t": duration_s, "caption": "the car leaves", "boxes": [{"id": 0, "box": end}]},
    ]
    return parse_vsl(
        {
            "schema": "spa2v.vsl/1",
            "duration": duration_s,
            "fps": 2 / duration_s,
            "caption": "a car drives past",
            "background": "a city street",
            "objects": [{"id": 0, "name": "car", "audio_label": "Car", "motion": direction}],
            "frames": frames,
        }
    )


def decode_video(path: Path) -> tuple[list[np.ndarray], float, float]:
    """RGB frames, the video stream's duration (s) and frame rate."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        duration_s = float(stream.duration * stream.time_base)
        fps = float(stream.average_rate)
    return frames, duration_s, fps


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        return np.concatenate(chunks, axis=1), int(stream.codec_context.sample_rate)


def found_box(frame: np.ndarray, background: np.ndarray) -> tuple[float, float, float, float]:
    """Normalized bounding box of what differs from the background (H.264 noise and
    isolated specks removed), or an empty box."""
    diff = np.abs(frame.astype(np.int16) - background.astype(np.int16)).max(axis=2)
    mask = ndimage.binary_opening(diff > 40, iterations=1)
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    h, w = mask.shape
    return (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@pytest.fixture(scope="module")
def car_video(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("car")
    duration_s = 2.5
    audio_path = folder / "clip.wav"
    samples = make_audio(audio_path, duration_s)
    vsl = car_layout(duration_s)
    out = api.render(vsl, audio_path, folder / "car.mp4", storyboard_path=folder / "sb.png")
    # The background alone, through the same encoder (chroma subsampling blurs colour
    # edges such as the road's dashes, so the raw background would differ from it).
    empty = vsl.model_copy(
        update={"frames": [f.model_copy(update={"boxes": []}) for f in vsl.frames]}
    )
    background_video = api.render(empty, audio_path, folder / "background.mp4")
    background = decode_video(background_video)[0][0]
    return {
        "vsl": vsl,
        "audio": samples,
        "audio_path": audio_path,
        "video": out,
        "folder": folder,
        "background": background,
    }


def test_video_lasts_as_long_as_the_audio(car_video: dict) -> None:
    frames, duration_s, fps = decode_video(car_video["video"])
    audio_s = car_video["audio"].shape[1] / SR
    assert fps == pytest.approx(FPS)
    assert (frames[0].shape[1], frames[0].shape[0]) == (512, 320)
    assert len(frames) == n_video_frames(audio_s, FPS)
    assert abs(duration_s - audio_s) <= 1 / FPS
    assert abs(len(frames) / fps - audio_s) <= 1 / FPS


def test_audio_stream_matches_the_input(car_video: dict) -> None:
    decoded, sr = decode_audio(car_video["video"])
    original = car_video["audio"]
    assert sr == SR and decoded.shape[0] == 2
    assert abs(decoded.shape[1] - original.shape[1]) / SR <= 1 / FPS
    n = min(decoded.shape[1], original.shape[1])
    for channel in range(2):
        # AAC is lossy and may shift by its priming delay: best correlation over small lags.
        a, b = original[channel, 2048 : n - 2048], decoded[channel, :n]
        best = max(
            np.corrcoef(a, b[2048 + lag : n - 2048 + lag])[0, 1] for lag in range(-64, 65, 1)
        )
        assert best > 0.95, f"channel {channel}: correlation {best:.3f}"


def test_each_frame_shows_the_sprite_in_its_box(car_video: dict) -> None:
    vsl = car_video["vsl"]
    frames, _, fps = decode_video(car_video["video"])
    background = car_video["background"]
    scores = []
    for i, frame in enumerate(frames):
        expected = vsl.boxes_at(i / fps)[0]
        scores.append(iou(found_box(frame, background), expected))
    assert min(scores) >= 0.7, f"worst frame IoU {min(scores):.2f} at {int(np.argmin(scores))}"


def test_storyboard_shows_the_car_moving_right_to_left(car_video: dict) -> None:
    sheet = np.asarray(Image.open(car_video["folder"] / "sb.png").convert("RGB"))
    assert sheet.shape[1] > 3 * 512 and sheet.shape[0] > 2 * 320  # 3 columns x 2 rows
    frames, _, fps = decode_video(car_video["video"])
    background = car_video["background"]
    times = panel_times(len(frames) / fps)
    centres = []
    for t in times:
        box = found_box(frames[min(len(frames) - 1, round(t * fps))], background)
        centres.append((box[0] + box[2]) / 2)
    assert all(b < a for a, b in itertools.pairwise(centres)), centres


def test_storyboard_panels_are_the_video_frames_at_their_times(car_video: dict) -> None:
    """The animatic's storyboard is kept while the video is written: each panel must be
    the frame the video shows at the panel's time, not a neighbour (the car moves about
    8 px a frame, far more than the encoder's error)."""
    sheet = np.asarray(Image.open(car_video["folder"] / "sb.png").convert("RGB")).astype(float)
    frames, _, fps = decode_video(car_video["video"])
    height, width = frames[0].shape[:2]
    gap, columns = 6, 3
    for panel, t in enumerate(panel_times(len(frames) / fps)):
        index = int(np.floor(t * fps + 1e-6))  # the frame on screen at time t
        row, col = divmod(panel, columns)
        top = sheet.shape[0] - (2 - row) * (height + gap)
        left = gap + col * (width + gap)
        crop = sheet[top + 40 : top + height, left : left + width]  # below the time label
        errors = {
            k: np.abs(crop - frames[k][40:].astype(float)).mean()
            for k in range(max(0, index - 2), min(len(frames), index + 3))
        }
        assert min(errors, key=errors.__getitem__) == index, (panel, errors)
        assert errors[index] < 2.0, (panel, errors)


def test_sprite_faces_where_it_goes() -> None:
    """The same box, motion to the left vs to the right: mirror images of each other."""
    box = [0.3, 0.45, 0.7, 0.62]
    frames = {}
    for motion in ("right-to-left", "left-to-right"):
        vsl = parse_vsl(
            {
                "schema": "spa2v.vsl/1",
                "duration": 1.0,
                "fps": 1.0,
                "background": "a street",
                "objects": [{"id": 0, "name": "car", "motion": motion}],
                "frames": [{"t": 0.0, "boxes": [{"id": 0, "box": box}]}],
            }
        )
        frames[motion] = AnimaticRenderer(vsl).render_frame(0.0).astype(float)
    x0, x1 = round(box[0] * 512), round(box[2] * 512)
    left, right = frames["right-to-left"][:, x0:x1], frames["left-to-right"][:, x0:x1]
    mirrored = np.abs(left - right[:, ::-1]).mean()
    unmirrored = np.abs(left - right).mean()
    assert mirrored < 0.25 * unmirrored, (mirrored, unmirrored)


def test_nearer_object_is_drawn_in_front() -> None:
    near = {"id": 0, "box": [0.3, 0.45, 0.6, 0.75]}  # lower bottom edge = nearer
    far = {"id": 1, "box": [0.4, 0.42, 0.7, 0.6]}

    def frame(boxes: list[dict]) -> np.ndarray:
        vsl = parse_vsl(
            {
                "schema": "spa2v.vsl/1",
                "duration": 1.0,
                "fps": 1.0,
                "background": "a street",
                "objects": [
                    {"id": 0, "name": "car", "motion": "static"},
                    {"id": 1, "name": "bus", "motion": "static"},
                ],
                "frames": [{"t": 0.0, "boxes": boxes}],
            }
        )
        renderer = AnimaticRenderer(vsl)
        return renderer.render_frame(0.0), renderer.background

    both, background = frame([far, near])  # listed far first on purpose...
    both_swapped, _ = frame([near, far])  # ...and near first: order must not matter
    near_only, _ = frame([near])
    far_only, _ = frame([far])
    overlap = (near_only != background).any(axis=2) & (far_only != background).any(axis=2)
    assert overlap.sum() > 500
    # Where both sprites cover a pixel, the near one shows (all but its anti-aliased rim).
    shows_near = (both[overlap] == near_only[overlap]).all(axis=1).mean()
    shows_far = (both[overlap] == far_only[overlap]).all(axis=1).mean()
    assert shows_near > 0.9 and shows_far < 0.1, (shows_near, shows_far)
    assert np.array_equal(both_swapped, both)


def test_overlay_and_subtitles_draw_on_top() -> None:
    vsl = car_layout(2.0)
    plain = AnimaticRenderer(vsl).render_frame(1.0)
    boxed = AnimaticRenderer(vsl, overlay=True).render_frame(1.0)
    captioned = AnimaticRenderer(vsl, subtitles=True).render_frame(1.0)
    x0, y0, x1, _ = vsl.boxes_at(1.0)[0]
    edge_row = round(y0 * 319)
    assert (
        boxed[edge_row, round(x0 * 511) : round(x1 * 511)]
        != plain[edge_row, round(x0 * 511) : round(x1 * 511)]
    ).any()
    bottom = slice(280, 320)
    assert (captioned[bottom] != plain[bottom]).any(axis=2).sum() > 200
    assert np.array_equal(captioned[:200], plain[:200])  # the caption stays at the bottom


def test_background_follows_the_scene_text_and_objects() -> None:
    assert classify_scene("a busy city street").indoor is False
    assert classify_scene("a busy city street").ground == "road"
    assert classify_scene("a small living room").indoor is True
    assert classify_scene("", ["piano", "violin"]).indoor is True  # class table: indoor
    assert classify_scene("", ["car"]).indoor is False
    outdoor = render_background(512, 320, "a park").astype(float)
    indoor = render_background(512, 320, "a concert hall").astype(float)
    sky = outdoor[:150].mean(axis=(0, 1))
    wall = indoor[:150].mean(axis=(0, 1))
    assert sky[2] > sky[0] + 40  # blue sky above the horizon
    assert wall[0] > wall[2]  # warm wall
    # The horizon is at mid-height: rows just above and below differ strongly.
    assert np.abs(outdoor[158] - outdoor[162]).mean() > 20


def test_sprites_are_emoji_or_labelled_shapes() -> None:
    assert emoji_font() is not None, "install Debian's fonts-noto-color-emoji"
    car, info = sprite_for("car")
    assert info.emoji and info.faces_left and car.mode == "RGBA"
    rgb = np.asarray(car)[..., :3].reshape(-1, 3)
    assert (rgb[:, 0] > 150).mean() > 0.2  # Noto's car is red
    assert emoji_sprite("x") is None  # not a glyph of the emoji font: no picture
    shape = np.asarray(shape_sprite("thing"))
    assert shape.shape == (100, 160, 4)
    assert len(np.unique(shape[40:60, 20:140, :3].reshape(-1, 3), axis=0)) > 2  # text drawn


def test_write_mp4_leaves_nothing_when_frames_fail(tmp_path: Path) -> None:
    def frames():
        for _ in range(5):
            yield np.zeros((64, 64, 3), np.uint8)
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError):
        write_mp4(frames(), FPS, tmp_path / "broken.mp4")
    assert list(tmp_path.iterdir()) == []


def test_write_mp4_with_sound_stops_its_audio_encoder_when_frames_fail(tmp_path: Path) -> None:
    """The sound is encoded in a thread of its own: a failure in the frames stops it
    (a minute of sound is far from encoded after five frames) and leaves no file."""
    import threading

    def frames():
        for _ in range(5):
            yield np.zeros((64, 64, 3), np.uint8)
        raise RuntimeError("generator broke")

    sound = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 48000 * 60)).astype(np.float32)
    with pytest.raises(RuntimeError, match="generator broke"):
        write_mp4(frames(), FPS, tmp_path / "broken.mp4", audio=(sound, 48000))
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "spa2v-aac"]


def test_write_mp4_rejects_odd_sizes_and_creates_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="even"):
        write_mp4([np.zeros((63, 64, 3), np.uint8)], FPS, tmp_path / "nope" / "odd.mp4")
    assert list(tmp_path.iterdir()) == []  # the folder made for it is gone again
    write_mp4([np.zeros((64, 64, 3), np.uint8)], FPS, tmp_path / "new" / "a.mp4")
    assert [p.name for p in tmp_path.rglob("*")] == ["new", "a.mp4"]


def test_more_than_two_channels_are_decoded_to_stereo(tmp_path: Path) -> None:
    t = np.arange(SR) / SR
    w = 0.3 * np.sin(2 * np.pi * 440 * t)
    foa = np.stack([w, w, 0 * w, 0 * w]).T  # a source hard left (Y = W)
    sf.write(tmp_path / "foa.wav", foa, SR)
    samples, sr = read_audio_for_mux(tmp_path / "foa.wav")
    assert sr == SR and samples.shape == (2, SR)
    assert np.abs(samples[0]).max() > 0.25 and np.abs(samples[1]).max() < 1e-3


def test_storyboard_panels_are_spread_over_the_clip(car_video: dict, tmp_path: Path) -> None:
    times = panel_times(10.0, 6)
    assert times[0] == 0.0 and len(times) == 6 and times[-1] < 10.0 and times[-1] > 9.0
    out = write_storyboard_from_video(
        car_video["video"], tmp_path / "two.png", n_panels=2, columns=2
    )
    assert Image.open(out).size[0] > 2 * 512


@pytest.mark.parametrize("sr", [192_000, 37_800])
def test_audio_at_a_rate_aac_cannot_encode_is_resampled_for_the_mux(
    tmp_path: Path, sr: int
) -> None:
    t = np.arange(round(0.6 * sr)) / sr
    sf.write(tmp_path / "hi.wav", 0.3 * np.sin(2 * np.pi * 440 * t), sr)
    out = api.render(car_layout(0.6), tmp_path / "hi.wav", tmp_path / "hi.mp4")
    audio, out_sr = decode_audio(out)
    assert out_sr in (44_100, 48_000, 96_000)
    assert abs(audio.shape[1] / out_sr - 0.6) < 0.05
    assert 0.2 < np.abs(audio).max() < 0.4  # the tone survived the resampling


def test_a_layout_shorter_than_its_audio_still_gives_a_video_as_long_as_the_audio(
    tmp_path: Path,
) -> None:
    make_audio(tmp_path / "clip.wav", 2.0)
    calls: list[tuple[str, int, int]] = []
    api.render(
        car_layout(0.5),
        tmp_path / "clip.wav",
        tmp_path / "v.mp4",
        fps=FPS,
        progress=lambda *call: calls.append(call),
    )
    frames, _, _ = decode_video(tmp_path / "v.mp4")
    assert len(frames) == n_video_frames(2.0, FPS)
    last = [c for c in calls if c[0] == "render"][-1]
    assert last[1] == last[2] == len(frames)  # the bar counts only frames written


@pytest.mark.parametrize("n_channels", [3, 5, 6])
def test_render_refuses_audio_that_run_refuses(tmp_path: Path, n_channels: int) -> None:
    from spa2v.errors import AudioInputError

    t = np.arange(SR) / SR
    tone = 0.1 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / "multi.wav", np.stack([tone] * n_channels).T, SR)
    with pytest.raises(AudioInputError, match="channels"):
        api.render(car_layout(1.0), tmp_path / "multi.wav", tmp_path / "m.mp4")
    assert list(tmp_path.iterdir()) == [tmp_path / "multi.wav"]


@pytest.mark.parametrize(
    ("size", "fps"), [((64, 40), 1e9), ((64, 40), 0.0), ((64, 40), float("nan")), ((2, 40), 4.0)]
)
def test_render_refuses_video_settings_the_cli_refuses(
    tmp_path: Path, size: tuple[int, int], fps: float
) -> None:
    """The API takes the same frame rates and sizes as --fps and --size (a billion frames
    per second used to render for ever)."""
    from spa2v.errors import Spa2vError

    make_audio(tmp_path / "clip.wav", 0.5)
    with pytest.raises(Spa2vError, match=r"fps|size"):
        api.render(car_layout(0.5), tmp_path / "clip.wav", tmp_path / "v.mp4", size=size, fps=fps)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.wav"]


def test_one_sample_at_a_rate_aac_cannot_encode_still_renders(tmp_path: Path) -> None:
    """Found by the fuzzing campaign: resampling a single 192 kHz sample gave nothing to
    concatenate (a ValueError traceback)."""
    sf.write(tmp_path / "one.wav", np.full((1, 2), 0.1), 192_000, subtype="DOUBLE")
    out = api.render(car_layout(1.0), tmp_path / "one.wav", tmp_path / "one.mp4", fps=4.0)
    assert len(decode_video(out)[0]) == 1


def test_sprite_narrower_than_a_box_off_the_frame_is_centred_on_that_box() -> None:
    """An orchestra (15 m x 2 m) whose box the frame clips on the left: its emoji can be
    stretched only 1.6x, so it is much narrower than the box extended to the natural
    width. It stands at that box's centre, where its sound comes from; against the
    box's visible edge it sat at 10 deg instead of 32 deg."""
    from spa2v.camera import x_to_azimuth

    box = [0.0, 0.47, 0.472, 0.59]
    layout = still_layout("orchestra", "Orchestra", box)
    x0, _, x1, _ = AnimaticRenderer(layout, size=(512, 320)).drawn_boxes(0.0)[0]
    natural_w = 15.0 / 2.0 * (box[3] - box[1]) * 320 / 512  # normalized width
    centre = box[2] - natural_w / 2
    assert (x0 + x1) / 2 == pytest.approx(centre, abs=2 / 512)
    assert float(x_to_azimuth((x0 + x1) / 2)) == pytest.approx(31.7, abs=1.0)


def test_sprite_of_an_object_mostly_off_the_frame_still_shows_its_visible_part() -> None:
    """A flute (7:1) planned as a sliver in the bottom-left corner: centred on its
    extended box it would be drawn out of view; it covers the sliver instead."""
    box = [0.0, 0.972, 0.032, 1.0]
    layout = still_layout("flute", "Flute", box)
    x0, _, x1, _ = AnimaticRenderer(layout, size=(512, 320)).drawn_boxes(0.0)[0]
    assert x0 == 0.0 and x1 >= 0.025
