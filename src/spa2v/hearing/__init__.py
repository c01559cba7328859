"""Stage 1a: hearing. Turn a :class:`~spa2v.io.signal.Signal` into per-source cue tracks.

``spa2v.hearing.cues`` holds the data model; the estimators live one concept per
module (direction, loudness, pitch/Doppler, source separation), and
``spa2v.hearing.tagging`` says what each source is.
"""
