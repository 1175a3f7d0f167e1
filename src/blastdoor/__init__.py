"""Blastdoor: the production boundary for AI coding agents."""

__version__ = "0.1.0"
