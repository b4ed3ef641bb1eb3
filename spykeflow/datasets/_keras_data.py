"""Keras and tf.data adapters of :class:`~spykeflow.datasets.LazyDataset` (imported on first
use, so ``import spykeflow.datasets`` does not import Keras or TensorFlow)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from .lazy import LazyDataset


class LazyPyDataset(keras.utils.PyDataset):
    """Batches of a :class:`LazyDataset` for ``model.fit``; see
    :meth:`LazyDataset.to_pydataset`. Picklable (for ``use_multiprocessing=True``)."""

    def __init__(self, dataset: LazyDataset, batch_size: int, transform: Callable | None,
                 shuffle: bool, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dataset = dataset
        self.batch_size = batch_size
        self.transform = transform
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray | None:
        if not self.shuffle:
            return None
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.dataset))

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.dataset.batch(k, self.batch_size, self.transform, self._order)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._make_order()


def to_tf_dataset(dataset: LazyDataset, transform: Callable | None, chunk: int,
                  unbatch: bool) -> Any:
    """``tf.data.Dataset`` over ``dataset`` in chunks of ``chunk`` samples (see
    :meth:`LazyDataset.to_tf_dataset`)."""
    import tensorflow as tf

    n_chunks = math.ceil(len(dataset) / chunk)
    x0, _ = dataset.batch(0, chunk, transform)
    x0 = np.asarray(x0)
    signature = (
        tf.TensorSpec(shape=(None, *x0.shape[1:]), dtype=tf.as_dtype(x0.dtype)),
        tf.TensorSpec(shape=(None,), dtype=tf.int64),
    )

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for k in range(n_chunks):
            x, y = dataset.batch(k, chunk, transform)
            yield np.asarray(x), y

    data = tf.data.Dataset.from_generator(batches, output_signature=signature)
    if unbatch:
        data = data.unbatch()
    return data.apply(tf.data.experimental.assert_cardinality(
        len(dataset) if unbatch else n_chunks))
