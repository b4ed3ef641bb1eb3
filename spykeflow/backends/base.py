"""The contract between :class:`spykeflow.Classifier` and its backends.

A backend is one model family. The Classifier facade owns everything that is the same for all
of them -- input validation, label encoding, validation split, seeding, the training loop
(optimizer, learning-rate schedule, early stopping / restore-best, TensorBoard, progress bar),
metrics and save/load -- and asks the backend only for what differs.

Two kinds exist:

* :class:`KerasBackend` -- builds an (uncompiled) ``keras.Model`` mapping a batch of inputs to
  logits ``(N, n_classes)``; the facade compiles and trains it. Hooks let a backend add callbacks
  (e.g. the STS switch), post-process after training (e.g. QCFS conversion to a spiking model),
  and predict with extra options (e.g. ``time_steps=``).
* :class:`EstimatorBackend` -- wraps a non-Keras estimator (e.g. scikit-learn's ``LinearSVC``);
  it implements ``fit`` / ``decision`` itself.

Backends take their hyper-parameters as explicit keyword arguments of ``__init__`` (with
defaults), validate them there with :mod:`spykeflow._validation` (the error names the
parameter), store the validated values in ``Backend.params`` and return them from
:meth:`Backend.get_config`, which must be JSON-serialisable so a saved Classifier can rebuild
its backend with ``type(backend)(**config)``.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

__all__ = ["INPUT_KINDS", "Backend", "KerasBackend", "EstimatorBackend"]

#: Values of :attr:`Backend.input_kind`.
INPUT_KINDS = ("features", "sequence", "any")


class Backend:
    """Base class of all backends: stores and reports hyper-parameters.

    Attributes
    ----------
    params : dict
        The validated hyper-parameters, one entry per argument of ``__init__``.
    """

    #: Registry name (``Classifier(backend=name)``).
    name: ClassVar[str] = ""
    #: ``"features"``: inputs ``(N, F)``; ``"sequence"``: inputs ``(N, T, ...)`` (spike trains
    #: or time series, time on axis 1); ``"any"``: either.
    input_kind: ClassVar[str] = "features"

    params: dict[str, Any]

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the hyper-parameters ``__init__`` takes, in signature order."""
        signature = inspect.signature(cls.__init__)
        return [p.name for p in list(signature.parameters.values())[1:]
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable hyper-parameters; ``type(self)(**config)`` rebuilds the backend."""
        return dict(self.params)

    def check_input(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` if ``x`` (already a finite float array) has the wrong rank."""
        if self.input_kind == "features" and x.ndim != 2:
            raise ValueError(
                f"Backend {self.name!r} expects feature vectors (N, F). Received: shape={x.shape}. "
                "Flatten with x.reshape(len(x), -1) or use a sequence backend for (N, T, ...)."
            )
        if self.input_kind == "sequence" and x.ndim < 3:
            raise ValueError(
                f"Backend {self.name!r} expects sequences (N, T, ...). Received: shape={x.shape}."
            )


class KerasBackend(Backend):
    """A backend whose model is a Keras 3 model trained by the facade's loop."""

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> Any:
        """Return an uncompiled ``keras.Model``: inputs of ``input_shape`` (without the batch
        axis) -> logits ``(batch, n_classes)``. All randomness must derive from ``seed``."""
        raise NotImplementedError

    def loss(self) -> Any:
        """The training loss (default: softmax cross-entropy on logits, integer labels)."""
        import keras

        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def callbacks(self) -> list:
        """Extra Keras callbacks for training (e.g. a schedule that switches activations)."""
        return []

    def after_fit(self, model: Any, x: Any, y: Any, seed: int) -> None:
        """Called once after training with the training data (e.g. QCFS conversion)."""

    def predict_logits(self, model: Any, x: Any, batch_size: int, **options: Any) -> np.ndarray:
        """Logits ``(N, n_classes)`` for ``x``; backends may accept options (``time_steps=``)."""
        if options:
            raise TypeError(
                f"Backend {self.name!r} takes no prediction options. Received: {sorted(options)}."
            )
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))

    def compile_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for ``model.compile`` (e.g. ``{"jit_compile": False}``,
        ``{"steps_per_execution": 8}``). The facade sets optimizer, loss and the
        ``"accuracy"`` metric itself."""
        return {}

    def custom_objects(self) -> dict[str, Any]:
        """Classes needed to load the saved ``.keras`` model (layers registered as serialisable
        normally make this unnecessary)."""
        return {}


class EstimatorBackend(Backend):
    """A backend around a non-Keras estimator; it trains and predicts itself."""

    def fit(self, x: Any, y: Any, seed: int) -> EstimatorBackend:  # pragma: no cover
        """Train on features ``x`` and encoded labels ``y`` (0..K-1)."""
        raise NotImplementedError

    def decision(self, x: Any) -> np.ndarray:  # pragma: no cover - interface
        """Scores ``(N, n_classes)``; larger means more likely."""
        raise NotImplementedError

    def get_state(self) -> dict[str, np.ndarray]:  # pragma: no cover - interface
        """Learned state as a dict of numeric numpy arrays (saved as ``.npz``, no pickle)."""
        raise NotImplementedError

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover - interface
        """Restore the learned state from :meth:`get_state`'s arrays."""
        raise NotImplementedError
