"""Profiling: infer a draft ODCS contract from data, judged by the gate's own predicates."""

from aiready.profiling.draft import Draft
from aiready.profiling.infer import infer_bronze, infer_file
from aiready.profiling.profile import ColumnProfile, profile_table

__all__ = ["ColumnProfile", "Draft", "infer_bronze", "infer_file", "profile_table"]
