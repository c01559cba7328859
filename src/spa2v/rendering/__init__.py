#: Default video size (width, height) and frame rate; here so that the CLI's ``--help``
#: need not import the renderer.
DEFAULT_SIZE = (512, 320)
DEFAULT_FPS = 24.0

#: The frame rates and frame sides (pixels, even for H.264 yuv420p) a video may have.
FPS_RANGE = (1.0, 120.0)
SIDE_RANGE = (16, 4096)


def check_video_settings(size: tuple[int, int], fps: float) -> None:
    """Refuse a frame size or rate outside what ``--size`` and ``--fps`` accept.

    >>> check_video_settings((512, 320), 24.0)
    """
    import numbers

    from spa2v.errors import Spa2vError

    if not (isinstance(fps, numbers.Real) and FPS_RANGE[0] <= fps <= FPS_RANGE[1]):
        raise Spa2vError(f"fps {fps} is outside {FPS_RANGE[0]:g}-{FPS_RANGE[1]:g}")
    if len(size) != 2 or not all(
        isinstance(v, numbers.Integral) and SIDE_RANGE[0] <= v <= SIDE_RANGE[1] and v % 2 == 0
        for v in size
    ):
        raise Spa2vError(
            f"video size {size}: width and height must be even numbers from "
            f"{SIDE_RANGE[0]} to {SIDE_RANGE[1]}"
        )
