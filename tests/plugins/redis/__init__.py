"""Tests of the redis plugin."""
