"""``Network``: stacked STDP convolutional and spike-pooling layers (reference 2.2-2.7).

Layer-wise unsupervised training with :meth:`Network.fit` (each conv layer is trained on the
spikes of the frozen layers below it), feature vectors with :meth:`Network.transform`, and the
time-resolved spikes of any layer with :meth:`Network.spikes_at`. The class orchestrates; the
mechanisms live in :mod:`spykeflow.functional` (the compiled training loop in
:mod:`spykeflow.functional.stdp_loop`, the event-driven inference pass in
:mod:`spykeflow.functional.feature_pass`). Between layers, spikes travel as sparse events
(:mod:`spykeflow.functional.spike_events`); dense tensors are built only when asked for.

Spike layout: ``(N, T, H, W, C)`` bool, see :mod:`spykeflow.conventions`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import pathlib

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import io as sfio
from ._validation import NotFittedError, check_fitted, check_in, check_int
from .functional import feature_pass, spike_events, stdp, stdp_loop
from .functional.pooling import FEATURE_VALUES as _SPIKE_FEATURES
from .layers.spike_pool import SpikePool
from .layers.stdp_conv import STDPConv

__all__ = ["Network", "STDPConv", "SpikePool", "PRESETS"]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1

#: What :meth:`Network.transform` can return per feature (``feature_values``).
FEATURE_VALUES = _SPIKE_FEATURES + ("max_potential",)


def _conv1(**kw):
    base = dict(maps=30, kernel_size=5, threshold=15.0, inhibition_window=11, a_plus=0.004,
                lr_double_every=500, a_plus_max=0.15, homeostasis_block=5, homeostasis_factor=3.0,
                homeostasis_decay=0.003, snapshot_every=200, n_images=6000)
    base.update(kw)
    return STDPConv(**base)


def _conv2(**kw):
    base = dict(maps=200, kernel_size=5, threshold=15.0, inhibition_window=3, a_plus=0.0004,
                lr_double_every=1500, a_plus_max=0.15, homeostasis_block=3, homeostasis_factor=3.0,
                homeostasis_decay=0.0003, snapshot_every=200, n_images=35000)
    base.update(kw)
    return STDPConv(**base)


#: Published extraction configurations (reference 2.7). Each value builds a fresh layer list.
PRESETS = {
    # main/main_emnist.py net1: the recommended default
    "mnist_conv1": lambda: [_conv1(), SpikePool(2)],
    # the paper's code snippet (library defaults: doubling every 1000, factor 4.0)
    "paper_snippet": lambda: [_conv1(lr_double_every=1000, homeostasis_factor=4.0), SpikePool(2)],
    # the paper's text: doubling every 1500 images
    "paper_text": lambda: [_conv1(lr_double_every=1500), SpikePool(2)],
    # Conv2 on transient Pool1 spikes without pool inhibition (net4: 35 000 images, 1 epoch)
    "mnist_conv2": lambda: [_conv1(), SpikePool(2), _conv2(), SpikePool(2)],
    # net5: pool1 lateral inhibition, Conv2 60 000 images x 2 epochs
    "net5": lambda: [_conv1(), SpikePool(2, lateral_inhibition=True),
                     _conv2(n_images=60000, epochs=2), SpikePool(2)],
}
PRESETS["emnist_conv1"] = PRESETS["mnist_conv1"]
PRESETS["net4"] = PRESETS["mnist_conv2"]


class Network(TransformerMixin, BaseEstimator):
    """Unsupervised STDP feature extractor: Conv1 -> Pool1 -> Conv2 -> Pool2 -> ...

    Parameters
    ----------
    layers : list of STDPConv / SpikePool, or str, optional
        The stack, e.g. ``[STDPConv(30, 5, threshold=15, inhibition_window=11), SpikePool(2)]``,
        or a preset name (see :data:`PRESETS` and :meth:`preset`). None: ``"mnist_conv1"``.
    seed : int
        Seeds weight initialisation and threshold jitter. Same seed => same weights/features.
    feature_values : {"binary", "counts", "first_spike_times", "max_potential"}
        What :meth:`transform` returns per neuron of the feature layer (P4): spiked at least
        once (uint8), spike counts (int16), or the step of the first spike (-1: none; int8).
        ``"max_potential"`` (feature layer must be a conv layer): global max pooling of each
        map's final potential, ``(N, maps)`` float32, as in Kheradpisheh et al. (2018).
    feature_layer : int
        Index into ``layers`` of the layer whose spikes become features (-1: the last).
    batch_size : int
        Samples per batch in inference (streamed; no dataset-sized spike tensor is built).
    chunk_size : int
        Samples per call of the compiled training loop (monitors run between chunks).
    checkpoint_path : str or path, optional
        Folder for training checkpoints (written atomically every ``checkpoint_every`` images);
        ``fit(..., resume=True)`` continues from the latest one.
    checkpoint_every : int
        Checkpoint interval in training images.
    monitors : list, optional
        Callbacks ``monitor(network, event)`` called after every chunk (see
        :mod:`spykeflow.monitors`); returning True stops the current layer's training.
    progress : bool
        Show tqdm progress bars with the current C_l.

    Attributes
    ----------
    weights_ : list of ndarray or None
        Kernels ``(k, k, C_in, maps)`` per layer (None for pooling layers).
    history_ : dict
        ``history_["layers"][i]`` for conv layer ``i``: ``snapshot_images``, ``snapshots``,
        ``convergence`` (C_l per snapshot), ``temporal_difference`` (per snapshot pair),
        ``updates_per_map``, ``winners_per_image``, ``spikes_per_image`` (post-inhibition conv
        spikes per training image), ``winners`` ((K, 5) int32 rows
        ``[image, map, row, col, step]``), ``images_trained``, ``stopped_early``.
    input_shape_ : tuple
        ``(T, H, W, C)`` of the training spikes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((4, 3, 8, 8, 2)) < 0.1
    >>> net = Network([STDPConv(4, 3, threshold=2.0, inhibition_window=3), SpikePool(2)],
    ...               progress=False).fit(x)
    >>> net.transform(x).shape
    (4, 36)
    """

    def __init__(self, layers=None, seed=0, feature_values="binary", feature_layer=-1,
                 batch_size=256, chunk_size=500, checkpoint_path=None, checkpoint_every=1000,
                 monitors=None, progress=True):
        self.layers = layers
        self.seed = seed
        self.feature_values = feature_values
        self.feature_layer = feature_layer
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.monitors = monitors
        self.progress = progress

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def preset(cls, name, **params):
        """A Network with a published layer configuration (reference 2.7).

        ``"mnist_conv1"`` (= ``"emnist_conv1"``, the original's main script; default),
        ``"paper_snippet"``, ``"paper_text"``, ``"mnist_conv2"`` (= ``"net4"``), ``"net5"``.

        >>> Network.preset("mnist_conv1").layers[0].lr_double_every
        500
        """
        check_in(name, "name", PRESETS)
        return cls(layers=PRESETS[name](), **params)

    def _layer_list(self):
        layers = self.layers
        if layers is None:
            layers = "mnist_conv1"
        if isinstance(layers, str):
            check_in(layers, "layers", PRESETS)
            layers = PRESETS[layers]()
        layers = list(layers)
        if not layers:
            raise ValueError("Expected at least one layer. Received: layers=[].")
        for i, layer in enumerate(layers):
            if not isinstance(layer, (STDPConv, SpikePool)):
                raise TypeError(f"Expected STDPConv or SpikePool objects in layers. Received: "
                                f"layers[{i}]={layer!r} (type {type(layer).__name__}).")
        if not isinstance(layers[0], STDPConv):
            raise ValueError("Expected the first layer to be an STDPConv. Received: "
                             f"layers[0]={layers[0]!r}.")
        return layers

    def _check_params(self):
        check_in(self.feature_values, "feature_values", FEATURE_VALUES)
        check_int(self.batch_size, "batch_size")
        check_int(self.chunk_size, "chunk_size")
        check_int(self.checkpoint_every, "checkpoint_every")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"Expected an integer seed. Received: seed={self.seed!r}.")

    @staticmethod
    def _shapes(layers, in_shape):
        """Per-layer output shapes (H, W, C) from the input (H, W, C); validates geometry."""
        shapes = []
        h, w, c = in_shape
        for i, layer in enumerate(layers):
            if isinstance(layer, STDPConv):
                k = layer.kernel_size
                h, w = h + 2 * layer.padding, w + 2 * layer.padding
                if k > h or k > w:
                    raise ValueError(
                        f"Kernel larger than its input: layers[{i}] has kernel_size={k} but "
                        f"receives maps of {h}x{w}. Use a smaller kernel or a larger input.")
                if layer.weights is not None and layer.weights.shape[2] != c:
                    raise ValueError(
                        f"Expected layers[{i}].weights with C_in={c} channels. Received: "
                        f"weights.shape={layer.weights.shape}.")
                h, w, c = h - k + 1, w - k + 1, layer.maps
            else:
                h, w = h + 2 * layer.padding, w + 2 * layer.padding
                if layer.size > h or layer.size > w:
                    raise ValueError(f"Pool larger than its input: layers[{i}] has size="
                                     f"{layer.size} but receives maps of {h}x{w}.")
                h, w = (h - layer.size) // layer.stride + 1, (w - layer.size) // layer.stride + 1
            shapes.append((h, w, c))
        return shapes

    @staticmethod
    def _check_spikes(spikes, name="spikes"):
        arr = np.asarray(spikes) if not isinstance(spikes, np.ndarray) else spikes
        if arr.dtype == object:
            raise TypeError(f"Expected a boolean or 0/1 array for {name}. Received: dtype=object.")
        if arr.ndim != 5:
            raise ValueError(
                f"Expected {name} of rank 5 (N, T, H, W, C). Received: shape={arr.shape}. "
                "Add missing axes (e.g. x[..., None] for one channel).")
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(f"Expected at least one sample and one time step in {name}. "
                             f"Received: shape={arr.shape}.")
        if arr.dtype != bool and not (np.issubdtype(arr.dtype, np.integer)
                                      or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError(f"Expected bool or 0/1 values for {name}. Received: dtype={arr.dtype}.")
        return arr

    @staticmethod
    def _binary_batch(arr, name="spikes"):
        b = np.asarray(arr)
        if b.dtype == bool:
            return b
        bad = (b != 0) & (b != 1)
        if bad.any():
            raise ValueError(
                f"Expected binary spikes (bool or 0/1) in {name}. Received a value "
                f"{b[bad].flat[0]!r} (dtype {b.dtype}). Encode real values with "
                "spykeflow.InputLayer first.")
        return b.astype(bool)

    # ------------------------------------------------------------------ inference
    def _thresholds(self, layer_index, layer, n, offset=0, train=False):
        if layer.threshold_jitter == 0:
            return np.full(n, layer.threshold, np.float32)
        a = layer.threshold_jitter
        if train:
            rng = np.random.default_rng([int(self.seed), layer_index, 1])
            u = rng.random(offset + n)[offset:]
        else:
            u = np.array([np.random.default_rng([int(self.seed), layer_index, 2, offset + i]).random()
                          for i in range(n)])
        return (layer.threshold * (1 - a + 2 * a * u)).astype(np.float32)

    def _forward(self, ev, layers, weights, upto, offset=0, keep=None):
        """Run layers[0..upto] in inference mode on the events ``ev`` of a batch of samples
        (the first is sample ``offset``); returns the events of layer ``upto``'s output, or
        with ``keep`` a dict of the events after each layer index in ``keep`` (-1: the input)."""
        kept = {} if keep is None else {i: ev for i in keep if i == -1}
        thetas = {}
        for i in range(upto + 1):
            layer = layers[i]
            if isinstance(layer, STDPConv):
                th = self._thresholds(i, layer, ev.n, offset)
                thetas[i] = th
                ev = feature_pass.conv_events(spike_events.pad(ev, layer.padding), weights[i], th,
                                              strict=layer.strict_threshold,
                                              inhibition=layer.lateral_inhibition)
                conv_i = i
            else:
                mode = layer.resolved_mode(is_last=i == len(layers) - 1)
                src = layers[conv_i]
                ev = feature_pass.pool_events(
                    spike_events.pad(ev, layer.padding), thetas[conv_i], mode=mode,
                    lateral_inhibition=layer.lateral_inhibition, size=layer.size,
                    stride=layer.stride, strict=src.strict_threshold)
            if keep is not None and i in keep:
                kept[i] = ev
        return ev if keep is None else kept

    def _layer_index(self, layer, n_layers):
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise TypeError(f"Expected an integer layer index. Received: layer={layer!r}.")
        idx = int(layer) + n_layers if layer < 0 else int(layer)
        if not 0 <= idx < n_layers:
            raise ValueError(f"Expected layer in [-{n_layers}, {n_layers - 1}]. "
                             f"Received: layer={layer}.")
        return idx

    def iter_spikes_at(self, spikes, layer=-1, batch_size=None):
        """Yield ``(start, spikes)`` batches of layer ``layer``'s output spikes (N_b, T, H, W, C).

        Streaming form of :meth:`spikes_at` for large datasets (e.g. the BPTT backends).
        """
        for start, ev in self._iter_events(spikes, layer, batch_size):
            yield start, spike_events.to_dense(ev)

    def threshold_crossings(self, spikes, layer=0, batch_size=None):
        """Threshold crossings of conv layer ``layer`` *before* lateral inhibition
        ``(N, T, H, W, C)`` bool: every neuron at its first step with ``V >= theta`` (the debug
        view "before inhibition" of paper Figs 4 and 16, counted once per neuron, not on every
        later step as the original did). The layers below run as usual.

        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((2, 3, 8, 8, 2)) < 0.2
        >>> net = Network([STDPConv(4, 3, threshold=2.0, inhibition_window=3)], progress=False).fit(x)
        >>> bool((net.threshold_crossings(x) >= net.spikes_at(x, 0)).all())   # a superset
        True
        """
        check_fitted(self, "weights_")
        idx = self._layer_index(layer, len(self.layers_))
        conv = self.layers_[idx]
        if not isinstance(conv, STDPConv):
            raise ValueError(f"Expected the index of a conv layer. Received: layer={layer} "
                             f"({type(conv).__name__}).")
        parts = []
        for start, ev in self._iter_events(spikes, idx - 1 if idx else None, batch_size):
            th = self._thresholds(idx, conv, ev.n, start)
            ev = feature_pass.conv_events(spike_events.pad(ev, conv.padding), self.weights_[idx], th,
                                          strict=conv.strict_threshold, inhibition=False)
            parts.append(spike_events.to_dense(ev))
        return np.concatenate(parts, axis=0)

    def _iter_events(self, spikes, layer, batch_size=None):
        """Yield ``(start, events)`` of layer ``layer``'s output per batch (``None``: the
        input spikes themselves)."""
        check_fitted(self, "weights_")
        spikes = self._check_spikes(spikes)
        layers = self.layers_
        idx = None if layer is None else self._layer_index(layer, len(layers))
        self._check_input_shape(spikes)
        bs = check_int(batch_size or self.batch_size, "batch_size")
        for start in range(0, spikes.shape[0], bs):
            ev = spike_events.from_dense(self._binary_batch(spikes[start:start + bs]))
            if idx is not None:
                ev = self._forward(ev, layers, self.weights_, idx, offset=start)
            yield start, ev

    def spikes_at(self, spikes, layer=-1, batch_size=None):
        """Time-resolved output spikes ``(N, T, H, W, C)`` bool of layer ``layer``.

        A pooling layer in ``"auto"`` mode returns its ``"transient"`` spikes when it feeds a
        further layer and ``"first_spike"`` spikes when it is the network's last layer.
        """
        parts = [s for _, s in self.iter_spikes_at(spikes, layer, batch_size)]
        return np.concatenate(parts, axis=0)

    def _check_input_shape(self, spikes):
        if tuple(spikes.shape[1:]) != tuple(self.input_shape_):
            raise ValueError(f"Expected spikes of shape (N, {', '.join(map(str, self.input_shape_))}) "
                             f"as in fit. Received: shape={spikes.shape}.")

    def transform(self, spikes, layers=None):
        """Feature vectors ``(N, F)``, flattened map-major (P4).

        Parameters
        ----------
        spikes : array (N, T, H, W, C) bool or 0/1
        layers : list, optional
            Feature sets to concatenate, in order, from one pass through the network: each
            entry a layer index (its spikes as ``feature_values`` says) or a pair
            ``(index, values)`` with ``values`` one of :data:`FEATURE_VALUES`. None: the
            network's own ``[(feature_layer, feature_values)]``.

        Returns
        -------
        ndarray (N, F)
            ``F = C*P*Q`` per spiking set (3630 for the MNIST Pool1), ``maps`` per
            ``"max_potential"`` set. Sets of different dtypes are promoted to a common one
            (binary with ``"max_potential"`` gives float32).

        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((4, 3, 8, 8, 2)) < 0.1
        >>> net = Network([STDPConv(4, 3, threshold=2.0, inhibition_window=3), SpikePool(2)],
        ...               progress=False).fit(x)
        >>> net.transform(x, layers=[1, (0, "max_potential")]).shape     # 36 + 4 features
        (4, 40)
        """
        check_fitted(self, "weights_")
        sets = self._feature_sets(layers)
        keep = set()
        for idx, values in sets:
            keep.add(idx - 1 if values == "max_potential" else idx)
        upto = max(keep)
        parts = []
        for start, ev in self._iter_events(spikes, None):
            kept = self._forward(ev, self.layers_, self.weights_, upto, offset=start, keep=keep)
            row = []
            for idx, values in sets:
                if values == "max_potential":
                    conv = self.layers_[idx]
                    row.append(feature_pass.max_potentials(
                        spike_events.pad(kept[idx - 1], conv.padding), self.weights_[idx]))
                else:
                    row.append(spike_events.to_features(kept[idx], values))
            parts.append(row[0] if len(row) == 1 else np.concatenate(row, axis=1))
        return np.concatenate(parts, axis=0)

    def _feature_sets(self, layers):
        """``[(layer index >= 0, values), ...]`` of :meth:`transform`'s ``layers``, validated."""
        n = len(self.layers_)
        if layers is None:
            layers = [(self.feature_layer, self.feature_values)]
        elif isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError("Expected layers to be a non-empty list of layer indices or "
                            f"(index, values) pairs. Received: layers={layers!r}.")
        sets = []
        for item in layers:
            idx, values = (item if isinstance(item, tuple) and len(item) == 2
                           else (item, self.feature_values))
            idx = self._layer_index(idx, n)
            check_in(values, "values", FEATURE_VALUES)
            if values == "max_potential" and not isinstance(self.layers_[idx], STDPConv):
                raise ValueError("values='max_potential' reads a conv layer's potentials. "
                                 f"Received: layer {idx} ({type(self.layers_[idx]).__name__}); "
                                 "point it at a conv layer.")
            sets.append((idx, values))
        return sets

    def spike_statistics(self, spikes, y=None, layer=-1):
        """Activity of layer ``layer`` in inference: ``spikes_per_image`` (N,) and, when labels
        ``y`` are given, ``spikes_per_map_per_class`` (K, C) raw counts, the per-image
        normalised version (divided by the class frequency) and ``classes`` (sorted labels)."""
        spikes_per_image = []
        per_map = []
        for _, ev in self._iter_events(spikes, layer):
            c = ev.shape[-1]
            img = np.repeat(np.arange(ev.n), np.diff(ev.ptr))
            spikes_per_image.append(np.diff(ev.ptr))
            per_map.append(np.bincount(img * c + ev.idx % c, minlength=ev.n * c).reshape(ev.n, c))
        out = {"spikes_per_image": np.concatenate(spikes_per_image)}
        if y is not None:
            y = np.asarray(y)
            pm = np.concatenate(per_map)
            if y.shape[0] != pm.shape[0]:
                raise ValueError(f"Expected one label per sample. Received: len(y)={y.shape[0]}, "
                                 f"samples={pm.shape[0]}.")
            classes = np.unique(y)
            raw = np.stack([pm[y == k].sum(axis=0) for k in classes])
            freq = np.array([(y == k).sum() for k in classes], np.float64)
            out.update(classes=classes, spikes_per_map_per_class=raw,
                       spikes_per_map_per_class_normalised=raw / freq[:, None])
        return out

    # ------------------------------------------------------------------ training
    def fit(self, spikes, y=None, resume=False):
        """Train the conv layers one after the other, unsupervised; returns ``self``.

        Parameters
        ----------
        spikes : array (N, T, H, W, C) bool or 0/1
            Training spike trains (e.g. from :class:`spykeflow.InputLayer`). Conv layer ``i``
            uses the first ``layers[i].n_images`` samples (all if None) for ``epochs`` passes.
        y : ignored
            Present for the scikit-learn API.
        resume : bool
            Continue from the latest checkpoint in ``checkpoint_path`` (same data and seed
            give the same final weights as an uninterrupted run).
        """
        self._check_params()
        spikes = self._check_spikes(spikes)
        layers = self._layer_list()
        in_shape = tuple(spikes.shape[2:])
        shapes = self._shapes(layers, in_shape)
        monitors = list(self.monitors or [])
        for m in monitors:
            if not callable(m):
                raise TypeError(f"Expected callable monitors. Received: {m!r}.")

        state = None
        if resume:
            if self.checkpoint_path is None:
                raise ValueError("resume=True needs checkpoint_path. Received: checkpoint_path=None.")
            state = _load_checkpoint(self.checkpoint_path)
            if state is not None:
                if state["meta"]["config"] != _config_of(self, layers):
                    raise ValueError("The checkpoint in checkpoint_path was written by a network "
                                     "with other parameters; delete it or use resume=False.")
                logger.info("resuming from checkpoint at layer %d, image %d",
                            state["meta"]["cursor"]["layer"], state["meta"]["cursor"]["done"])

        if state is None:
            weights = []
            in_c = in_shape[2]
            for i, layer in enumerate(layers):
                if isinstance(layer, STDPConv):
                    if layer.weights is not None:
                        w = layer.weights.copy()
                    else:
                        rng = np.random.default_rng([int(self.seed), i, 0])
                        w = stdp.init_weights((layer.kernel_size, layer.kernel_size, in_c, layer.maps),
                                              layer.w_init_mean, layer.w_init_std, rng)
                    weights.append(w)
                else:
                    weights.append(None)
                in_c = shapes[i][2]
            history = {"layers": [_empty_history(l) if isinstance(l, STDPConv) else None
                                  for l in layers]}
            cursor = {"layer": 0, "done": 0}
            loop_state = None
        else:
            weights = state["weights"]
            history = state["history"]
            cursor = state["meta"]["cursor"]
            loop_state = state["loop"]

        self.layers_ = layers
        self.input_shape_ = tuple(spikes.shape[1:])
        for i, layer in enumerate(layers):
            if not isinstance(layer, STDPConv) or i < cursor["layer"]:
                continue
            start = cursor["done"] if i == cursor["layer"] else 0
            ls = loop_state if (i == cursor["layer"] and loop_state is not None) else None
            self._train_layer(i, spikes, layers, shapes, weights, history, start, ls, monitors)
            cursor = {"layer": i + 1, "done": 0}
            loop_state = None
        self.weights_ = weights
        self.history_ = history
        return self

    def _train_layer(self, li, spikes, layers, shapes, weights, history, start, loop_state, monitors):
        from tqdm.auto import tqdm

        layer = layers[li]
        h = history["layers"][li]
        T = spikes.shape[1]
        h_in, w_in, c_in = tuple(spikes.shape[2:]) if li == 0 else shapes[li - 1]
        in_shape = (h_in + 2 * layer.padding, w_in + 2 * layer.padding, c_in)
        n = spikes.shape[0] if layer.n_images is None else min(layer.n_images, spikes.shape[0])
        total = n * layer.epochs
        cfg = stdp_loop.LoopConfig(
            in_shape=tuple(int(v) for v in in_shape), kernel=(layer.kernel_size, layer.kernel_size),
            maps=layer.maps, time_steps=int(T), window=layer.inhibition_window,
            strict=layer.strict_threshold, inhibition=layer.lateral_inhibition,
            competition=layer.competition, homeostasis=layer.homeostasis,
            homeo_block=layer.homeostasis_block,
            homeo_limit=layer.homeostasis_block / layer.homeostasis_factor,
            homeo_decay=layer.homeostasis_decay,
            count_first_image=layer.homeostasis_count_first_image,
            end_of_image=layer.stdp_update == "end_of_image",
            original_steps=layer.lr_schedule == "original_steps",
            lr_period=int(T) * (layer.lr_double_every or 1) - 1,
            a_plus_max=float("inf") if layer.a_plus_max is None else layer.a_plus_max,
            a_minus_ratio=layer.a_minus_ratio)
        thetas_all = self._thresholds(li, layer, total, train=True)
        w = weights[li]
        kshape = w.shape
        orig_snaps = None
        if layer.snapshot_schedule == "original_steps":
            orig_snaps = _original_snapshot_ends(n, int(T), layer.snapshot_every)
        if loop_state is None:
            loop_state = {"counts": np.zeros(layer.maps, np.float32),
                          "a_state": np.float32(layer.a_plus), "global_step": 0}
            if start == 0 and orig_snaps is None:
                _snapshot(h, w, 0)
        counts = np.asarray(loop_state["counts"], np.float32)
        a_state = float(loop_state["a_state"])
        g = int(loop_state["global_step"])
        W = w.reshape(-1, layer.maps)
        done = start
        chunk = self.chunk_size
        stop = False
        bar = tqdm(total=total, initial=done, desc=f"layer {li} STDP", disable=not self.progress,
                   unit="img", leave=False)
        try:
            while done < total and not stop:
                epoch, pos = divmod(done, n)
                end_pos = min(n, pos + chunk)
                # cut chunks at snapshot and checkpoint boundaries
                snap = layer.snapshot_every
                if orig_snaps is None:
                    end_pos = min(end_pos, (pos // snap + 1) * snap)
                else:
                    later = orig_snaps[orig_snaps > pos]
                    if later.size:
                        end_pos = min(end_pos, int(later[0]))
                ck = self.checkpoint_every
                nxt_ck = ((done // ck) + 1) * ck - epoch * n
                end_pos = min(end_pos, max(pos + 1, nxt_ck))
                m = end_pos - pos
                ev = spike_events.from_dense(self._binary_batch(spikes[pos:end_pos]))
                if li > 0:
                    ev = self._forward(ev, layers, weights, li - 1, offset=pos)
                ev = spike_events.pad(ev, layer.padding)
                gidx = np.arange(done, done + m)
                a_img = np.array([stdp.a_plus_for_image(k, layer.a_plus, layer.lr_double_every,
                                                        layer.a_plus_max) for k in gidx], np.float32)
                out = stdp_loop.train_chunk(cfg, W, ev, thetas_all[done:done + m], a_img,
                                            np.arange(pos, end_pos), counts, a_state, g)
                W, counts, a_state = out["weights"], out["counts"], float(out["a_state"])
                g += m * T
                wp, ws = out["win_pos"], out["win_step"]
                has = wp >= 0
                wo = shapes[li][1]
                img, mp = np.nonzero(has)
                rows = np.stack([gidx[img], mp, wp[img, mp] // wo, wp[img, mp] % wo,
                                 ws[img, mp]], axis=1).astype(np.int32)
                h["winners"].append(rows)
                h["updates_per_map"] = (np.asarray(h["updates_per_map"]) + has.sum(axis=0)).tolist()
                h["winners_per_image"].extend(has.sum(axis=1).tolist())
                h["spikes_per_image"].extend(out["spikes"].tolist())
                done += m
                h["images_trained"] = done
                bar.update(m)
                wk = W.reshape(kshape)
                snap_now = (end_pos % snap == 0) if orig_snaps is None else bool(np.isin(end_pos, orig_snaps))
                if snap_now or end_pos == n:
                    if snap_now:
                        _snapshot(h, wk, done)
                        bar.set_postfix(C_l=f"{h['convergence'][-1]:.3g}")
                    if layer.stop_below is not None and stdp.convergence(wk) < layer.stop_below:
                        h["stopped_early"] = True
                        stop = True
                weights[li] = wk
                event = {"layer": li, "images_done": done, "images_total": total,
                         "convergence": stdp.convergence(wk)}
                for mon in monitors:
                    if mon(self, event):
                        h["stopped_early"] = True
                        stop = True
                if self.checkpoint_path is not None and (done % ck == 0 or done == total or stop):
                    cursor = {"layer": li, "done": done}
                    loop = {"counts": counts, "a_state": a_state, "global_step": g}
                    if done == total or stop:
                        cursor, loop = {"layer": li + 1, "done": 0}, None
                    _save_checkpoint(self.checkpoint_path, self, layers, weights, history, cursor, loop)
        finally:
            bar.close()
        weights[li] = W.reshape(kshape)

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Save a fitted network to ``path`` (``.npz`` arrays + ``.json`` configuration and
        history beside it, both written atomically; no pickle). Returns the json path."""
        check_fitted(self, "weights_")
        base = pathlib.Path(path)
        if base.suffix in (".npz", ".json"):
            base = base.with_suffix("")
        arrays, meta = _pack(self, self.layers_, self.weights_, self.history_)
        meta["input_shape"] = list(self.input_shape_)
        npz = base.with_suffix(".npz")
        sfio.save_npz_atomic(npz, **arrays)
        meta["npz_sha256"] = _sha256(npz)
        meta["npz_file"] = npz.name
        sfio.write_json_atomic(base.with_suffix(".json"), meta)
        return base.with_suffix(".json")

    @classmethod
    def load(cls, path):
        """Load a network written by :meth:`save`."""
        base = pathlib.Path(path)
        if base.suffix in (".npz", ".json"):
            base = base.with_suffix("")
        meta = sfio.read_json(base.with_suffix(".json"))
        npz = base.with_suffix(".npz")
        if meta.get("npz_sha256") != _sha256(npz):
            raise ValueError(f"{npz} does not match {base.with_suffix('.json')} (interrupted save?).")
        arrays = sfio.load_npz(npz)
        layers, weights, history = _unpack(meta, arrays)
        params = dict(meta["params"])
        net = cls(layers=layers, **params)
        net.layers_ = layers
        net.weights_ = weights
        net.history_ = history
        net.input_shape_ = tuple(meta["input_shape"])
        return net


# ---------------------------------------------------------------------- helpers
def _empty_history(layer):
    return {"snapshot_images": [], "snapshots": [], "convergence": [], "temporal_difference": [],
            "updates_per_map": [0] * layer.maps, "winners_per_image": [], "spikes_per_image": [],
            "winners": [], "images_trained": 0, "stopped_early": False}


def _original_snapshot_ends(n, T, every):
    """Sample counts after which the ``original_steps`` snapshots are taken: the original
    copied the weights after per-epoch step t with ``t mod (T*every - 1) == 0``; the toolkit
    takes that copy at the end of the sample containing step t (the original's copy was
    mid-sample; the difference is at most that sample's remaining updates).

    >>> _original_snapshot_ends(6000, 12, 200)[:3].tolist(), len(_original_snapshot_ends(6000, 12, 200))
    ([1, 200, 400], 31)
    """
    period = T * every - 1
    steps = np.arange(0, n * T, period)
    return np.unique(steps // T + 1)


def _snapshot(h, w, images):
    w = np.array(w, np.float32)
    if h["snapshots"]:
        h["temporal_difference"].append(stdp.temporal_difference(h["snapshots"][-1], w))
    h["snapshots"].append(w)
    h["snapshot_images"].append(int(images))
    h["convergence"].append(stdp.convergence(w))


def _params_of(net):
    return {k: getattr(net, k) for k in ("seed", "feature_values", "feature_layer", "batch_size",
                                         "chunk_size", "checkpoint_every")}


def _config_of(net, layers):
    return json.loads(json.dumps({
        "params": {k: v for k, v in _params_of(net).items() if k not in ("batch_size",)},
        "layers": [{"kind": l.kind, "config": l.get_config(),
                    "weights_sha": None if getattr(l, "weights", None) is None
                    else hashlib.sha256(np.ascontiguousarray(l.weights).tobytes()).hexdigest()}
                   for l in layers]}, default=sfio._json_default))


def _pack(net, layers, weights, history):
    arrays = {}
    meta = {"format": "spykeflow.Network", "format_version": FORMAT_VERSION,
            "params": json.loads(json.dumps(_params_of(net), default=sfio._json_default)),
            "layers": [], "history": {"layers": []}}
    for i, layer in enumerate(layers):
        meta["layers"].append({"kind": layer.kind, "config": layer.get_config()})
        if weights[i] is not None:
            arrays[f"weights_{i}"] = np.asarray(weights[i], np.float32)
        if getattr(layer, "weights", None) is not None:
            arrays[f"init_weights_{i}"] = layer.weights
        h = history["layers"][i]
        if h is None:
            meta["history"]["layers"].append(None)
            continue
        hm = {k: v for k, v in h.items() if k not in ("snapshots", "winners")}
        hm = json.loads(json.dumps(hm, default=sfio._json_default))
        meta["history"]["layers"].append(hm)
        if h["snapshots"]:
            arrays[f"snapshots_{i}"] = np.stack(h["snapshots"])
        win = [np.asarray(r, np.int32).reshape(-1, 5) for r in h["winners"]]
        arrays[f"winners_{i}"] = np.concatenate(win) if win else np.zeros((0, 5), np.int32)
    return arrays, meta


def _unpack(meta, arrays):
    layers, weights, hist = [], [], []
    for i, spec in enumerate(meta["layers"]):
        if spec["kind"] == "conv":
            layers.append(STDPConv.from_config(spec["config"], weights=arrays.get(f"init_weights_{i}")))
        else:
            layers.append(SpikePool.from_config(spec["config"]))
        weights.append(arrays.get(f"weights_{i}"))
        hm = meta["history"]["layers"][i]
        if hm is None:
            hist.append(None)
            continue
        h = dict(hm)
        snaps = arrays.get(f"snapshots_{i}")
        h["snapshots"] = [] if snaps is None else [s for s in snaps]
        h["winners"] = [arrays[f"winners_{i}"]]
        hist.append(h)
    return layers, weights, {"layers": hist}


def _sha256(path):
    d = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            d.update(block)
    return d.hexdigest()


def _save_checkpoint(folder, net, layers, weights, history, cursor, loop):
    """Write ``state-<n>.npz`` then ``state.json`` (the commit point) atomically."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, meta = _pack(net, layers, weights, history)
    meta["config"] = _config_of(net, layers)
    meta["cursor"] = dict(cursor)
    if loop is not None:
        arrays["loop_counts"] = np.asarray(loop["counts"], np.float32)
        meta["loop"] = {"a_state": float(loop["a_state"]), "global_step": int(loop["global_step"])}
    else:
        meta["loop"] = None
    name = f"state-{cursor['layer']}-{cursor['done']}.npz"
    sfio.save_npz_atomic(folder / name, **arrays)
    meta["npz_file"] = name
    meta["npz_sha256"] = _sha256(folder / name)
    old = None
    if (folder / "state.json").exists():
        try:
            old = sfio.read_json(folder / "state.json").get("npz_file")
        except (OSError, ValueError):
            old = None
    sfio.write_json_atomic(folder / "state.json", meta)
    if old and old != name and (folder / old).exists():
        (folder / old).unlink()


def _load_checkpoint(folder):
    folder = pathlib.Path(folder)
    if not (folder / "state.json").exists():
        return None
    meta = sfio.read_json(folder / "state.json")
    npz = folder / meta["npz_file"]
    if _sha256(npz) != meta["npz_sha256"]:
        raise ValueError(f"Checkpoint {npz} is corrupt (hash mismatch); delete {folder}.")
    arrays = sfio.load_npz(npz)
    layers, weights, history = _unpack(meta, arrays)
    for h in history["layers"]:
        if h is not None:
            h["winners"] = [w for w in h["winners"]]
    loop = None
    if meta.get("loop") is not None:
        loop = {"counts": arrays["loop_counts"], "a_state": meta["loop"]["a_state"],
                "global_step": meta["loop"]["global_step"]}
    return {"meta": meta, "weights": weights, "history": history, "loop": loop}
