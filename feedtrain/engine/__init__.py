"""Warehouse engines behind one interface (``base.Engine``); the ``Warehouse`` resource picks one per deployment."""

from .base import Engine
from .duckdb import DuckDBEngine

__all__ = ["Engine", "DuckDBEngine"]
