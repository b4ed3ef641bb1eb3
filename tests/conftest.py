"""Shared fixtures: the data root for real-data tests and deterministic RNGs."""

import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = pathlib.Path(__file__).resolve().parents[1]


def _data_root():
    env = os.environ.get("SPYKEFLOW_DATA")
    if env:
        return pathlib.Path(env)
    for candidate in (REPO / "AllDataSets", REPO.parent / "shared" / "datasets"):
        if candidate.is_dir() and any(p.is_dir() for p in candidate.iterdir()):
            return candidate
    return None


@pytest.fixture(scope="session")
def data_root():
    """The dataset root; tests using it are skipped when no data is available."""
    root = _data_root()
    if root is None or not root.is_dir():
        pytest.skip("no dataset root: set SPYKEFLOW_DATA to the datasets folder")
    return root


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
