"""Front ends: the ``spa2v`` command line (``cli``) and the web app (``ui``)."""
