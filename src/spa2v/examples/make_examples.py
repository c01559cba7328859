"""Remake the bundled example recordings with the simulator.

Run from a checkout (needs Debian's ``openttd-opensfx``, ``fluidsynth`` and
``fluid-soundfont-gm``)::

    python -m spa2v.examples.make_examples            # rewrite every example
    python -m spa2v.examples.make_examples --out DIR  # write them elsewhere
    python -m spa2v.examples.make_examples --only car-right-to-left

The shipped car example was last made on 2026-11-26 with the simulator of that day;
the instruments example earlier the same day, before the soundfont renders changed
(remaking it today gives a piano the tagger hears as a harmonica).

The files are 16-bit FLAC at 22.05 kHz so that both together stay under 1 MB.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from spa2v.examples import EXAMPLE_SR, EXAMPLES, Example, example_path
from spa2v.io.atomic import atomic_path


def simulate_example(example: Example) -> tuple[np.ndarray, int]:
    """Samples ``(channels, n)`` and rate of one example, from its ``sim`` recipe."""
    from spa2v.sim.scene import simulate_pass, simulate_sources

    recipe: dict[str, Any] = dict(example.sim)
    kind = recipe.pop("kind")
    if kind == "pass":
        result = simulate_pass(format=example.layout, sr=EXAMPLE_SR, **recipe)
    elif kind == "static":
        sources = [(az, dist, clip) for clip, az, dist in recipe.pop("sources")]
        result = simulate_sources(sources, format=example.layout, sr=EXAMPLE_SR, **recipe)
    else:
        raise ValueError(f"unknown example kind {kind!r}")
    return result.signal.samples, result.signal.sr


def write_flac(samples: np.ndarray, sr: int, path: Path) -> Path:
    """Write ``(channels, n)`` float samples as 16-bit FLAC, atomically."""
    with atomic_path(path) as tmp:
        sf.write(tmp, samples.T, sr, subtype="PCM_16", format="FLAC")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder (default: the package's own)")
    parser.add_argument("--only", metavar="NAME", help="remake only this example")
    args = parser.parse_args(argv)
    for example in EXAMPLES:
        if args.only and example.name != args.only:
            continue
        target = args.out / example.file if args.out else example_path(example)
        samples, sr = simulate_example(example)
        write_flac(samples, sr, target)
        target.chmod(0o644)  # package data: readable by all (temp files start as 0600)
        print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
