"""Faults injected into a real lazy dataset: a :class:`SampleSource` that wraps another one
(e.g. MNIST's from ``spykeflow.datasets.open``) and makes reads of samples from ``fail_from``
on raise (an interrupted run) or every read slow (``delay``: to catch a worker in the middle
of a task). Picklable, so the fault travels to the workers with the dataset."""

from __future__ import annotations

import time

from spykeflow.datasets import LazyDataset
from spykeflow.datasets.lazy import SampleSource


class Interrupted(RuntimeError):
    pass


class FaultySource(SampleSource):
    def __init__(self, source, fail_from=None, delay=0.0):
        self.inner, self.fail_from, self.delay = source, fail_from, delay
        self.name, self.split = source.name, source.split
        self.sample_shape, self.sample_dtype = source.sample_shape, source.sample_dtype

    def __len__(self):
        return len(self.inner)

    def labels(self):
        return self.inner.labels()

    def read(self, positions, progress=None):
        time.sleep(self.delay)
        if self.fail_from is not None and positions.size and positions.max() >= self.fail_from:
            raise Interrupted(f"samples {positions.min()}.. not readable (test interruption)")
        return self.inner.read(positions, progress)


def faulty(ds, fail_from=None, delay=0.0):
    """The view ``ds`` of a lazy dataset, read through a :class:`FaultySource`."""
    return LazyDataset(FaultySource(ds.source, fail_from, delay))[ds.positions]
