"""Tests call handlers through devserver.invoke (shared with the benchmarks)."""

from devserver.invoke import Api, Result, event_files, routes_by_folder, sample_event

__all__ = ["Api", "Result", "event_files", "routes_by_folder", "sample_event"]
