"""Tests of hpsearch.output."""
