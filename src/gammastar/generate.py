"""Alias of :mod:`gammastar.flow.generate`, for the import path of earlier releases.

Use ``gammastar.Generator`` (or ``from gammastar.flow.generate import Generator``).
"""

from .flow.generate import APRIME_COLUMNS, MCP_COLUMNS, Generator

__all__ = ["Generator", "APRIME_COLUMNS", "MCP_COLUMNS"]
