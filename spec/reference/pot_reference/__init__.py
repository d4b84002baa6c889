"""Executable reference of PoT training (docs/protocol/training.md), in Python with NumPy."""
from .stage import Job  # noqa: F401
