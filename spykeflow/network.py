"""``Network``: stacked STDP convolutional and spike-pooling layers.

Layer-wise unsupervised training with :meth:`Network.fit` (each conv layer is trained on the
spikes of the frozen layers below it), feature vectors with :meth:`Network.transform`, and the
time-resolved spikes of any layer with :meth:`Network.spikes_at`. The class orchestrates; the
layers and their training loop live in :mod:`spykeflow.stdp`, the mechanisms in
:mod:`spykeflow.functional`, the bookkeeping around training in :mod:`spykeflow.monitors`.
Between layers, spikes travel as sparse events (:mod:`spykeflow.functional.spike_events`);
dense tensors are built only when asked for.

Spike layout: ``(N, T, H, W, C)`` bool, see :mod:`spykeflow.conventions`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import io
from . import monitors as mon
from ._lazy import is_dask_array, map_samples
from ._parallel import check_n_jobs, numba_thread_count, numba_threads
from ._validation import check_fitted, check_in, check_int, check_spikes, is_int
from .functional import feature_pass, pooling, spike_events
from .functional.integrate_fire import sample_thresholds
from .functional.stdp import init_weights
from .stdp import engine, state, trainer
from .stdp.layers import SpikePool, STDPConv
from .stdp.presets import PRESETS

__all__ = ["Network", "FEATURE_VALUES", "DEVICES"]

logger = logging.getLogger(__name__)

_KIND, _VERSION = "spykeflow.Network", 2

#: What :meth:`Network.transform` can return per feature (``feature_values``).
FEATURE_VALUES = pooling.FEATURE_VALUES + ("max_potential",)
#: Where :meth:`Network.transform` can run (``device``).
DEVICES = ("cpu", "gpu", "auto")


class Network(TransformerMixin, BaseEstimator):
    """Unsupervised STDP feature extractor: Conv1 -> Pool1 -> Conv2 -> Pool2 -> ...

    Parameters
    ----------
    layers : list of STDPConv / SpikePool, or str, optional
        The stack, e.g. ``[STDPConv(30, 5, threshold=15, inhibition_window=11), SpikePool(2)]``,
        or a preset name (see :data:`spykeflow.stdp.presets.PRESETS` and :meth:`preset`). None:
        ``"mnist_conv1"``.
    seed : int
        Seeds weight initialisation and threshold jitter. Same seed => same weights/features.
    feature_values : {"binary", "counts", "first_spike_times", "max_potential"}
        What :meth:`transform` returns per neuron of the feature layer: spiked at least once
        (uint8), spike counts (int16), or the step of the first spike (-1: none; int8).
        ``"max_potential"`` (feature layer must be a conv layer): global max pooling of each
        map's final potential, ``(N, filters)`` float32, as in Kheradpisheh et al. (2018).
    feature_layer : int
        Index into ``layers`` of the layer whose spikes become features (-1: the last).
    batch_size : int
        Samples processed together: per inference batch (:meth:`transform` gives each of
        its ``n_jobs`` threads this many, and the ``"gpu"`` device takes this many per
        call), and per call of the compiled training loop (monitors run between calls).
        Results do not depend on it.
    checkpoint_path : str or path, optional
        Folder for training checkpoints (``<path>/state``, written atomically every
        ``checkpoint_every`` images and at the end of each layer); ``fit(..., resume=True)``
        continues from the latest one.
    checkpoint_every : int
        Checkpoint interval in training images.
    monitors : list, optional
        :class:`spykeflow.monitors.Monitor` objects (e.g. ``ConvergenceStop(0.01)``) or
        callables ``monitor(network, event)`` called after every chunk of training images;
        returning True stops the current layer's training.
    progress : bool
        Show tqdm progress bars with the current C_l.
    n_jobs : int or None
        CPU threads of the compiled (Numba) kernels of :meth:`transform`, :meth:`spikes_at`
        and the inference passes of :meth:`fit`, with scikit-learn's meaning: None is 1
        (unless inside a ``joblib.parallel_config(n_jobs=...)`` block), -1 all CPUs, -2 all
        but one. Samples are independent: results do not depend on it. (STDP training
        itself is sequential: each image sees the weights its predecessors left.)
    device : {"cpu", "gpu", "auto"}
        Where :meth:`transform` runs: ``"cpu"``, the event-driven Numba kernels;
        ``"gpu"``, a batched ``keras.ops`` implementation
        (:mod:`spykeflow.functional.dense_pass`) on the first GPU of the active Keras
        backend, ``batch_size`` samples per call; ``"auto"``, the GPU when the backend sees
        one, else the CPU. The features are bit-identical on both (docs/design_choices.md,
        "Feature extraction on all cores and on a GPU").

    Attributes
    ----------
    weights_ : list of ndarray or None
        Kernels ``(k, k, C_in, filters)`` per layer (None for pooling layers).
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

    def __init__(self, layers=None, seed: int = 0, feature_values: str = "binary",
                 feature_layer: int = -1, batch_size: int = 256, checkpoint_path=None,
                 checkpoint_every: int = 1000, monitors=None, progress: bool = True,
                 n_jobs: int | None = None, device: str = "cpu"):
        self.layers = layers
        self.seed = seed
        self.feature_values = feature_values
        self.feature_layer = feature_layer
        self.batch_size = batch_size
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.monitors = monitors
        self.progress = progress
        self.n_jobs = n_jobs
        self.device = device

    @classmethod
    def preset(cls, name: str, **params) -> Network:
        """A Network with a published layer configuration
        (docs/original/stdp.md#published-configurations): ``"mnist_conv1"`` (the original's
        main script; the default), ``"paper_snippet"``, ``"paper_text"``, ``"mnist_conv2"``
        (Conv2 on Pool1 spikes), ``"net5"``.

        >>> Network.preset("mnist_conv1").layers[0].schedule.double_every
        500
        """
        check_in(name, "name", PRESETS)
        return cls(layers=PRESETS[name](), **params)

    # ------------------------------------------------------------------ validation
    def _layer_list(self) -> list:
        layers = "mnist_conv1" if self.layers is None else self.layers
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

    def _validate_params(self) -> None:
        self._check_runtime_params()
        check_in(self.feature_values, "feature_values", FEATURE_VALUES)
        check_int(self.batch_size, "batch_size")
        check_int(self.checkpoint_every, "checkpoint_every")
        if not is_int(self.seed):
            raise TypeError(f"Expected an integer seed. Received: seed={self.seed!r}.")

    def _check_runtime_params(self) -> None:
        check_n_jobs(self.n_jobs)
        check_in(self.device, "device", DEVICES)

    @staticmethod
    def _shapes(layers, in_shape) -> list:
        """Per-layer output shapes (H, W, C) from the input (H, W, C); validates geometry."""
        shapes = []
        h, w, c = in_shape
        for i, layer in enumerate(layers):
            h, w = h + 2 * layer.padding, w + 2 * layer.padding
            if isinstance(layer, STDPConv):
                k = layer.kernel_size
                if k > h or k > w:
                    raise ValueError(
                        f"Kernel larger than its input: layers[{i}] has kernel_size={k} but "
                        f"receives maps of {h}x{w}. Use a smaller kernel or a larger input.")
                if layer.weights is not None and layer.weights.shape[2] != c:
                    raise ValueError(
                        f"Expected layers[{i}].weights with C_in={c} channels. Received: "
                        f"weights.shape={layer.weights.shape}.")
                h, w, c = h - k + 1, w - k + 1, layer.filters
            else:
                if layer.size > h or layer.size > w:
                    raise ValueError(f"Pool larger than its input: layers[{i}] has size="
                                     f"{layer.size} but receives maps of {h}x{w}.")
                h, w = (h - layer.size) // layer.stride + 1, (w - layer.size) // layer.stride + 1
            shapes.append((h, w, c))
        return shapes

    @staticmethod
    def _check_spikes(spikes, name="spikes"):
        """Rank, emptiness and dtype of the whole array (cheap: the values are checked per
        batch by :meth:`_events`)."""
        arr = spikes if isinstance(spikes, np.ndarray) else np.asarray(spikes)
        check_spikes(arr[:1], name, ndim=5)
        return arr

    @staticmethod
    def _events(batch):
        return spike_events.from_dense(check_spikes(batch, ndim=5))

    def _layer_index(self, layer, n_layers: int) -> int:
        if not is_int(layer):
            raise TypeError(f"Expected an integer layer index. Received: layer={layer!r}.")
        idx = int(layer) + n_layers if layer < 0 else int(layer)
        if not 0 <= idx < n_layers:
            raise ValueError(f"Expected layer in [-{n_layers}, {n_layers - 1}]. "
                             f"Received: layer={layer}.")
        return idx

    def _check_input_shape(self, spikes) -> None:
        if tuple(spikes.shape[1:]) != tuple(self.input_shape_):
            shape = ", ".join(map(str, self.input_shape_))
            raise ValueError(f"Expected spikes of shape (N, {shape}) as in fit. "
                             f"Received: shape={spikes.shape}.")

    # ------------------------------------------------------------------ inference
    def _thresholds(self, layer_index, layer, n, start=0, train=False):
        return sample_thresholds(layer.neuron.threshold, layer.neuron.threshold_jitter,
                                 self.seed, layer_index, n, start, train)

    def _forward(self, ev, layers, weights, upto, start=0, keep=None):
        """Run layers[0..upto] in inference mode on the events ``ev`` of a batch of samples
        (the first is sample ``start``); returns the events of layer ``upto``'s output, or
        with ``keep`` a dict of the events after each layer index in ``keep`` (-1: the input)."""
        kept = {} if keep is None else {i: ev for i in keep if i == -1}
        thetas, conv_i = {}, 0
        for i in range(upto + 1):
            layer = layers[i]
            ev = spike_events.pad(ev, layer.padding)
            # a conv layer sums its input events in their order: keep them sorted for it
            sort = i + 1 < len(layers) and isinstance(layers[i + 1], STDPConv)
            if isinstance(layer, STDPConv):
                thetas[i] = self._thresholds(i, layer, ev.n, start)
                ev = feature_pass.conv_events(ev, weights[i], thetas[i],
                                              strict=layer.neuron.strict_threshold,
                                              inhibition=layer.neuron.lateral_inhibition,
                                              sort=sort)
                conv_i = i
            else:
                ev = pooling.pool_events(
                    ev, thetas[conv_i], mode=layer.resolved_mode(is_last=i == len(layers) - 1),
                    lateral_inhibition=layer.lateral_inhibition, size=layer.size,
                    stride=layer.stride, strict=layers[conv_i].neuron.strict_threshold,
                    sort=sort)
            if keep is not None and i in keep:
                kept[i] = ev
        return ev if keep is None else kept

    def _iter_events(self, spikes, layer, batch_size=None, per_thread=False) -> Iterator:
        """Yield ``(start, events)`` of layer ``layer``'s output per batch (``None``: the
        input spikes themselves). ``per_thread``: batches of ``batch_size`` samples per
        thread, so that each call of a parallel kernel has work for every thread."""
        check_fitted(self, "weights_")
        spikes = self._check_spikes(spikes)
        idx = None if layer is None else self._layer_index(layer, len(self.layers_))
        self._check_input_shape(spikes)
        bs = check_int(batch_size or self.batch_size, "batch_size")
        if per_thread:
            bs *= numba_thread_count(self.n_jobs)
        check_n_jobs(self.n_jobs)
        for start in range(0, spikes.shape[0], bs):
            with numba_threads(self.n_jobs):
                ev = self._events(spikes[start:start + bs])
                if idx is not None:
                    ev = self._forward(ev, self.layers_, self.weights_, idx, start=start)
            yield start, ev

    def iter_spikes_at(self, spikes, layer: int = -1, batch_size: int | None = None) -> Iterator:
        """Yield ``(start, spikes)`` batches of layer ``layer``'s output spikes
        ``(N_b, T, H, W, C)``: the streaming form of :meth:`spikes_at` for large datasets."""
        for start, ev in self._iter_events(spikes, layer, batch_size):
            yield start, spike_events.to_dense(ev)

    def spikes_at(self, spikes, layer: int = -1, batch_size: int | None = None) -> np.ndarray:
        """Time-resolved output spikes ``(N, T, H, W, C)`` bool of layer ``layer``.

        A pooling layer in ``"auto"`` mode returns its ``"transient"`` spikes when it feeds a
        further layer and ``"first_spike"`` spikes when it is the network's last layer.
        """
        return np.concatenate([s for _, s in self.iter_spikes_at(spikes, layer, batch_size)])

    def threshold_crossings(self, spikes, layer: int = 0,
                            batch_size: int | None = None) -> np.ndarray:
        """Threshold crossings of conv layer ``layer`` *before* lateral inhibition
        ``(N, T, H, W, C)`` bool: every neuron at its first step with ``V >= theta`` (the
        debug view "before inhibition" of the paper's figures, counted once per neuron, not on
        every later step as the original did). The layers below run as usual.

        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((2, 3, 8, 8, 2)) < 0.2
        >>> net = Network([STDPConv(4, 3, threshold=2.0, inhibition_window=3)],
        ...               progress=False).fit(x)
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
            with numba_threads(self.n_jobs):
                ev = feature_pass.conv_events(spike_events.pad(ev, conv.padding),
                                              self.weights_[idx], th,
                                              strict=conv.neuron.strict_threshold,
                                              inhibition=False)
            parts.append(spike_events.to_dense(ev))
        return np.concatenate(parts, axis=0)

    def transform(self, spikes, layers=None) -> np.ndarray:
        """Feature vectors ``(N, F)``, flattened map-major
        (docs/original/stdp.md#feature-vectors).

        Parameters
        ----------
        spikes : array (N, T, H, W, C) bool or 0/1
            A ``dask.array.Array`` gives a lazy Dask array of features, computed block by
            block along N with the Network in the graph once (:mod:`spykeflow.dask`).
        layers : list, optional
            Feature sets to concatenate, in order, from one pass through the network: each
            entry a layer index (its spikes as ``feature_values`` says) or a pair
            ``(index, values)`` with ``values`` one of ``FEATURE_VALUES``. None: the
            network's own ``[(feature_layer, feature_values)]``.

        Returns
        -------
        ndarray (N, F)
            ``F = C*P*Q`` per spiking set (3630 for the MNIST Pool1), ``filters`` per
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
        if is_dask_array(spikes):
            return map_samples(self, "transform", spikes, layers=layers)
        self._check_runtime_params()
        sets = self._feature_sets(layers)
        spikes = self._check_spikes(spikes)
        self._check_input_shape(spikes)
        widths, dtypes = self._set_layouts(sets)
        out = np.empty((spikes.shape[0], sum(widths)), np.result_type(*dtypes))
        if self._resolved_device() == "gpu":
            from . import _dense

            _dense.transform_into(self, spikes, sets, out, _dense.gpu_device())
            return out
        keep = {idx - 1 if values == "max_potential" else idx for idx, values in sets}
        # one set (the usual case): its features are written straight into the result rows
        direct = len(sets) == 1 and out.dtype == dtypes[0]
        with numba_threads(self.n_jobs):
            for start, ev in self._iter_events(spikes, None, per_thread=True):
                kept = self._forward(ev, self.layers_, self.weights_, max(keep), start=start,
                                     keep=keep)
                rows, col = out[start:start + ev.n], 0
                for (idx, values), width in zip(sets, widths):
                    if values == "max_potential":
                        conv = self.layers_[idx]
                        part = feature_pass.max_potentials(
                            spike_events.pad(kept[idx - 1], conv.padding), self.weights_[idx])
                    elif direct:
                        spike_events.to_features(kept[idx], values, out=rows)
                        continue
                    else:
                        part = spike_events.to_features(kept[idx], values)
                    rows[:, col:col + width] = part
                    col += width
        return out

    def _set_layouts(self, sets) -> tuple[list, list]:
        """Width and dtype of each feature set of :meth:`transform`."""
        shapes = self._shapes(self.layers_, tuple(self.input_shape_[1:]))
        widths: list[int] = []
        dtypes: list[np.dtype] = []
        for idx, values in sets:
            if values == "max_potential":
                widths.append(self.layers_[idx].filters)
                dtypes.append(np.dtype(np.float32))
            else:
                widths.append(int(np.prod(shapes[idx])))
                dtypes.append(np.dtype(spike_events.FEATURE_DTYPES[values]))
        return widths, dtypes

    def _resolved_device(self) -> str:
        """``"cpu"`` or ``"gpu"`` for :meth:`transform` (``device="auto"`` looks for a GPU)."""
        if self.device == "cpu":
            return "cpu"
        from . import _dense

        if _dense.gpu_device() is not None:
            return "gpu"
        if self.device == "gpu":
            from . import _backend

            raise ValueError(
                f"device='gpu' but the Keras backend {_backend.name()!r} sees no GPU. Use "
                "device='cpu' (or 'auto'), or install the backend's GPU build.")
        return "cpu"

    def _feature_sets(self, layers) -> list:
        """``[(layer index >= 0, values), ...]`` of :meth:`transform`'s ``layers``, validated."""
        n = len(self.layers_)
        if layers is None:
            layers = [(self.feature_layer, self.feature_values)]
        elif not isinstance(layers, (list, tuple)) or not layers:
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

    def spike_statistics(self, spikes, y=None, layer: int = -1) -> dict:
        """Activity of layer ``layer`` in inference: ``spikes_per_image`` (N,) and, when labels
        ``y`` are given, ``spikes_per_map_per_class`` (K, C) raw counts, the per-image
        normalised version (divided by the class frequency) and ``classes`` (sorted labels;
        the rows follow them, docs/original/diagnostics.md)."""
        spikes_per_image, per_map = [], []
        for _, ev in self._iter_events(spikes, layer):
            c = ev.shape[-1]
            img = np.repeat(np.arange(ev.n), np.diff(ev.ptr))
            spikes_per_image.append(np.diff(ev.ptr))
            per_map.append(np.bincount(img * c + ev.idx % c, minlength=ev.n * c).reshape(ev.n, c))
        out: dict[str, Any] = {"spikes_per_image": np.concatenate(spikes_per_image)}
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
    def _saved_params(self) -> dict:
        return {k: getattr(self, k) for k in ("seed", "feature_values", "feature_layer",
                                              "batch_size", "checkpoint_every")}

    def _pack(self, layers, weights, history):
        return state.pack(self._saved_params(), layers, weights, history)

    def _pack_checkpoint(self, layers, weights, history):
        metadata, arrays = self._pack(layers, weights, history)
        metadata["config"] = self._fingerprint(layers)
        return metadata, arrays

    def _fingerprint(self, layers) -> dict:
        params = {k: v for k, v in self._saved_params().items() if k != "batch_size"}
        return state.fingerprint(params, layers)

    def fit(self, spikes, y=None, resume: bool = False) -> Network:
        """Train the conv layers one after the other, unsupervised; returns ``self``.

        Parameters
        ----------
        spikes : array (N, T, H, W, C) bool or 0/1
            Training spike trains (e.g. from :class:`spykeflow.InputLayer`). Conv layer ``i``
            uses the first ``layers[i].training.n_images`` samples (all if None) for
            ``epochs`` passes.
        y : ignored
            Present for the scikit-learn API.
        resume : bool
            Continue from the latest checkpoint in ``checkpoint_path`` (same data and seed
            give the same final weights as an uninterrupted run).
        """
        self._validate_params()
        spikes = self._check_spikes(spikes)
        layers = self._layer_list()
        in_shape = tuple(spikes.shape[2:])
        shapes = self._shapes(layers, in_shape)
        extra = [mon.as_monitor(m) for m in (self.monitors or [])]
        checkpoint = self._resume_point(layers) if resume else None

        if checkpoint is None:
            weights, in_c = [], in_shape[2]
            for i, layer in enumerate(layers):
                if isinstance(layer, STDPConv):
                    if layer.weights is not None:
                        weights.append(layer.weights.copy())
                    else:
                        rng = np.random.default_rng([int(self.seed), i, 0])
                        weights.append(init_weights(
                            (layer.kernel_size, layer.kernel_size, in_c, layer.filters),
                            layer.init.mean, layer.init.std, rng))
                else:
                    weights.append(None)
                in_c = shapes[i][2]
            history = {"layers": [mon.empty_layer_history(layer.filters)
                                  if isinstance(layer, STDPConv) else None for layer in layers]}
            cursor, loop = {"layer": 0, "done": 0}, None
        else:
            meta, arrays = checkpoint
            _, weights, history = state.unpack(meta, arrays)
            cursor, loop = meta["cursor"], None
            if meta["loop"] is not None:
                loop = {"counts": arrays["loop_counts"], **meta["loop"]}

        self.layers_ = layers
        self.input_shape_ = tuple(spikes.shape[1:])
        time_steps = int(spikes.shape[1])
        monitors = [mon.TrainingHistory(), mon.WeightSnapshots(time_steps), *extra]
        if self.checkpoint_path is not None:
            monitors.append(mon.Checkpoint(self.checkpoint_path, self.checkpoint_every,
                                           self._pack_checkpoint))
        with numba_threads(self.n_jobs):    # the input passes; training itself is serial
            for li, layer in enumerate(layers):
                if not isinstance(layer, STDPConv) or li < cursor["layer"]:
                    continue
                resumed = li == cursor["layer"] and loop is not None
                self._train_layer(li, spikes, layers, shapes, weights, history, monitors,
                                  cursor["done"] if resumed else 0, loop if resumed else None)
        self.weights_ = weights
        self.history_ = history
        return self

    def _resume_point(self, layers):
        """The checkpoint to continue from (None: there is none yet)."""
        if self.checkpoint_path is None:
            raise ValueError("resume=True needs checkpoint_path. Received: checkpoint_path=None.")
        found = mon.Checkpoint.load(self.checkpoint_path)
        if found is None:
            return None
        meta, _ = found
        if meta["config"] != self._fingerprint(layers):
            raise ValueError("The checkpoint in checkpoint_path was written by a network "
                             "with other parameters; delete it or use resume=False.")
        logger.info("resuming from checkpoint at layer %d, image %d",
                    meta["cursor"]["layer"], meta["cursor"]["done"])
        return found

    def _train_layer(self, li, spikes, layers, shapes, weights, history, monitors, start, loop):
        layer = layers[li]
        h_in, w_in, c_in = tuple(spikes.shape[2:]) if li == 0 else shapes[li - 1]
        pad = layer.padding
        in_shape = (h_in + 2 * pad, w_in + 2 * pad, c_in)
        n = spikes.shape[0] if layer.training.n_images is None else min(
            layer.training.n_images, spikes.shape[0])
        total = n * layer.training.epochs
        if loop is None:
            loop = {"counts": np.zeros(layer.filters, np.float32),
                    "a_state": float(np.float32(layer.rule.a_plus)), "global_step": 0}

        def input_events(a, b):
            ev = self._events(spikes[a:b])
            if li > 0:
                ev = self._forward(ev, layers, weights, li - 1, start=a)
            return spike_events.pad(ev, pad)

        train_state = mon.TrainingState(
            network=self, layer_index=li, layers=layers, weights=weights, history=history,
            images_per_epoch=n, images_total=total, images_done=start, resumed=start > 0,
            loop=loop)
        trainer.train_layer(train_state, engine.settings_for(layer, in_shape, spikes.shape[1]),
                            input_events, self._thresholds(li, layer, total, train=True),
                            monitors, self.batch_size, self.progress)

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Any:
        """Save a fitted network to the folder ``path`` (:func:`spykeflow.io.save_folder`:
        ``manifest.json`` + ``arrays.npz``, written atomically, no pickle); returns the path."""
        check_fitted(self, "weights_")
        metadata, arrays = self._pack(self.layers_, self.weights_, self.history_)
        metadata["input_shape"] = list(self.input_shape_)
        return io.save_folder(path, _KIND, _VERSION, metadata, arrays)

    @classmethod
    def load(cls, path) -> Network:
        """Load a network written by :meth:`save`."""
        metadata, arrays = io.load_folder(path, _KIND, _VERSION)
        layers, weights, history = state.unpack(metadata, arrays)
        net = cls(layers=layers, **metadata["params"])
        net.layers_ = layers
        net.weights_ = weights
        net.history_ = history
        net.input_shape_ = tuple(metadata["input_shape"])
        return net
