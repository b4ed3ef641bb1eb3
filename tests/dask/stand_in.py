"""A stand-in for ``spykeflow.datasets.open``'s LazyDataset (len, slicing, ``read()``, labels,
name, split) over arrays in memory, until the real one lands. ``fail_from`` makes reads of
samples from that index on raise (an interrupted run); ``delay`` slows every read down (to
catch a worker in the middle of a task)."""

from __future__ import annotations

import time

import numpy as np


class Interrupted(RuntimeError):
    pass


class ArrayDataset:
    def __init__(self, samples, labels, name="mnist", split="test", start=0,
                 fail_from=None, delay=0.0):
        self.samples, self._labels = samples, np.asarray(labels, np.int64)
        self.name, self.split, self.start = name, split, start
        self.fail_from, self.delay = fail_from, delay

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        if isinstance(index, slice):
            start = self.start + (index.indices(len(self))[0])
            return ArrayDataset(self.samples[index], self._labels[index], self.name,
                                self.split, start, self.fail_from, self.delay)
        return self.samples[index], self._labels[index]

    @property
    def labels(self):
        return self._labels

    def read(self):
        time.sleep(self.delay)
        if self.fail_from is not None and self.start + len(self) > self.fail_from:
            raise Interrupted(f"samples {self.start}.. not readable (test interruption)")
        return self.samples, self._labels
