"""Tests of hpsearch.store."""
