"""Choosing the trial: the tradeoff of validation metric against gap, the finalists re-evaluated
on other splits and ranked by their mean, and the test split measured once, at the end.
"""
