"""Stage 1, planning: heard cues -> a Video Scene Layout (VSL).

Two planners produce a validated :class:`~spa2v.planning.vsl.VSL`:

- ``physics`` (default, offline, deterministic): :func:`spa2v.planning.physics.plan_physics`
- ``llm`` (any OpenAI-compatible chat endpoint, with examples retrieved from the example
  bank; falls back to physics with a warning): :func:`spa2v.planning.llm.plan_llm`

Submodules are imported lazily so that ``import spa2v.planning.vsl`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spa2v.errors import Spa2vError

if TYPE_CHECKING:
    from spa2v.hearing.cues import Cues
    from spa2v.planning.vsl import VSL

PLANNERS = ("physics", "llm")


def plan(
    cues: Cues,
    planner: str = "physics",
    *,
    fps: float | None = 8.0,
    n_frames: int | None = None,
    **options: Any,
) -> VSL:
    """Plan a layout from cues with the named planner.

    Parameters
    ----------
    cues : Cues
        Heard and tagged sources (``spa2v.hearing``).
    planner : {"physics", "llm"}
        Which planner to use.
    fps, n_frames : float or None, int or None
        Keyframes per second, or a fixed number of keyframes (wins when given).
    **options
        Passed to the planner: for ``llm`` ``base_url``, ``model``, ``api_key``,
        ``audio_path``, ``bank``, ``timeout_s``, ``max_attempts``.

    Example
    -------
    >>> vsl = plan(cues, "physics", fps=8.0)  # doctest: +SKIP
    """
    if planner == "physics":
        from spa2v.planning.physics import plan_physics

        if options:
            raise Spa2vError(f"the physics planner takes no options (got {', '.join(options)})")
        return plan_physics(cues, fps=fps, n_frames=n_frames)
    if planner == "llm":
        from spa2v.planning.llm import plan_llm

        return plan_llm(cues, fps=fps, n_frames=n_frames, **options)
    raise Spa2vError(f"unknown planner {planner!r}: use one of {', '.join(PLANNERS)}")


__all__ = ["PLANNERS", "plan"]
