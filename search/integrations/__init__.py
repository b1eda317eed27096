"""Bridges to other tools: KerasTuner running an hpsearch space, its trials copied into the
store (:mod:`hpsearch.integrations.keras_tuner`).
"""
