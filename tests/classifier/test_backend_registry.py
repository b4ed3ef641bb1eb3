"""The backend registry resolves names in a fresh interpreter (issue 18, item 9)."""

import os
import subprocess
import sys
import textwrap

import pytest

from spykeflow import backends


def _run(code):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_get_in_a_fresh_interpreter():
    res = _run("""
        from spykeflow import backends
        print(backends.get("sts_convsnn").name)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "sts_convsnn"


def test_registry_does_not_rely_on_importlib_util_imported_elsewhere():
    # numpy happens to import importlib.util; remove it to get the interpreter of the issue,
    # where `import importlib` alone left `importlib.util` undefined.
    res = _run("""
        import importlib, sys
        from spykeflow import backends
        sys.modules.pop("importlib.util", None)
        if hasattr(importlib, "util"):
            del importlib.util
        print(backends.available()[0], backends.get_class("svm").__name__)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["binary", "LinearSVMBackend"]


def test_unknown_backend_lists_available():
    with pytest.raises(ValueError, match="Unknown backend 'nope'. Expected one of"):
        backends.get_class("nope")
