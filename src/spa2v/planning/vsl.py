"""The Video Scene Layout (VSL, ``spa2v.vsl/1``): the plan that stage 2 renders.

A VSL lists the sounding objects and, per keyframe, one normalized box
``[x0, y0, x1, y1]`` (origin top-left, x right, y down) per object in view, plus a
global caption, a background and per-keyframe captions (``docs/design.md``).

Validation happens in two layers:

1. the JSON Schema shipped beside this module (``vsl.schema.json``) checks the shape
   of anything read from disk or from a model (types, ranges, required fields);
2. the pydantic model checks the rules a JSON Schema cannot express: ``x0 < x1``,
   ``y0 < y1``, keyframe times ascending within ``[0, duration]``, unique object ids,
   and box ids that refer to declared objects.

A layout built by spa2v's own planner goes through the model alone
(:func:`validate_vsl`): the schema is generated from the model, so it would check the
same rules again.

Every failure becomes a :class:`~spa2v.errors.LayoutError` whose one-line message names
the field path and the reason, e.g. ``frames[2].boxes[0].box: x0 must be < x1``.

Example
-------
>>> vsl = parse_vsl({
...     "schema": "spa2v.vsl/1", "duration": 2.0, "fps": 1.0,
...     "objects": [{"id": 0, "name": "car", "motion": "right-to-left"}],
...     "frames": [{"t": 0.0, "boxes": [{"id": 0, "box": [0.8, 0.4, 1.0, 0.6]}]},
...                {"t": 2.0, "boxes": [{"id": 0, "box": [0.0, 0.4, 0.2, 0.6]}]}]})
>>> [round(v, 2) for v in vsl.boxes_at(1.0)[0]]
[0.4, 0.4, 0.6, 0.6]
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from spa2v.camera import x_to_azimuth
from spa2v.errors import LayoutError
from spa2v.hearing.motion import classify_motion
from spa2v.io.atomic import write_text_atomic

if TYPE_CHECKING:  # imported where a layout from outside is checked, not to plan one
    import jsonschema

SCHEMA_ID = "spa2v.vsl/1"
SCHEMA_FILE = "vsl.schema.json"

Motion = Literal["static", "left-to-right", "right-to-left", "approaching", "receding", "other"]
MOTIONS: tuple[str, ...] = (
    "static",
    "left-to-right",
    "right-to-left",
    "approaching",
    "receding",
    "other",
)
Box = tuple[float, float, float, float]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]

#: LVD (Lian et al., "LLM-grounded Video Diffusion Models", ICLR 2024) lays boxes out as
#: ``[x, y, w, h]`` in pixels on a square 512x512 canvas.
LVD_CANVAS_PX = 512

# Tolerance on keyframe times, so that ``t = duration`` computed in floating point passes.
_T_EPS_S = 1e-9


class VSLObject(BaseModel):
    """One sounding object: ``name`` is a drawable noun, ``audio_label`` what was heard."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[int, Field(ge=0)]
    name: Annotated[str, Field(min_length=1)]
    audio_label: str = ""
    motion: Motion = "static"


class VSLBox(BaseModel):
    """The box of object ``id`` in one keyframe."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[int, Field(ge=0)]
    box: tuple[Unit, Unit, Unit, Unit]

    @field_validator("box")
    @classmethod
    def _ordered_corners(cls, box: tuple[float, float, float, float]) -> Box:
        x0, y0, x1, y1 = box
        if not x0 < x1:
            raise ValueError("x0 must be < x1")
        if not y0 < y1:
            raise ValueError("y0 must be < y1")
        return box


class VSLFrame(BaseModel):
    """A keyframe at time ``t`` (seconds); objects out of view are simply not listed."""

    model_config = ConfigDict(extra="forbid")

    t: Annotated[float, Field(ge=0.0)]
    caption: str = ""
    boxes: list[VSLBox] = Field(default_factory=list)


class VSL(BaseModel):
    """A validated Video Scene Layout (``spa2v.vsl/1``).

    Construct it directly (planners) or with :func:`parse_vsl` / :func:`load_vsl`
    (anything from disk or a model, which also goes through the JSON Schema).
    """

    schema_: Literal["spa2v.vsl/1"] = Field(default="spa2v.vsl/1", alias="schema")
    duration: Annotated[float, Field(gt=0.0)]
    fps: Annotated[float, Field(gt=0.0)]
    width: Annotated[int, Field(ge=1)] = 512
    height: Annotated[int, Field(ge=1)] = 320
    caption: str = ""
    background: str = ""
    objects: list[VSLObject] = Field(default_factory=list)
    frames: Annotated[list[VSLFrame], Field(min_length=1)]
    reasoning: str = ""
    #: Keyframe times, kept between calls of :meth:`boxes_at` (once per video frame):
    #: (id of the frames list, its length, the times).
    _times_cache: tuple[int, int, list[float]] | None = PrivateAttr(default=None)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _cross_field_rules(self) -> VSL:
        problem = _cross_field_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    # -- lookup -----------------------------------------------------------------------

    def object(self, object_id: int) -> VSLObject:
        """The declared object with this id (``KeyError`` if there is none)."""
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id} in this layout")

    @property
    def times_s(self) -> np.ndarray:
        """Keyframe times in seconds, shape ``(n_frames,)``."""
        return np.array([f.t for f in self.frames], dtype=float)

    def _keyframe_times(self) -> list[float]:
        """Keyframe times as a list, rebuilt only when ``frames`` is replaced or resized."""
        key = (id(self.frames), len(self.frames))
        if self._times_cache is None or self._times_cache[:2] != key:
            self._times_cache = (*key, [f.t for f in self.frames])
        return self._times_cache[2]

    def keyframe_track(self, object_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Keyframe times ``(K,)`` and boxes ``(K, 4)`` where ``object_id`` is listed."""
        times, boxes = [], []
        for frame in self.frames:
            for b in frame.boxes:
                if b.id == object_id:
                    times.append(frame.t)
                    boxes.append(b.box)
        return np.array(times, dtype=float), np.array(boxes, dtype=float).reshape(-1, 4)

    # -- interpolation ----------------------------------------------------------------

    def boxes_at(self, t: float) -> dict[int, Box]:
        """Boxes at time ``t`` (seconds), interpolated linearly between keyframes.

        Before the first keyframe the first one holds, after the last the last one.
        An object listed in only one of the two neighbouring keyframes (it enters or
        leaves the view) is shown with that keyframe's box up to the midpoint between
        them and absent after it: the nearest keyframe decides presence, so nothing
        pops in a whole keyframe early or lingers a whole keyframe late.
        """
        times = self._keyframe_times()
        if t <= times[0]:
            return _frame_boxes(self.frames[0])
        if t >= times[-1]:
            return _frame_boxes(self.frames[-1])
        i = bisect.bisect_right(times, t) - 1  # times[i] <= t < times[i + 1]
        a, b = _frame_boxes(self.frames[i]), _frame_boxes(self.frames[i + 1])
        w = (t - times[i]) / (times[i + 1] - times[i])
        out: dict[int, Box] = {}
        for object_id in sorted(set(a) | set(b)):
            if object_id in a and object_id in b:
                out[object_id] = tuple(  # type: ignore[assignment]
                    (1.0 - w) * pa + w * pb
                    for pa, pb in zip(a[object_id], b[object_id], strict=True)
                )
            elif object_id in a and w < 0.5:
                out[object_id] = a[object_id]
            elif object_id in b and w >= 0.5:
                out[object_id] = b[object_id]
        return out

    def resample(self, n_frames: int) -> list[dict[str, Any]]:
        """Boxes for ``n_frames`` video frames spread evenly over the clip.

        Frame ``i`` is at ``t = i * duration / n_frames`` (the start time of video frame
        ``i`` at ``n_frames / duration`` fps). Returns ``[{"t": t, "boxes": {id: box}}]``.

        >>> vsl = VSL(duration=1.0, fps=1.0, frames=[VSLFrame(t=0.0)])
        >>> [f["t"] for f in vsl.resample(4)]
        [0.0, 0.25, 0.5, 0.75]
        """
        if n_frames < 1:
            raise ValueError("n_frames must be >= 1")
        step_s = self.duration / n_frames
        return [{"t": i * step_s, "boxes": self.boxes_at(i * step_s)} for i in range(n_frames)]

    # -- serialization ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the published field order (boxes as lists)."""
        data = self.model_dump(by_alias=True, mode="json")
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _frame_boxes(frame: VSLFrame) -> dict[int, Box]:
    return {b.id: tuple(b.box) for b in frame.boxes}  # type: ignore[misc]


def _cross_field_problem(vsl: VSL) -> str | None:
    """The first rule the JSON Schema cannot express that ``vsl`` breaks, or None."""
    declared: set[int] = set()
    for i, obj in enumerate(vsl.objects):
        if obj.id in declared:
            return f"objects[{i}].id: duplicate object id {obj.id}"
        declared.add(obj.id)
    previous_t = -math.inf
    for i, frame in enumerate(vsl.frames):
        if frame.t > vsl.duration + _T_EPS_S:
            return f"frames[{i}].t: {frame.t:g} s is after the end (duration {vsl.duration:g} s)"
        if frame.t <= previous_t:
            return (
                f"frames[{i}].t: times must be strictly ascending ({frame.t:g} <= {previous_t:g})"
            )
        previous_t = frame.t
        seen: set[int] = set()
        for j, box in enumerate(frame.boxes):
            if box.id not in declared:
                return f"frames[{i}].boxes[{j}].id: object {box.id} is not declared in objects"
            if box.id in seen:
                return f"frames[{i}].boxes[{j}].id: object {box.id} appears twice in this frame"
            seen.add(box.id)
    return None


# -- validation of untrusted data -------------------------------------------------------


#: The schema's identifier (a name, not a place to fetch it from).
SCHEMA_URI = "https://spa2v.invalid/schemas/spa2v.vsl-1.json"


def generate_vsl_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``spa2v.vsl/1``, generated from the pydantic model: the one
    definition of the format (``vsl.schema.json`` is this, written out by
    :func:`write_vsl_json_schema`; a test checks that the two agree)."""
    schema = VSL.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URI,
        **schema,
        "title": f"spa2v Video Scene Layout ({SCHEMA_ID})",
        "description": (
            "Per keyframe, one normalized box [x0, y0, x1, y1] (origin top-left) per "
            "sounding object, plus captions. Generated from spa2v.planning.vsl.VSL; the "
            "cross-field rules (x0 < x1, y0 < y1, ascending t within [0, duration], box "
            "ids declared, unique ids) are checked by spa2v.planning.vsl after this schema."
        ),
    }


def _schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_vsl_json_schema(path: str | os.PathLike[str] | None = None) -> Path:
    """Write the generated schema (by default over the shipped ``vsl.schema.json``).

    Run after changing the model: ``python -c "from spa2v.planning.vsl import
    write_vsl_json_schema; write_vsl_json_schema()"`` in a checkout.
    """
    target = Path(path) if path is not None else Path(__file__).with_name(SCHEMA_FILE)
    return write_text_atomic(target, _schema_text(generate_vsl_json_schema()))


@functools.cache
def vsl_json_schema() -> dict[str, Any]:
    """The published JSON Schema of ``spa2v.vsl/1`` (shipped as ``vsl.schema.json``)."""
    text = resources.files("spa2v.planning").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    schema = vsl_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _format_path(parts: Iterable[str | int]) -> str:
    """``("frames", 2, "boxes", 0, "box")`` -> ``"frames[2].boxes[0].box"``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _schema_error_message(error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{_format_path([*path, missing])}: missing (required)"
    if error.validator == "additionalProperties":
        message = error.message.replace("Additional properties", "unknown field(s)")
        return f"{_format_path(path)}: {message}"
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{_format_path(path)}: {error.instance!r} is not one of {allowed}"
    if error.validator == "const":
        return f"{_format_path(path)}: must be {error.validator_value!r}, got {error.instance!r}"
    return f"{_format_path(path)}: {error.message}"


def _pydantic_error_message(error: ValidationError) -> str:
    first = error.errors()[0]
    reason = str(first.get("ctx", {}).get("error", "")) or first["msg"]
    loc = [("schema" if part == "schema_" else part) for part in first["loc"]]
    if not loc and ": " in reason:
        return reason  # cross-field rules already name their path
    return f"{_format_path(loc)}: {reason}"


def parse_vsl(data: dict[str, Any] | str | bytes) -> VSL:
    """Validate a VSL given as a dict or JSON text; raise LayoutError naming the field.

    >>> parse_vsl('{"schema": "spa2v.vsl/1", "duration": 1, "fps": 1, "objects": [],'
    ...           ' "frames": [{"t": 2, "boxes": []}]}')
    Traceback (most recent call last):
    ...
    spa2v.errors.LayoutError: invalid layout: frames[0].t: 2 s is after the end (duration 1 s)
    """
    if isinstance(data, bytes | str):
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        if not text.strip():
            raise LayoutError("invalid layout: empty text, expected a spa2v.vsl/1 JSON object")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LayoutError(
                f"invalid layout: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from None
    if not isinstance(data, dict):
        raise LayoutError(f"invalid layout: expected a JSON object, got {type(data).__name__}")
    import jsonschema

    error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(data))
    if error is not None:
        raise LayoutError(f"invalid layout: {_schema_error_message(error)}")
    return validate_vsl(data)


def validate_vsl(data: dict[str, Any]) -> VSL:
    """A layout that spa2v's own code built as a dict, checked by the pydantic model.

    The model holds every rule of the format (the JSON Schema is generated from it), so
    for a dict of Python values it checks all that :func:`parse_vsl` checks; the schema
    pass of :func:`parse_vsl` adds JSON's strict types and its wording of errors, which
    matter for text from outside (a file, a language model), not for a planner's own
    output. Skipping it spares a cold ``spa2v plan`` importing jsonschema and building
    the schema's validator.

    >>> validate_vsl({"duration": 1.0, "fps": 1.0, "frames": [{"t": 2.0}]})
    Traceback (most recent call last):
    ...
    spa2v.errors.LayoutError: invalid layout: frames[0].t: 2 s is after the end (duration 1 s)
    """
    try:
        return VSL.model_validate(data)
    except ValidationError as exc:
        raise LayoutError(f"invalid layout: {_pydantic_error_message(exc)}") from None


def load_vsl(path: str | os.PathLike[str]) -> VSL:
    """Read and validate a VSL JSON file (missing, empty or invalid -> LayoutError)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LayoutError(f"layout file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"cannot read layout file {path}: {exc}") from None
    if not text.strip():
        raise LayoutError(f"layout file is empty: {path} (write a spa2v.vsl/1 JSON object)")
    try:
        return parse_vsl(text)
    except LayoutError as exc:
        raise LayoutError(f"{path}: {exc}") from None


def save_vsl(vsl: VSL, path: str | os.PathLike[str]) -> Path:
    """Write ``vsl`` as indented JSON, atomically; returns the path."""
    return write_text_atomic(path, vsl.to_json(indent=2) + "\n")


# -- motion from boxes ------------------------------------------------------------------


def motion_from_boxes(boxes: np.ndarray, *, lateral: bool = True, depth: bool = True) -> str:
    """The motion a box trajectory ``(K, 4)`` shows: one of :data:`MOTIONS` but "other".

    The box centre's horizontal shift, read as azimuth through the camera model, and
    the change of its height, read as distance (under the pinhole camera height is
    inversely proportional to depth; height, not width, because a box clipped at the
    frame edge keeps its height), go to the package's one motion rule
    (:func:`spa2v.hearing.motion.classify_motion`). Early and late values are the means
    of the first and last quarter of the boxes, so that one jittery keyframe does not
    flip a trend. ``lateral=False`` / ``depth=False`` leave that change out.

    >>> motion_from_boxes(np.array([[0.8, 0.4, 0.9, 0.5], [0.1, 0.4, 0.2, 0.5]]))
    'right-to-left'
    >>> motion_from_boxes(np.array([[0.45, 0.45, 0.55, 0.5], [0.4, 0.4, 0.6, 0.6]]))
    'approaching'
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if len(boxes) < 2:
        return "static"
    k = max(1, len(boxes) // 4)
    early, late = boxes[:k].mean(axis=0), boxes[-k:].mean(axis=0)
    azimuth_change_deg = 0.0
    if lateral:
        x_early, x_late = (early[0] + early[2]) / 2, (late[0] + late[2]) / 2
        azimuth_change_deg = float(x_to_azimuth(x_late) - x_to_azimuth(x_early))
    nearer_db = 0.0
    if depth:
        height_early, height_late = early[3] - early[1], late[3] - late[1]
        nearer_db = 20.0 * math.log10(max(height_late, 1e-9) / max(height_early, 1e-9))
    return classify_motion(azimuth_change_deg, nearer_db)


# -- LVD layout format ------------------------------------------------------------------


def to_lvd(vsl: VSL, canvas_px: int = LVD_CANVAS_PX) -> dict[str, Any]:
    """Convert to LVD's layout format: per frame ``{id, name, box: [x, y, w, h]}``.

    LVD (Lian et al., ICLR 2024) writes integer pixel boxes on a square 512x512 canvas;
    our normalized coordinates are scaled to it directly (the 16:10 frame is stretched
    to the square, as LVD's generator does). Keyframe times are kept under
    ``"times_s"`` (LVD itself has none: its frames are evenly spaced).

    Returns ``{"frames": [[{id, name, box}, ...], ...], "times_s": [...], "duration":
    ..., "caption": ..., "background": ..., "reasoning": ...}``.
    """
    names = {obj.id: obj.name for obj in vsl.objects}
    frames = []
    for frame in vsl.frames:
        entries = []
        for b in frame.boxes:
            x0, y0, x1, y1 = (round(v * canvas_px) for v in b.box)
            entries.append({"id": b.id, "name": names[b.id], "box": [x0, y0, x1 - x0, y1 - y0]})
        frames.append(entries)
    return {
        "frames": frames,
        "times_s": [frame.t for frame in vsl.frames],
        "duration": vsl.duration,
        "fps": vsl.fps,
        "caption": vsl.caption,
        "background": vsl.background,
        "reasoning": vsl.reasoning,
        # Not part of LVD: kept so that a round trip loses only the pixel rounding.
        "objects": [obj.model_dump() for obj in vsl.objects],
    }


def from_lvd(
    data: Mapping[str, Any] | Sequence[Sequence[Mapping[str, Any]]],
    duration: float,
    canvas_px: int = LVD_CANVAS_PX,
    caption: str = "",
    background: str = "",
    audio_labels: Mapping[int, str] | None = None,
) -> VSL:
    """Build a VSL from LVD's layout format (see :func:`to_lvd`).

    ``data`` is either the dict :func:`to_lvd` writes or a bare list of frames (each a
    list of ``{id, name, box: [x, y, w, h]}``). Without ``"times_s"`` the frames are
    spread evenly over ``[0, duration]``, first at 0 and last at ``duration``. Boxes
    are clipped to the canvas. Objects keep ``motion``/``audio_label`` from an
    ``"objects"`` list when there is one (:func:`to_lvd` writes it); otherwise
    ``motion`` is inferred from the boxes with :func:`motion_from_boxes`. Bad input
    raises LayoutError.
    """
    if isinstance(data, Mapping):
        frames_in = data.get("frames")
        times = data.get("times_s")
        caption = caption or str(data.get("caption", ""))
        background = background or str(data.get("background", ""))
        reasoning = str(data.get("reasoning", ""))
        fps = data.get("fps")
        declared = {int(o["id"]): o for o in data.get("objects", []) if "id" in o}
    else:
        frames_in, times, reasoning, fps, declared = data, None, "", None, {}
    if not isinstance(frames_in, Sequence) or not frames_in:
        raise LayoutError("invalid LVD layout: frames must be a non-empty list")
    n = len(frames_in)
    if times is None:
        times = [duration * i / (n - 1) if n > 1 else 0.0 for i in range(n)]
    if len(times) != n:
        raise LayoutError(f"invalid LVD layout: {len(times)} times for {n} frames")

    names: dict[int, str] = {}
    frames: list[dict[str, Any]] = []
    for i, (t, entries) in enumerate(zip(times, frames_in, strict=True)):
        boxes = []
        for j, entry in enumerate(entries):
            try:
                object_id = int(entry["id"])
                x, y, w, h = (float(v) / canvas_px for v in entry["box"])
                names.setdefault(object_id, str(entry.get("name", "object")))
            except (KeyError, TypeError, ValueError):
                raise LayoutError(
                    f"invalid LVD layout: frames[{i}][{j}] needs id, name and box [x, y, w, h]"
                ) from None
            clipped = [min(1.0, max(0.0, v)) for v in (x, y, x + w, y + h)]
            boxes.append({"id": object_id, "box": clipped})
        frames.append({"t": float(t), "boxes": boxes})

    labels = audio_labels or {}
    vsl_dict: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "duration": float(duration),
        "fps": fps or ((n - 1) / duration if n > 1 and duration > 0 else 1.0),
        "caption": caption,
        "background": background,
        "objects": [
            {
                "id": object_id,
                "name": name,
                "audio_label": labels.get(object_id, ""),
                "motion": "static",
            }
            for object_id, name in sorted(names.items())
        ],
        "frames": frames,
        "reasoning": reasoning,
    }
    vsl = parse_vsl(vsl_dict)
    for obj in vsl.objects:
        if obj.id in declared:  # written by to_lvd: keep what the original layout said
            obj.audio_label = str(declared[obj.id].get("audio_label", obj.audio_label))
            obj.motion = declared[obj.id].get("motion", "static")
        else:
            obj.motion = motion_from_boxes(vsl.keyframe_track(obj.id)[1])  # type: ignore[assignment]
    return parse_vsl(vsl.to_dict())  # re-validate after the edits
