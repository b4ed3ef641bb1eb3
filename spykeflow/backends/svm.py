"""Linear SVM on the features (``backend="svm"``): the Kheradpisheh et al. (2018) protocol.

A thin :class:`~spykeflow.backends.base.EstimatorBackend` around scikit-learn's
:class:`~sklearn.svm.LinearSVC` (one-vs-rest). Its learned state is two arrays (``coef``,
``intercept``), saved as ``.npz`` without pickle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import NotFittedError, check_float, check_in, check_int
from .base import EstimatorBackend

__all__ = ["LinearSVMBackend"]


class LinearSVMBackend(EstimatorBackend):
    """One-vs-rest linear SVM (``sklearn.svm.LinearSVC``).

    Parameters
    ----------
    C : float > 0
        Inverse regularisation strength.
    loss : {"squared_hinge", "hinge"}
    tol : float > 0
        Stopping tolerance.
    max_iter : int
        Iterations of the solver.
    dual : bool or "auto"
        Solve the dual problem (scikit-learn's choice with ``"auto"``).
    """

    name = "svm"
    input_kind = "features"

    def __init__(self, C: float = 1.0, loss: str = "squared_hinge", tol: float = 1e-4,
                 max_iter: int = 2000, dual: bool | str = "auto") -> None:
        if dual is not True and dual is not False:
            check_in(dual, "dual", ("auto", True, False))
        self.params = {
            "C": check_float(C, "C", low=0, low_open=True),
            "loss": check_in(loss, "loss", ("squared_hinge", "hinge")),
            "tol": check_float(tol, "tol", low=0, low_open=True),
            "max_iter": check_int(max_iter, "max_iter"),
            "dual": dual,
        }
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def fit(self, x: Any, y: Any, seed: int) -> LinearSVMBackend:
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

    def decision(self, x: Any) -> np.ndarray:
        """Scores ``(N, n_classes)`` = ``x @ coef.T + intercept``."""
        if self.coef_ is None or self.intercept_ is None:
            raise NotFittedError("This LinearSVMBackend is not fitted yet. Call fit(...) first.")
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        return x @ self.coef_.T + self.intercept_

    def get_state(self) -> dict[str, np.ndarray]:
        if self.coef_ is None or self.intercept_ is None:
            raise NotFittedError("This LinearSVMBackend is not fitted yet. Call fit(...) first.")
        return {"coef": self.coef_, "intercept": self.intercept_}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.coef_ = np.asarray(arrays["coef"], np.float64)
        self.intercept_ = np.asarray(arrays["intercept"], np.float64)
