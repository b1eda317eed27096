"""The store: Optuna's storage plus hpsearch's own tables (all in :mod:`hpsearch.store.schema`),
the connection, epochs, the budget, re-evaluation runs, study tags and read-only queries.
"""
