"""Agentry: run and supervise local AI coding agents, and never lose them."""

__version__ = "0.1.0"
