"""Example workspace and data generator used by ``aiready init`` and ``aiready demo``."""

from aiready.demo.generate import write_workspace

__all__ = ["write_workspace"]
