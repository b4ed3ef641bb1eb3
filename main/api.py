"""The one place where ``main/`` builds SpykeFlow objects whose names are still moving.

Issue 18 renames several constructors and options (``maps`` -> ``filters``, ``chunk_size`` ->
``batch_size``, ``verbose`` -> ``progress``, ``InputLayer.transform_events`` ->
``EventEncoder``, ``Classifier.reference`` -> ``Classifier.preset``, top-level
``spykeflow.STDPConv`` / ``spykeflow.SpikePool``, ...). Every pipeline builds those objects
through the helpers here, so the renames touch this file only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import spykeflow

# Pending the top-level exports spykeflow.STDPConv / spykeflow.SpikePool (issue 18, item 6).
from spykeflow.network import SpikePool, STDPConv

__all__ = ["STDPConv", "SpikePool", "stdp_conv", "spike_pool", "with_options", "filters_of",
           "preset_layers", "network", "save_network", "load_network", "image_encoder",
           "event_encoder", "events_to_frames", "soli_frames", "log_mel_features", "classifier",
           "s2net_params", "reference_classifier", "qcfs_reconvert", "qcfs_curve",
           "qcfs_thresholds"]


# ------------------------------------------------------------------------- STDP layers

def stdp_conv(filters: int, **options: Any) -> STDPConv:
    """An STDP convolution with ``filters`` feature maps (today's keyword: ``maps``)."""
    return STDPConv(maps=int(filters), **options)


def spike_pool(**options: Any) -> SpikePool:
    return SpikePool(**options)


def with_options(layer: STDPConv, **options: Any) -> STDPConv:
    """A copy of ``layer`` with ``options`` changed (to become ``layer.replace(**options)``)."""
    return STDPConv.from_config({**layer.get_config(), **options}, weights=layer.weights)


def filters_of(layer: STDPConv) -> int:
    """Number of feature maps of an STDP convolution."""
    return int(layer.maps)


def preset_layers(name: str) -> list:
    """A fresh layer list of the published Network preset ``name``."""
    return list(spykeflow.Network.preset(name).layers)


def network(layers: list, *, seed: int, batch_size: int, progress: bool,
            checkpoint_path: str | None = None, checkpoint_every: int = 1000
            ) -> spykeflow.Network:
    return spykeflow.Network(layers=layers, seed=seed, batch_size=batch_size, progress=progress,
                             checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every)


def save_network(net: spykeflow.Network, path) -> None:
    """Save a fitted network as ``path`` (today: ``path`` .json + .npz beside it)."""
    net.save(path)


def load_network(path, progress: bool = False) -> spykeflow.Network:
    net = spykeflow.Network.load(path)
    net.set_params(progress=progress)
    return net


# ------------------------------------------------------------------------- encoders

def image_encoder(options: dict | None = None) -> spykeflow.InputLayer:
    """The image encoder (``InputLayer``) with ``options`` (constructor keywords)."""
    return spykeflow.InputLayer(**(options or {}))


class _Events:
    """Event recordings -> spike frames; to become ``spykeflow.EventEncoder``."""

    def __init__(self, sensor_size, time_steps, window_us, t_start, mode, first_spike_only):
        self._layer = spykeflow.InputLayer()
        self._options = dict(sensor_size=tuple(sensor_size), time_steps=int(time_steps),
                             window_us=window_us, t_start=t_start, mode=mode,
                             first_spike_only=bool(first_spike_only))

    def transform(self, events) -> np.ndarray:
        return self._layer.transform_events(events, **self._options)


def event_encoder(sensor_size=(34, 34), time_steps: int = 12, *, window_us: int | None = None,
                  t_start: int | None = None, mode: str = "binary",
                  first_spike_only: bool = False) -> _Events:
    """An encoder of event recordings with the signature of ``spykeflow.EventEncoder``."""
    return _Events(sensor_size, time_steps, window_us, t_start, mode, first_spike_only)


def events_to_frames(events, time_steps: int) -> np.ndarray:
    """N-MNIST recordings -> float32 spike frames ``(N, T, 34, 34, 2)``."""
    return event_encoder(time_steps=time_steps).transform(events).astype(np.float32)


# ------------------------------------------------------- front ends not yet in the public API

def soli_frames(recordings, time_steps: int, threshold: float) -> np.ndarray:
    """Soli recordings -> send-on-delta spike frames ``(N, T, 32, 32, 8)`` float32
    (pending a public Soli / delta encoder)."""
    from spykeflow.functional.radar import preprocess_soli

    return preprocess_soli(list(recordings), length=int(time_steps), encoding="delta",
                           threshold=float(threshold)).astype(np.float32)


def log_mel_features(waveforms, sample_rate: int, length: int,
                     trim_db: float | None) -> np.ndarray:
    """Waveforms -> standardised log-Mel features + deltas ``(N, length, 40, 3)`` float32,
    silence trimmed, centred (pending a public audio front end)."""
    from spykeflow.functional.audio import features_array

    return features_array(waveforms, length=int(length), sample_rate=int(sample_rate),
                          align="center", trim_db=trim_db)


# ------------------------------------------------------------------------- classifiers

def classifier(backend: str, *, progress: bool, backend_params: dict | None = None,
               **options: Any) -> spykeflow.Classifier:
    """Every ``spykeflow.Classifier`` of ``main/`` is built here."""
    return spykeflow.Classifier(backend, backend_params=backend_params or None,
                                progress=bool(progress), **options)


def qcfs_reconvert(clf: spykeflow.Classifier, x_train: np.ndarray, percentile: float,
                   seed: int) -> None:
    """Convert a fitted ReLU ``qcfs`` Classifier again, with thresholds at ``percentile`` of
    its activations on ``x_train`` (pending a public Classifier method)."""
    clf.backend_.params["percentile"] = float(percentile)
    clf.backend_.convert(clf.model_, x_train, seed=seed)


def qcfs_curve(clf: spykeflow.Classifier, x: np.ndarray, timesteps: Sequence[int],
               input_scale: float = 1.0, progress: bool = False) -> list[np.ndarray]:
    """The converted SNN's mean outputs ``(N, K)`` at every T of ``timesteps``, from one
    simulation of ``max(timesteps)`` steps (pending a public Classifier method)."""
    return list(clf.backend_.predict_curve(clf.model_, x, max(timesteps), list(timesteps),
                                           batch_size=100, input_scale=input_scale,
                                           progress=progress))


def qcfs_thresholds(clf: spykeflow.Classifier) -> list:
    """Thresholds of the converted SNN's layers."""
    return clf.backend_.spiking_model(clf.model_).thresholds


def s2net_params(filters: Sequence[int], **options: Any) -> dict:
    """``backend_params`` of the s2net backend with ``filters`` channels per layer (today's
    keyword: ``channels``)."""
    return {"channels": [int(f) for f in filters], **options}


def reference_classifier(task: str, variant: str, *, progress: bool,
                         **overrides: Any) -> spykeflow.Classifier:
    """The original notebooks' readout (to become ``Classifier.preset(f"{task}_{variant}")``)."""
    return spykeflow.Classifier.reference(task, variant, progress=bool(progress), **overrides)
