"""Helpers the tests share (``figures``) and those they run in other processes (importable by module name)."""
