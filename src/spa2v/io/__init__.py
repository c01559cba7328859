"""Reading and writing files: audio in, video out, atomic writes."""

#: Default bound on the input, in seconds of 48 kHz stereo: memory is bounded by the
#: number of samples, so a 192 kHz or 4-channel file gets proportionally fewer seconds
#: (a 10 min 48 kHz stereo file is ~230 MB as float32; hearing it peaks near 3 GB, see
#: docs/robustness.md). Here, not in ``audio``, so ``--help`` need not import decoders.
DEFAULT_MAX_DURATION_S = 600.0
#: What a second of the limit means: samples per second of 48 kHz stereo.
MEMORY_REFERENCE = "48 kHz stereo"
MEMORY_REFERENCE_SAMPLES_PER_S = 2 * 48_000
#: The command-line flag that changes the bound (named in the error message).
MAX_DURATION_FLAG = "--max-duration-s"
