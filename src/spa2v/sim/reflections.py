"""Early reflections: image sources of a room or of the ground and a facade outdoors.

The late reverberant tail (:mod:`spa2v.sim.room`) is diffuse: it carries no direction.
Real rooms add discrete early reflections from the walls, floor and ceiling in the
first tens of milliseconds, each arriving from its own direction; they are what pulls a
localiser off the direct sound. They come from pyroomacoustics' image-source model
(Allen & Berkley 1979) of a shoe-box room:

* **indoors** (:func:`indoor_room`): a room of the asked volume (proportions about
  3 : 2.3 : 1, height 3-4 m; larger where a source would be outside it), the listener
  a few metres in front of the back wall and off the room's centre line, the wall
  absorption that gives the asked RT60 (Sabine, ``pyroomacoustics.inverse_sabine``),
  images up to order 3 for a static source and order 1 for a moving one, kept up to
  the mixing time (the late tail takes over from there);
* **outdoors** (:func:`outdoor_site`): the same model with every surface absorbing
  except the ground (asphalt, 5 % absorbed) and one building facade behind the
  listener (20 % absorbed), i.e. the ground reflection and the facade's echo.

Scene coordinates are ``(forward, left, up)`` with the listener's head at
``(0, 0, 1.5)``; the room's ``x`` axis points forward (the listener faces +x).

The image positions of a moving source are computed at a few instants (every
``hop_s``) and interpolated linearly in between: a mirror image of a straight-line
motion is a straight line, so this is exact for a steady source and close for a curved
one. Each image is then rendered like a source of its own (propagation delay, 1/r,
the format's spatialisation), scaled by its walls' reflection coefficients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spa2v.camera import CAMERA_HEIGHT_M
from spa2v.errors import BackendUnavailableError

__all__ = ["ImageSource", "Site", "image_sources", "indoor_room", "outdoor_site"]

_WALLS = ("west", "east", "south", "north", "floor", "ceiling")


@dataclass(frozen=True)
class Site:
    """A shoe-box of ``dims_m`` (x forward, y left, z up) with energy absorption per wall
    (pyroomacoustics' names: west x = 0, east x = L, south y = 0, north y = W, floor,
    ceiling) and the listener's head at ``listener_m`` (room coordinates)."""

    kind: str  # "indoor" or "outdoor"
    dims_m: tuple[float, float, float]
    listener_m: tuple[float, float, float]
    absorption: dict[str, float]

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "dims_m": [round(v, 2) for v in self.dims_m],
            "listener_m": [round(v, 2) for v in self.listener_m],
            "absorption": {k: round(v, 3) for k, v in self.absorption.items()},
        }


def _pyroomacoustics() -> Any:
    """The ``pyroomacoustics`` module (the ``bench`` extra), or a one-line error."""
    try:
        import pyroomacoustics
    except ImportError:
        raise BackendUnavailableError(
            "the simulator's rooms need pyroomacoustics, which is not installed: "
            "pip install 'spa2v[bench]'"
        ) from None
    return pyroomacoustics


def indoor_room(
    volume_m3: float,
    rt60_s: float,
    rng: np.random.Generator,
    extent_m: np.ndarray | None = None,
) -> Site:
    """A room of about ``volume_m3`` with reverberation time ``rt60_s`` (uniform wall
    absorption from Sabine's formula); its proportions and the listener's place are
    drawn from ``rng``. The listener stands 2-3 m in front of the back wall (x = 0), up
    to 1 m off the centre line. ``extent_m`` (scene coordinates of every place a source
    goes, ``(n, 3)``) grows the room so that each is at least 1 m inside it."""
    pra = _pyroomacoustics()

    height = float(rng.uniform(3.0, 4.0))
    width = float(np.sqrt(volume_m3 / height / 1.3))
    length = volume_m3 / height / width
    behind = float(rng.uniform(2.0, 3.0))
    off = float(rng.uniform(-1.0, 1.0))
    if extent_m is not None and len(extent_m):
        p = np.asarray(extent_m, dtype=float)
        behind = max(behind, 1.0 - float(p[:, 0].min()))
        length = max(length, behind + float(p[:, 0].max()) + 1.0)
        width = max(width, 2.0 * (float(np.abs(p[:, 1]).max()) + abs(off) + 1.0))
        height = max(height, float(p[:, 2].max()) + 0.5)
    absorption, _ = pra.inverse_sabine(rt60_s, [length, width, height])
    absorption = float(min(max(absorption, 0.02), 0.99))
    listener = (behind, width / 2 + off, CAMERA_HEIGHT_M)
    return Site("indoor", (length, width, height), listener, dict.fromkeys(_WALLS, absorption))


def outdoor_site(rng: np.random.Generator) -> Site:
    """Open ground with a building facade 4-15 m behind the listener: the ground
    reflects (5 % absorbed) and the facade (20 %); the other surfaces of the
    pyroomacoustics box are fully absorbing, i.e. absent."""
    behind = float(rng.uniform(4.0, 15.0))
    absorption = dict.fromkeys(_WALLS, 1.0)
    absorption["floor"] = 0.05
    absorption["west"] = 0.20
    return Site("outdoor", (600.0, 600.0, 300.0), (behind, 300.0, CAMERA_HEIGHT_M), absorption)


@dataclass
class ImageSource:
    """One reflection: its emitter positions (scene coordinates) as a function of
    emission time, its amplitude factor (product of the walls' reflection
    coefficients) and its order."""

    positions: Callable[[np.ndarray], np.ndarray]
    gain: float
    order: int


def _images_at(site: Site, points_scene: np.ndarray, max_order: int):
    """pyroomacoustics' images of each point: positions ``(n_points, K, 3)`` in scene
    coordinates, damping ``(K,)`` and orders ``(K,)`` (the same list for every point)."""
    pra = _pyroomacoustics()

    materials = {w: pra.Material(float(site.absorption[w])) for w in _WALLS}
    room = pra.ShoeBox(
        list(site.dims_m), fs=16000, materials=materials, max_order=max_order, air_absorption=False
    )
    offset = np.asarray(site.listener_m) - np.array([0.0, 0.0, CAMERA_HEIGHT_M])
    lo, hi = np.full(3, 0.01), np.asarray(site.dims_m) - 0.01
    for p in points_scene:
        room.add_source(list(np.clip(p + offset, lo, hi)))
    room.add_microphone(list(site.listener_m))
    room.image_source_model()
    orders = room.sources[0].orders
    for src in room.sources[1:]:
        if not np.array_equal(src.orders, orders):  # pragma: no cover - pyroomacoustics order
            raise RuntimeError("image lists differ between positions of one source")
    images = np.stack([src.images.T for src in room.sources]) - offset
    damping = np.asarray(room.sources[0].damping)[0]
    return images, damping, np.asarray(orders)


def _fixed_at(point: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """An image source that stays at ``point``: positions ``(len(t), 3)``."""
    return lambda t: np.broadcast_to(point, (np.size(t), 3)).copy()


def _interpolated(times: np.ndarray, track: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """An image source moving along ``track`` (one position per time in ``times``)."""

    def position(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.stack([np.interp(t, times, track[:, j]) for j in range(3)], axis=1)

    return position


def image_sources(
    site: Site,
    emitter: Callable[[np.ndarray], np.ndarray],
    t0_s: float,
    t1_s: float,
    moving: bool,
    hop_s: float = 0.1,
    min_gain: float = 1e-3,
) -> list[ImageSource]:
    """The reflections (order >= 1) of a source whose emitter follows ``emitter``
    between emission times ``t0_s`` and ``t1_s``: order <= 3 when static, <= 1 when
    ``moving``; surfaces with a reflection coefficient below ``min_gain`` give none."""
    max_order = 1 if moving else 3
    times = np.arange(t0_s, t1_s + hop_s, hop_s) if moving else np.array([t0_s])
    points = emitter(times)
    images, damping, orders = _images_at(site, points, max_order)
    out = []
    for k in range(images.shape[1]):
        if orders[k] == 0 or damping[k] < min_gain:
            continue
        track = images[:, k, :]
        pos = _fixed_at(track[0]) if times.size == 1 else _interpolated(times, track)

        out.append(ImageSource(pos, float(damping[k]), int(orders[k])))
    return out
