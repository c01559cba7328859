"""Text prompt and per-frame boxes for a text-to-video model, from a VSL.

The prompt is the layout's caption plus its background; each object's name must appear
in it so that its tokens can be steered to the object's box. A name the caption lacks
is appended (", and a dog"). The positions of each object's tokens in the tokenized
prompt (CLIP, 77 tokens with start and end) are what the attention processors steer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from spa2v.errors import LayoutError
from spa2v.planning.vsl import VSL


class Tokenizer(Protocol):
    """What we use of a Hugging Face tokenizer (``CLIPTokenizer``)."""

    model_max_length: int

    def __call__(self, text: str, add_special_tokens: bool = ...) -> Any: ...


@dataclass(frozen=True)
class LayoutPrompt:
    """A prompt and, per VSL object (in ``vsl.objects`` order), its token positions.

    ``token_positions[k]`` are indices into the encoder's output sequence (index 0 is
    the start token), ready to select columns of a cross-attention map.
    """

    text: str
    object_ids: tuple[int, ...]
    token_positions: tuple[tuple[int, ...], ...]


def _content_ids(tokenizer: Tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` without the start/end tokens."""
    return list(tokenizer(text, add_special_tokens=False).input_ids)


def _find_all(haystack: Sequence[int], needle: Sequence[int]) -> list[int]:
    """Start indices of every occurrence of ``needle`` in ``haystack``."""
    n = len(needle)
    return [i for i in range(len(haystack) - n + 1) if list(haystack[i : i + n]) == list(needle)]


def _locate(
    prompt_ids: Sequence[int], name_ids: Sequence[Sequence[int]]
) -> list[tuple[int, ...]] | None:
    """Token positions per name (k-th repeat of a name takes its k-th occurrence).

    Returns None when some name has fewer occurrences than objects that use it.
    """
    used: dict[tuple[int, ...], int] = {}
    positions: list[tuple[int, ...]] = []
    for ids in name_ids:
        key = tuple(ids)
        starts = _find_all(prompt_ids, ids)
        k = used.get(key, 0)
        if k >= len(starts):
            return None
        used[key] = k + 1
        positions.append(tuple(1 + starts[k] + j for j in range(len(ids))))  # +1: start token
    return positions


def _with_missing_names(text: str, tokenizer: Tokenizer, names: Sequence[str]) -> str:
    """``text`` with ", and a NAME" appended for each name it does not contain (yet)."""
    name_ids = [_content_ids(tokenizer, name) for name in names]
    counts: dict[tuple[int, ...], int] = {}
    for ids in name_ids:
        counts[tuple(ids)] = counts.get(tuple(ids), 0) + 1
    missing: list[str] = []
    for name, ids in zip(names, name_ids, strict=True):
        present = len(_find_all(_content_ids(tokenizer, text), ids))
        appended = sum(1 for m in missing if tuple(_content_ids(tokenizer, m)) == tuple(ids))
        if present + appended < counts[tuple(ids)]:
            missing.append(name)
    for name in missing:
        text = f"{text}, and a {name}" if text else f"a {name}"
    return text


def build_prompt(vsl: VSL, tokenizer: Tokenizer) -> LayoutPrompt:
    """The prompt for ``vsl`` and the token positions of each object's name.

    The caption and the background come first; names missing from them are appended.
    When that does not fit in the encoder's window (CLIP: 77 tokens including start and
    end), the background and then the caption's tail are dropped; a layout whose names
    alone do not fit raises LayoutError.

    Raises
    ------
    LayoutError
        Too many objects (or too long names) for the prompt window.
    """
    names = [obj.name.strip() for obj in vsl.objects]
    name_ids = [_content_ids(tokenizer, name) for name in names]
    capacity = tokenizer.model_max_length - 2  # start and end tokens
    caption = vsl.caption.strip().rstrip(".")
    background = vsl.background.strip().rstrip(".")
    candidates = [", ".join(part for part in (caption, background) if part), caption]
    words = caption.split()
    candidates += [" ".join(words[:n]) for n in range(len(words) - 1, -1, -1)]
    for head in candidates:
        text = _with_missing_names(head, tokenizer, names)
        prompt_ids = _content_ids(tokenizer, text)
        if len(prompt_ids) > capacity:
            continue
        positions = _locate(prompt_ids, name_ids)
        if positions is not None:
            return LayoutPrompt(text, tuple(o.id for o in vsl.objects), tuple(positions))
    needed = len(_content_ids(tokenizer, _with_missing_names("", tokenizer, names)))
    raise LayoutError(
        f"layout has too many objects for the prompt: their {len(names)} names need "
        f"{needed} tokens but the text encoder holds {capacity}; "
        "remove objects or shorten their names"
    )


def frame_boxes(vsl: VSL, num_frames: int) -> np.ndarray:
    """Boxes of every object at each of the model's ``num_frames`` frames.

    Frame ``i`` shows time ``i * duration / num_frames`` (the generated clip is stretched
    over the whole layout), boxes interpolated between keyframes by ``VSL.boxes_at``.

    Returns
    -------
    np.ndarray
        ``(num_frames, n_objects, 4)`` float32 ``[x0, y0, x1, y1]`` normalized; NaN
        where the object is out of view in that frame. Objects in ``vsl.objects`` order.
    """
    out = np.full((num_frames, len(vsl.objects), 4), np.nan, dtype=np.float32)
    column = {obj.id: k for k, obj in enumerate(vsl.objects)}
    for i, frame in enumerate(vsl.resample(num_frames)):
        for object_id, box in frame["boxes"].items():
            out[i, column[object_id]] = box
    return out
