"""The benchmark driver's building blocks (environments, cases, running, reporting)."""
