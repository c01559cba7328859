"""The MIT KEMAR head-related impulse responses shipped with spa2v.

One loader of head-related data for the estimator's binaural table
(:mod:`spa2v.hearing.hrtf`) and the simulator's binaural renderer (:mod:`spa2v.sim`).
The HRIRs (Gardner & Martin, MIT Media Lab, 1994; provenance and terms in
``spa2v/data/kemar/README.md``) are a 0.9 MB ``.npz`` of the original 16-bit samples inside
the package, pinned by sha256 and verified when first loaded. Reading them needs numpy
only: no audio-playback library (the ``slab`` package the set used to come from imports
``sounddevice``, which fails without the PortAudio system library).
``scripts/make_kemar_data.py`` regenerates the file byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from spa2v.errors import BackendUnavailableError
from spa2v.io.checksum import verified

# spa2v is a regular (non-zipped) package, so its resource folder is a real path.
KEMAR_FILE = Path(str(resources.files("spa2v").joinpath("data", "kemar", "mit_kemar_hrir.npz")))
KEMAR_SHA256 = "286cbd695c4c3f80d3ac56799fa97458d8eda67d80de664c725195fe86272aa3"


@dataclass(frozen=True)
class MeasuredHrirs:
    """Measured head-related impulse responses of one head.

    Attributes
    ----------
    az_deg : np.ndarray
        ``(n_dirs,)`` azimuth of each measured direction, 0..360 deg, +90 = LEFT.
    el_deg : np.ndarray
        ``(n_dirs,)`` elevation, deg (+90 = above).
    hrirs : np.ndarray
        ``(n_dirs, 2, taps)`` float64 impulse responses; ear 0 = left, 1 = right.
    sample_rate_hz : int
        Sample rate of the impulse responses.
    """

    az_deg: np.ndarray
    el_deg: np.ndarray
    hrirs: np.ndarray
    sample_rate_hz: int


def load_kemar(path: Path | None = None, sha256: str = KEMAR_SHA256) -> MeasuredHrirs:
    """The MIT KEMAR set (normal pinna): 710 directions, elevation -40..+90 deg, 512 taps,
    44.1 kHz, unequalised (as measured, with the loudspeaker's response).

    ``path`` reads another copy of the file (verified against ``sha256`` all the same);
    the shipped one is read once per process.

    Raises
    ------
    BackendUnavailableError
        The file is missing, or its checksum is not the pinned one (one line, naming it).
    """
    if path is None:
        return _shipped_kemar()
    z = np.load(verified(Path(path), sha256, "KEMAR HRIR file"))
    try:
        hrirs = z["hrir_counts"].astype(np.float64) / float(z["full_scale"])
        return MeasuredHrirs(z["az_deg"], z["el_deg"], hrirs, int(z["sample_rate_hz"]))
    except (KeyError, ValueError) as exc:  # only if someone pins a file of another layout
        raise BackendUnavailableError(f"KEMAR HRIR file {path} is malformed: {exc}") from None


@cache
def _shipped_kemar() -> MeasuredHrirs:
    return load_kemar(KEMAR_FILE)
