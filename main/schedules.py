"""A per-batch cosine learning-rate schedule for :class:`spykeflow.Classifier` (pending a
named one in the library: ``Classifier`` schedules are per epoch).

It follows ``keras.optimizers.schedules.CosineDecay``: an optional linear warm-up from 0 over
the first ``warmup_epochs`` epochs, then a cosine decay from the Classifier's learning rate to
0 over the remaining batches. The rate of batch ``i`` (counted over the whole training) is set
before the batch runs.
"""

from __future__ import annotations

import math
from typing import Any


def cosine_lr(step: int, peak: float, total: int, warmup: int = 0) -> float:
    """The learning rate of batch ``step`` of ``total`` (``warmup`` of them warming up).

    >>> cosine_lr(0, 1.0, 10), cosine_lr(5, 1.0, 10), cosine_lr(10, 1.0, 10)
    (1.0, 0.5, 0.0)
    >>> cosine_lr(2, 1.0, 14, warmup=4)
    0.5
    """
    if step < warmup:
        return peak * step / warmup
    decay = max(1, total - warmup)
    done = min(step - warmup, decay) / decay
    return peak * 0.5 * (1.0 + math.cos(math.pi * done))


def cosine_decay(warmup_epochs: int = 0) -> Any:
    """A Keras callback applying :func:`cosine_lr` with the optimizer's initial rate."""
    import keras

    class CosineDecay(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.peak = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self.steps = int(self.params["steps"])
            self.total = int(self.params["epochs"]) * self.steps
            self.step = 0

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate = cosine_lr(
                self.step, self.peak, self.total, warmup=int(warmup_epochs) * self.steps)
            self.step += 1

        def on_train_end(self, logs=None):
            self.model.optimizer.learning_rate = self.peak  # a second fit starts afresh

    return CosineDecay()
