"""Reading and writing files: audio in, video out, atomic writes."""

#: Default bound on the input duration: keeps memory bounded (a 10 min 48 kHz stereo
#: file is ~230 MB as float32). Here, not in ``audio``, so the CLI's ``--help`` need not
#: import the decoders.
DEFAULT_MAX_DURATION_S = 600.0
#: The command-line flag that changes the bound (named in the error message).
MAX_DURATION_FLAG = "--max-duration-s"
