"""Tests of the shipped spaces (spaces/, hpsearch.builtin_spaces)."""
