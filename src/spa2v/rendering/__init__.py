#: Default video size (width, height) and frame rate; here so that the CLI's ``--help``
#: need not import the renderer.
DEFAULT_SIZE = (512, 320)
DEFAULT_FPS = 24.0
