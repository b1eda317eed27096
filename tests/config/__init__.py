"""Tests of hpsearch.config."""
