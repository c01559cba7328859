"""Tests of the VSL model: validation messages, interpolation, I/O and LVD conversion."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from spa2v.camera import azimuth_to_x
from spa2v.errors import LayoutError
from spa2v.planning import vsl as vsl_module
from spa2v.planning.vsl import (
    VSL,
    VSLBox,
    VSLFrame,
    VSLObject,
    from_lvd,
    generate_vsl_json_schema,
    load_vsl,
    motion_from_boxes,
    parse_vsl,
    save_vsl,
    to_lvd,
    vsl_json_schema,
    write_vsl_json_schema,
)


def _layout() -> dict[str, Any]:
    """A car passing right to left, and a dog that enters at t = 2 s."""
    return {
        "schema": "spa2v.vsl/1",
        "duration": 4.0,
        "fps": 0.5,
        "width": 512,
        "height": 320,
        "caption": "a car drives past from right to left",
        "background": "a city street",
        "objects": [
            {"id": 0, "name": "car", "audio_label": "Car", "motion": "right-to-left"},
            {"id": 1, "name": "dog", "audio_label": "Bark", "motion": "static"},
        ],
        "frames": [
            {
                "t": 0.0,
                "caption": "a car enters",
                "boxes": [{"id": 0, "box": [0.8, 0.4, 1.0, 0.6]}],
            },
            {
                "t": 2.0,
                "caption": "the car is centred",
                "boxes": [
                    {"id": 0, "box": [0.4, 0.4, 0.6, 0.6]},
                    {"id": 1, "box": [0.1, 0.5, 0.2, 0.7]},
                ],
            },
            {
                "t": 4.0,
                "caption": "the car leaves",
                "boxes": [{"id": 0, "box": [0.0, 0.4, 0.2, 0.6]}],
            },
        ],
        "reasoning": "louder on the right first, then left",
    }


def test_valid_layout_parses_and_matches_the_published_schema() -> None:
    vsl = parse_vsl(_layout())
    assert vsl.object(1).name == "dog"
    assert vsl.objects[0].motion == "right-to-left"
    # What the model writes validates against the shipped JSON Schema, and parses back.
    jsonschema.validate(vsl.to_dict(), vsl_json_schema())
    assert parse_vsl(vsl.to_json()) == vsl
    assert vsl.to_dict()["schema"] == "spa2v.vsl/1"


def test_object_lookup_of_unknown_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        parse_vsl(_layout()).object(7)


def _set(path: list[str | int], value: Any):
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            _set(["frames", 1, "boxes", 0, "box"], [0.6, 0.4, 0.4, 0.6]),
            "frames[1].boxes[0].box: x0 must be < x1",
        ),
        (
            _set(["frames", 2, "boxes", 0, "box"], [0.1, 0.7, 0.2, 0.6]),
            "frames[2].boxes[0].box: y0 must be < y1",
        ),
        (_set(["frames", 1, "boxes", 1, "box"], [0.1, 0.5, 1.2, 0.7]), "frames[1].boxes[1].box[2]"),
        (_set(["frames", 1, "boxes", 0, "box"], [0.1, 0.5, 0.2]), "frames[1].boxes[0].box"),
        (_set(["frames", 1, "t"], 0.0), "frames[1].t: times must be strictly ascending"),
        (_set(["frames", 2, "t"], 4.5), "frames[2].t: 4.5 s is after the end"),
        (_set(["frames", 0, "t"], -1.0), "frames[0].t"),
        (
            _set(["frames", 1, "boxes", 1, "id"], 5),
            "frames[1].boxes[1].id: object 5 is not declared",
        ),
        (_set(["objects", 1, "id"], 0), "objects[1].id: duplicate object id 0"),
        (_set(["objects", 0, "motion"], "sideways"), "objects[0].motion: 'sideways' is not one of"),
        (_set(["schema"], "spa2v.vsl/2"), "schema: must be 'spa2v.vsl/1'"),
        (_set(["duration"], 0), "duration"),
        (_set(["objects", 0, "name"], ""), "objects[0].name"),
        (_set(["frames"], []), "frames"),
        (lambda d: d.pop("fps"), "fps: missing (required)"),
        (lambda d: d["objects"][0].pop("name"), "objects[0].name: missing (required)"),
        (_set(["colour"], "red"), "unknown field(s)"),
    ],
)
def test_invalid_layout_error_names_field_and_reason(mutate, expected: str) -> None:
    data = copy.deepcopy(_layout())
    mutate(data)
    with pytest.raises(LayoutError) as info:
        parse_vsl(data)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message  # one line, for the CLI


@pytest.mark.parametrize("text", ["", "   ", "{", "[1, 2]", "null"])
def test_non_object_text_is_a_layout_error(text: str) -> None:
    with pytest.raises(LayoutError, match="invalid layout"):
        parse_vsl(text)


def test_python_construction_applies_the_same_rules() -> None:
    with pytest.raises(ValueError, match="x0 must be < x1"):
        VSLBox(id=0, box=(0.5, 0.1, 0.4, 0.2))
    with pytest.raises(ValueError, match="not declared"):
        VSL(duration=1.0, fps=1.0, frames=[VSLFrame(t=0.0, boxes=[VSLBox(id=3, box=(0, 0, 1, 1))])])
    vsl = VSL(
        duration=1.0,
        fps=1.0,
        objects=[VSLObject(id=3, name="piano")],
        frames=[VSLFrame(t=0.0, boxes=[VSLBox(id=3, box=(0.0, 0.0, 1.0, 1.0))])],
    )
    jsonschema.validate(vsl.to_dict(), vsl_json_schema())


def test_boxes_at_interpolates_linearly_and_holds_at_the_ends() -> None:
    vsl = parse_vsl(_layout())
    # Car: x0 goes 0.8 -> 0.4 over 0..2 s, so at 0.5 s it is 0.8 - 0.4 * 0.25 = 0.7.
    np.testing.assert_allclose(vsl.boxes_at(0.5)[0], (0.7, 0.4, 0.9, 0.6))
    np.testing.assert_allclose(vsl.boxes_at(3.0)[0], (0.2, 0.4, 0.4, 0.6))
    np.testing.assert_allclose(vsl.boxes_at(2.0)[0], (0.4, 0.4, 0.6, 0.6))
    np.testing.assert_allclose(vsl.boxes_at(-1.0)[0], (0.8, 0.4, 1.0, 0.6))
    np.testing.assert_allclose(vsl.boxes_at(10.0)[0], (0.0, 0.4, 0.2, 0.6))


def test_object_in_one_neighbouring_keyframe_is_shown_up_to_the_midpoint() -> None:
    vsl = parse_vsl(_layout())
    # The dog is only in the keyframe at 2 s; neighbours are at 0 s and 4 s.
    assert 1 not in vsl.boxes_at(0.9)
    assert vsl.boxes_at(1.0)[1] == (0.1, 0.5, 0.2, 0.7)  # midpoint: the later frame wins
    assert vsl.boxes_at(2.9)[1] == (0.1, 0.5, 0.2, 0.7)
    assert 1 not in vsl.boxes_at(3.0)


def test_resample_gives_evenly_spaced_video_frames() -> None:
    frames = parse_vsl(_layout()).resample(8)
    assert [f["t"] for f in frames] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    np.testing.assert_allclose(frames[1]["boxes"][0], (0.7, 0.4, 0.9, 0.6))
    assert set(frames[4]["boxes"]) == {0, 1}


def test_keyframe_track_lists_only_frames_with_the_object() -> None:
    times, boxes = parse_vsl(_layout()).keyframe_track(1)
    assert times.tolist() == [2.0]
    assert boxes.shape == (1, 4)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    vsl = parse_vsl(_layout())
    path = save_vsl(vsl, tmp_path / "layout.json")
    assert load_vsl(path) == vsl
    assert json.loads(path.read_text())["objects"][1]["audio_label"] == "Bark"
    assert [p.name for p in tmp_path.iterdir()] == ["layout.json"]  # no temp file left


def test_load_errors_are_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="not found"):
        load_vsl(tmp_path / "missing.json")
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(LayoutError, match="empty"):
        load_vsl(tmp_path / "empty.json")
    (tmp_path / "bad.json").write_text("not json at all")
    with pytest.raises(LayoutError, match="not JSON"):
        load_vsl(tmp_path / "bad.json")
    (tmp_path / "invalid.json").write_text(json.dumps({**_layout(), "fps": -1}))
    with pytest.raises(LayoutError, match=r"invalid\.json: invalid layout: fps"):
        load_vsl(tmp_path / "invalid.json")


def test_failed_save_leaves_no_file(tmp_path: Path) -> None:
    from spa2v.errors import OutputError

    blocker = tmp_path / "a-file"  # a missing folder is made; one blocked by a file is not
    blocker.write_text("")
    with pytest.raises(OutputError):
        save_vsl(parse_vsl(_layout()), blocker / "layout.json")
    assert list(tmp_path.iterdir()) == [blocker]


def test_lvd_round_trip_loses_only_pixel_rounding() -> None:
    vsl = parse_vsl(_layout())
    lvd = to_lvd(vsl)
    # LVD boxes are [x, y, w, h] in integer pixels on a 512x512 canvas.
    assert lvd["frames"][0] == [{"id": 0, "name": "car", "box": [410, 205, 102, 102]}]
    back = from_lvd(lvd, duration=4.0)
    assert [f.t for f in back.frames] == [0.0, 2.0, 4.0]
    assert [(o.id, o.name, o.motion, o.audio_label) for o in back.objects] == [
        (0, "car", "right-to-left", "Car"),
        (1, "dog", "static", "Bark"),
    ]
    for a, b in zip(vsl.frames, back.frames, strict=True):
        assert [x.id for x in a.boxes] == [x.id for x in b.boxes]
        for ba, bb in zip(a.boxes, b.boxes, strict=True):
            np.testing.assert_allclose(ba.box, bb.box, atol=1.0 / 512)


def test_from_bare_lvd_frames_spreads_times_and_infers_motion() -> None:
    frames = [
        [{"id": 0, "name": "car", "box": [0, 200, 100, 60]}],
        [{"id": 0, "name": "car", "box": [200, 200, 100, 60]}],
        [{"id": 0, "name": "car", "box": [450, 200, 100, 60]}],  # runs off the canvas
    ]
    vsl = from_lvd(frames, duration=3.0)
    assert [f.t for f in vsl.frames] == [0.0, 1.5, 3.0]
    assert vsl.objects[0].motion == "left-to-right"
    assert vsl.frames[2].boxes[0].box[2] == 1.0  # clipped to the canvas
    with pytest.raises(LayoutError, match="frames\\[0\\]\\[0\\]"):
        from_lvd([[{"id": 0, "name": "car"}]], duration=1.0)


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([[0.1, 0.4, 0.2, 0.5], [0.5, 0.4, 0.6, 0.5]], "left-to-right"),
        ([[0.5, 0.4, 0.6, 0.5], [0.1, 0.4, 0.2, 0.5]], "right-to-left"),
        ([[0.45, 0.45, 0.55, 0.5], [0.4, 0.4, 0.6, 0.6]], "approaching"),
        ([[0.4, 0.4, 0.6, 0.6], [0.45, 0.45, 0.55, 0.5]], "receding"),
        ([[0.4, 0.4, 0.6, 0.6], [0.42, 0.4, 0.62, 0.6]], "static"),
    ],
)
def test_motion_from_boxes(boxes: list[list[float]], expected: str) -> None:
    assert motion_from_boxes(np.array(boxes)) == expected


def _boxes(centre_x: np.ndarray, height: np.ndarray) -> np.ndarray:
    return np.stack([centre_x - 0.05, 0.5 - height, centre_x + 0.05, 0.5 + 0 * height], axis=1)


def test_motion_from_boxes_follows_the_one_motion_rule() -> None:
    """A crossing is 15 deg of azimuth, a change of depth 3 dB (1.41 x the height), read
    from the first and last quarter of the boxes; each part can be left out."""
    x_for = lambda az: float(azimuth_to_x(az))  # noqa: E731
    still = np.full(8, 0.2)
    just_below = np.linspace(x_for(0.0), x_for(-14.0), 8)  # quarters: less than 14 deg
    beyond = np.linspace(x_for(10.0), x_for(-10.0), 8)  # quarters: about 16 deg
    assert motion_from_boxes(_boxes(just_below, still)) == "static"
    assert motion_from_boxes(_boxes(beyond, still)) == "left-to-right"
    assert motion_from_boxes(_boxes(beyond[::-1], still)) == "right-to-left"
    centre = np.full(8, 0.5)
    assert motion_from_boxes(_boxes(centre, np.linspace(0.1, 0.13, 8))) == "static"
    assert motion_from_boxes(_boxes(centre, np.linspace(0.1, 0.18, 8))) == "approaching"
    assert motion_from_boxes(_boxes(centre, np.linspace(0.18, 0.1, 8))) == "receding"
    both = _boxes(beyond, np.linspace(0.1, 0.2, 8))
    assert motion_from_boxes(both) == "left-to-right"
    assert motion_from_boxes(both, lateral=False) == "approaching"
    assert motion_from_boxes(both, depth=False) == "left-to-right"


def test_boxes_at_does_not_walk_every_keyframe_per_call() -> None:
    """Rendering asks for boxes once per video frame: a long layout must not cost a pass
    over all its keyframes each time."""

    class CountingList(list):
        walks = 0

        def __iter__(self):
            CountingList.walks += 1
            return super().__iter__()

    frames = [{"t": i / 8, "boxes": [{"id": 0, "box": [0.1, 0.4, 0.3, 0.6]}]} for i in range(2000)]
    data = {**_layout(), "duration": 250.0, "fps": 8.0, "frames": frames}
    data["objects"] = data["objects"][:1]
    vsl = parse_vsl(data)
    vsl.__dict__["frames"] = CountingList(vsl.frames)
    for i in range(300):
        assert vsl.boxes_at(i * 0.8)[0] == (0.1, 0.4, 0.3, 0.6)
    assert CountingList.walks <= 2


def test_shipped_schema_is_the_one_generated_from_the_model(tmp_path: Path) -> None:
    """vsl.schema.json is written from the pydantic model, never by hand: regenerate it
    with ``write_vsl_json_schema()`` after changing the model."""
    shipped = Path(vsl_module.__file__).with_name("vsl.schema.json").read_text(encoding="utf-8")
    generated = write_vsl_json_schema(tmp_path / "vsl.schema.json").read_text(encoding="utf-8")
    assert shipped == generated
    assert vsl_json_schema() == generate_vsl_json_schema()
    # the model and the schema agree on what may be left out (motion defaults to static)
    assert "motion" not in vsl_json_schema()["$defs"]["VSLObject"]["required"]
