"""Tests of the bundled plugins, one package per plugin."""
