"""Fixtures for the workerpool tests: a small image (fast apps), demo runs on fresh sandboxes."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_png(tmp_path_factory):
    """A 48x32 PNG with some structure (the cartoon filter has edges to find)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:32, 0:48]
    rgb = np.stack([(x * 5) % 256, (y * 8) % 256, ((x + y) * 3) % 256], axis=-1).astype("uint8")
    path = tmp_path_factory.mktemp("img") / "small.png"
    Image.fromarray(rgb).save(path)
    return path
