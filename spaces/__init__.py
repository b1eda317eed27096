"""The search spaces shipped with hpsearch, importable as ``hpsearch.builtin_spaces.<name>``.

Each module here is one model family (see ``hpsearch spaces``). The package exists so that the
installed spaces are found through hpsearch itself, never through a top-level ``spaces``
folder, which an unrelated distribution of that name occupies.
"""
