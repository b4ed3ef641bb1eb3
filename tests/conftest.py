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


# ------------------------------------------------------------------------ executed notebooks
#: What each notebook's story rests on, read from its kernel after its last cell
#: (tests/notebooks/test_notebooks.py asserts on it). One JSON object per notebook.
NOTEBOOK_PROBES = {
    "01_quickstart_digits": """
print(json.dumps({"accuracy": float(result["accuracy"]),
                  "svm_accuracy": float(svm.evaluate(f_test, y_test)["accuracy"]),
                  "c_l": [float(v) for v in h["convergence"]]}))
""",
    "02_weight_evolution": """
w_final = net.weights_[conv[0]]
print(json.dumps({
    "c_l": [float(v) for v in c_l], "images_seen": [int(v) for v in images_seen],
    "images_trained": int(h["images_trained"]), "stopped_early": bool(h["stopped_early"]),
    "n_digits": int(len(x)),
    "near_binary_first": float(((snapshots[0] < 0.1) | (snapshots[0] > 0.9)).mean()),
    "near_binary_final": float(((w_final < 0.1) | (w_final > 0.9)).mean())}))
""",
    "03_readout_surrogates": """
firing = {}
for name in ["sg1", "sg2"]:
    w, b = models[name].model_.get_layer("hidden_0").get_weights()
    firing[name] = float(((f_train.astype(np.float32) @ w + b) >= 0).mean())
print(json.dumps({"results": {k: float(v) for k, v in results.items()},
                  "sweep": {k: [float(a), float(r)] for k, (a, r) in sweep.items()},
                  "firing": firing}))
""",
    "04_event_data_nmnist": """
print(json.dumps({"have_data": bool(HAVE_DATA),
                  "accuracy": float(np.mean(y_pred == y_test)) if HAVE_DATA else None}))
""",
}


def _docs_build():
    """``docs/build.py`` as a module (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_build",
                                                  REPO / "docs" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ExecutedNotebooks:
    """Executes each notebook of ``notebooks/`` at most once per test session, into a temporary
    folder (never into the repository): the notebook tests assert on the stories, the docs
    tests render the same executed copies."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self._stories: dict[str, dict] = {}
        self._errors: dict[str, Exception] = {}

    def story(self, stem: str) -> dict:
        """The probe values of notebook ``stem``, executing it first if needed; a failed
        execution is raised again for every test that asks for it."""
        if stem not in self._stories and stem not in self._errors:
            os.environ.setdefault("MPLBACKEND", "Agg")
            os.environ.pop("SPYKEFLOW_NETWORK", None)  # 02 trains its own network
            probe = "import json\n" + NOTEBOOK_PROBES[stem]
            try:
                self._stories[stem] = _docs_build().execute_notebook(
                    REPO / "notebooks" / f"{stem}.ipynb", self.folder / f"{stem}.ipynb",
                    probe=probe)
            except Exception as err:  # re-raised for each test that asks for this notebook
                self._errors[stem] = err
        if stem in self._errors:
            raise self._errors[stem]
        return self._stories[stem]

    def all(self) -> pathlib.Path:
        """Execute every notebook; the folder of the executed copies."""
        for path in sorted((REPO / "notebooks").glob("*.ipynb")):
            self.story(path.stem)
        return self.folder


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory):
    pytest.importorskip("nbclient")
    return ExecutedNotebooks(tmp_path_factory.mktemp("executed_notebooks"))
