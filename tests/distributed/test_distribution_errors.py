"""Classifier(distribution=...) at the public boundary, on the suite's backend (TensorFlow)."""

import keras
import numpy as np
import pytest

from spykeflow import Classifier


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 4)).astype("float32"), np.arange(20) % 2


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="JAX supports it")
def test_data_parallel_off_jax_names_the_backend_and_the_alternative():
    with pytest.raises(NotImplementedError, match=r"tensorflow|torch") as info:
        Classifier("relu", epochs=1, progress=False, distribution="data_parallel").fit(*_data())
    assert "KERAS_BACKEND=jax" in str(info.value)


def test_unknown_distribution_is_rejected():
    with pytest.raises(ValueError, match="Expected distribution=None, 'data_parallel'"):
        Classifier("relu", epochs=1, progress=False, distribution="mirrored").fit(*_data())
