"""The NIR reference files (../shared/nir beside the repository, see its README.md)."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def nir_data_dir():
    """``$SPYKEFLOW_NIR_DATA``, else ``shared/nir`` beside the repository or beside the data
    root (``$SPYKEFLOW_DATA/../nir``); None when none of them holds the LIF benchmark."""
    candidates = []
    if os.environ.get("SPYKEFLOW_NIR_DATA"):
        candidates.append(pathlib.Path(os.environ["SPYKEFLOW_NIR_DATA"]))
    candidates.append(REPO.parent / "shared" / "nir")
    if os.environ.get("SPYKEFLOW_DATA"):
        candidates.append(pathlib.Path(os.environ["SPYKEFLOW_DATA"]).parent / "nir")
    for folder in candidates:
        if (folder / "lif" / "lif_norse.nir").is_file():
            return folder
    return None


@pytest.fixture(scope="session")
def nir_data():
    folder = nir_data_dir()
    if folder is None:
        pytest.skip("the NIR reference files are absent: set SPYKEFLOW_NIR_DATA to the folder "
                    "holding lif/lif_norse.nir (shared/nir beside the repository)")
    return folder
