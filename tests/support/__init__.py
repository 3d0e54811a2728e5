"""Helpers that the tests run in other processes (they must be importable by module name)."""
