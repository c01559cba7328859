"""Batch processing: many recordings through the whole pipeline, on a process pool or a
Ray cluster, resumably (``spa2v batch``); the engines also run ``spa2v bench``.

- :mod:`spa2v.batch.inputs`  files, folders, globs, manifests -> clips with ids
- :mod:`spa2v.batch.engine`  local process pool / Ray Data pipeline over stages
- :mod:`spa2v.batch.clip`    one clip as stages, written atomically into its folder
- :mod:`spa2v.batch.results` the results table (CSV + Parquet)
- :mod:`spa2v.batch.runner`  :func:`run_batch`: all of it, with ``--resume``
"""
