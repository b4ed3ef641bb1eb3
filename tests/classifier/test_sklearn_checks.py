"""scikit-learn's estimator checks on the facade.

The ``svm`` backend runs every check in the default suite (fast, no Keras). The Keras
``relu`` backend runs them under ``slow``: each check fits a model and TensorFlow tracing
dominates on tiny data. No check is expected to fail.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from spykeflow import Classifier


@parametrize_with_checks([Classifier("svm")])
def test_sklearn_contract_svm(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks([Classifier("relu", backend_params={"hidden": 32, "dropout": 0.0},
                                     epochs=30, batch_size=32, learning_rate=0.01,
                                     progress=False, validation_split=0.0)])
def test_sklearn_contract_keras(estimator, check):
    check(estimator)
