"""Tests of hpsearch.pick."""
