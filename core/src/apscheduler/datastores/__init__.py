"""Data stores: the memory store is built in; others come from plugins."""
