"""Tests of hpsearch.cli."""
