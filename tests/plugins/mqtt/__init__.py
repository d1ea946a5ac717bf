"""Tests of the mqtt plugin."""
