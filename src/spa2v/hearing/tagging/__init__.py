"""What is sounding: an embedded sound-event tagger (YAMNet on onnxruntime, no torch)
and the AudioSet class -> drawable noun table. See ``docs/tagging.md``.

- :mod:`.classes`: ``class_to_noun``, ``noun_info`` (priors for planners and renderers)
- :mod:`.base`: the ``Tagger`` protocol and ``get_tagger``
- :mod:`.tag`: ``tag_cues`` (labels per separated source) and ``tag_audio``
"""
