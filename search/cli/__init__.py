"""The ``hpsearch`` command line: one module per group of commands, thin over the library.

The top layer: :mod:`hpsearch.cli.main` is the group and the one place errors become exit codes.
"""
