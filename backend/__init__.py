"""The todo monolith."""

__version__ = "1.0.0"
