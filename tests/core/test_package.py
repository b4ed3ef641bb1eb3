"""Package-level contracts: version, lazy public API, backend registry, import direction."""

import ast
import pathlib

import pytest

import spykeflow
from spykeflow import backends

PKG = pathlib.Path(spykeflow.__file__).parent


def test_version_single_source():
    from spykeflow._version import __version__

    assert spykeflow.__version__ == __version__
    project = (PKG.parent / "pyproject.toml").read_text()
    assert 'version = { attr = "spykeflow._version.__version__" }' in project
    assert __version__ not in project


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute"):
        spykeflow.DoesNotExist  # noqa: B018


def test_unknown_backend_lists_available():
    with pytest.raises(ValueError, match="Unknown backend 'nope'. Expected one of"):
        backends.get("nope")


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = path.relative_to(PKG.parent).with_suffix("").parts[: -node.level]
                yield ".".join(base + ((node.module,) if node.module else ()))
            elif node.module:
                yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


@pytest.mark.parametrize(
    "folder,forbidden",
    [
        ("functional", ("spykeflow.layers", "spykeflow.network", "spykeflow.classifier",
                        "spykeflow.backends", "spykeflow.plotting", "spykeflow.input_layer")),
        ("layers", ("spykeflow.network", "spykeflow.classifier", "spykeflow.backends",
                    "spykeflow.plotting")),
    ],
)
def test_imports_point_one_way(folder, forbidden):
    for path in (PKG / folder).rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_plotting_imports_no_model_code():
    files = list((PKG / "plotting").rglob("*.py")) + [PKG / "animation.py"]
    assert len(files) > 2
    for path in files:
        for imported in _imports(path):
            assert not imported.startswith(("spykeflow.network", "spykeflow.classifier",
                                            "tensorflow", "keras")), \
                f"{path.name} imports {imported}"
