"""What is sounding: an embedded sound-event tagger (YAMNet on onnxruntime, no torch).
See ``docs/tagging.md``. The AudioSet class -> drawable noun table is :mod:`spa2v.nouns`.

- :mod:`.base`: the ``Tagger`` protocol and ``get_tagger``
- :mod:`.tag`: ``tag_cues`` (labels per separated source) and ``tag_audio``
"""
