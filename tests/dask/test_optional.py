"""Without the ``dask`` extra: the core works, spykeflow.dask imports, and its functions say
which extra to install (Dask hidden from a subprocess)."""

import subprocess
import sys
import textwrap

from .conftest import REPO_ROOT


def test_missing_dask_gives_a_clear_error():
    code = textwrap.dedent("""
        import sys
        sys.modules["dask"] = sys.modules["dask.array"] = None   # as if not installed
        import numpy as np
        import spykeflow, spykeflow.dask
        x = np.zeros((2, 28, 28), np.uint8)
        assert spykeflow.InputLayer().transform(x).shape == (2, 12, 27, 27, 2)
        try:
            spykeflow.dask.encode(None, spykeflow.InputLayer())
        except ImportError as err:
            print(err)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'spykeflow[dask]'" in out.stdout
