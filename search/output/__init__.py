"""What hpsearch writes for people: exported scripts (with their template), the HTML report,
plots, the live progress display, and the notes optuna-dashboard shows.
"""
