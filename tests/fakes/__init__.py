"""Fake datasets in the official layouts (tiny, written to a tmp folder) for the tests."""
