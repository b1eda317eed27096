"""Tests of hpsearch.integrations."""
