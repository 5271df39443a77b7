"""Runs without out_dir keep their results in a temporary folder: put it under tmp_path."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _runner_temp_in_tmp_path(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
