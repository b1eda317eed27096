"""Tests of hpsearch.engine."""
