"""Tests of hpsearch.data."""
