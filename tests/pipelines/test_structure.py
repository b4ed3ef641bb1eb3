"""The shape of ``main/``: imports point one way (nothing in ``spykeflow/`` or ``main/`` imports
``experiments/``), ``main/`` uses the public SpykeFlow API only (the listed pending exceptions
apart), and every pipeline has one frozen configuration that survives ``config.json``."""

from __future__ import annotations

import ast
import dataclasses
import json
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "main"))

import pipelines  # noqa: E402  (main/pipelines.py)
from config import freeze  # noqa: E402

#: names of ``spykeflow`` that ``main/`` may import (issue 18, public API)
PUBLIC = {"InputLayer", "EventEncoder", "DeltaEncoder", "Network", "STDPConv", "SpikePool",
          "Classifier", "datasets", "monitors", "plotting", "animation", "io", "conventions",
          "functional", "conversion", "nir", "tonic_plugin", "dask", "__version__"}
#: imports of non-public modules that wait for a public name; remove an entry when its
#: import goes (the test fails on an entry that is no longer used)
PENDING: dict = {
}


def _imports(path: pathlib.Path):
    """``(module, imported names)`` of every import statement in ``path``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _calls(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            yield func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _sources():
    yield from sorted((REPO / "spykeflow").rglob("*.py"))
    yield from sorted((REPO / "main").glob("*.py"))


@pytest.mark.parametrize("path", list(_sources()), ids=lambda p: str(p.relative_to(REPO)))
def test_nothing_imports_experiments(path):
    for module, _ in _imports(path):
        assert module.split(".")[0] != "experiments", f"{path.name} imports {module}"
    # nor loads a script by its file path (main.py's quiet TensorFlow import wraps a found
    # module's exec_module, which is not loading by path)
    loaders = {"spec_from_file_location", "run_path", "SourceFileLoader", "module_from_spec"}
    assert not loaders & set(_calls(path)), path.name


def test_main_uses_only_the_public_api():
    used = set()
    for path in sorted((REPO / "main").glob("*.py")):
        for module, names in _imports(path):
            if module.split(".")[0] != "spykeflow":
                continue
            if (path.name, module) in PENDING:
                used.add((path.name, module))
                continue
            parts = module.split(".")
            if module == "spykeflow":
                bad = [n for n in names if n not in PUBLIC]
                assert not bad, f"{path.name} imports {bad} from spykeflow"
            else:
                allowed = parts[1] in ("datasets", "plotting", "functional") or (
                    len(parts) == 2 and parts[1] in PUBLIC)
                assert allowed, f"{path.name} imports the non-public module {module}"
    assert used == set(PENDING), f"pending exceptions no longer used: {set(PENDING) - used}"


def test_the_table1_protocol_left_the_library():
    assert not (REPO / "spykeflow" / "backends" / "sequence_presets.py").exists()
    assert (REPO / "main" / "protocols.py").is_file()


@pytest.mark.parametrize("name", sorted(pipelines.PIPELINES))
def test_one_frozen_configuration_per_pipeline(name, tmp_path):
    pipeline = pipelines.PIPELINES[name]
    cls = pipeline.config_class
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(cls.QUICK) <= fields, set(cls.QUICK) - fields
    config = pipeline.config({"pipeline": name, "quick": True, "seed": 5})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1
    assert config.seed == 5 and config.quick
    assert all(getattr(config, k) == freeze(v) for k, v in cls.QUICK.items())
    # config.json holds exactly the configuration, and --resume rebuilds the same object
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_json()))
    assert cls.from_json(json.loads(path.read_text())) == config


def test_given_options_win_over_quick_and_unknown_keys_are_left_out():
    digits = pipelines.PIPELINES["digits"]
    config = digits.config({"quick": True, "epochs": 9, "hidden": [64, 32], "dataset": None,
                            "no_plots": False, "bits": 4})
    assert config.epochs == 9 and config.hidden == (64, 32)        # given
    assert config.train_limit == 600 and config.dataset == "digits"  # quick, default
    assert not hasattr(config, "bits")
