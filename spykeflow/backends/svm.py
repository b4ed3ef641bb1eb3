"""Linear SVM on the features (``backend="svm"``): the Kheradpisheh et al. (2018) protocol.

A thin :class:`~spykeflow.backends.base.EstimatorBackend` around scikit-learn's
:class:`~sklearn.svm.LinearSVC` (one-vs-rest). Its learned state is two arrays (``coef``,
``intercept``), saved as ``.npz`` without pickle.
"""

from __future__ import annotations

import numpy as np

from .base import EstimatorBackend

__all__ = ["LinearSVMBackend"]


class LinearSVMBackend(EstimatorBackend):
    """One-vs-rest linear SVM (``sklearn.svm.LinearSVC``).

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    loss : {"squared_hinge", "hinge"}
    tol : float
    max_iter : int
    dual : bool or "auto"
    """

    name = "svm"
    input_kind = "features"
    _defaults = {"C": 1.0, "loss": "squared_hinge", "tol": 1e-4, "max_iter": 2000, "dual": "auto"}

    def __init__(self, **params):
        unknown = set(params) - set(self._defaults)
        if unknown:
            raise ValueError(
                f"Backend 'svm' takes {sorted(self._defaults)}. Received unknown: {sorted(unknown)}."
            )
        merged = {**self._defaults, **params}
        c = merged["C"]
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not c > 0:
            raise ValueError(f"Expected C > 0. Received: C={c!r}.")
        if merged["loss"] not in ("squared_hinge", "hinge"):
            raise ValueError(
                f"Expected loss 'squared_hinge' or 'hinge'. Received: loss={merged['loss']!r}."
            )
        super().__init__(**merged)
        self.coef_ = None
        self.intercept_ = None

    def fit(self, x, y, seed: int):
        from sklearn.svm import LinearSVC

        svc = LinearSVC(random_state=seed, **self.params)
        svc.fit(np.asarray(x, np.float32).reshape(len(x), -1), y)
        coef, intercept = svc.coef_, svc.intercept_
        if coef.shape[0] == 1:  # binary problem: scores for class 1; class 0 gets the negation
            coef = np.concatenate([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        self.coef_ = coef.astype(np.float64)
        self.intercept_ = intercept.astype(np.float64)
        return self

    def decision(self, x) -> np.ndarray:
        """Scores ``(N, n_classes)`` = ``x @ coef.T + intercept``."""
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        return x @ self.coef_.T + self.intercept_

    def get_state(self) -> dict:
        return {"coef": self.coef_, "intercept": self.intercept_}

    def set_state(self, arrays: dict) -> None:
        self.coef_ = np.asarray(arrays["coef"], np.float64)
        self.intercept_ = np.asarray(arrays["intercept"], np.float64)
