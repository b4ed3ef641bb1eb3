"""The STDP image pipelines: digits, mnist, fashion, emnist and facebike (and nmnist's STDP path).

Stages: ``stdp`` (layer-wise STDP training of a :class:`spykeflow.Network` on encoded images),
``features`` (the Network's features of the training and test images), ``readout`` (a
:class:`spykeflow.Classifier` on the features), ``statistics`` (spikes per layer on test
images) and ``plots`` (:mod:`stdp_plots`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import api
import numpy as np
import readout
import stdp_plots
from config import Common
from run import Run, class_names, jsonable, limit

from spykeflow import io

# --quick settings shared by the 28x28 image pipelines (mnist, fashion, emnist).
QUICK_28X28 = {"stdp_images": 1000, "lr_double_every": 150, "train_limit": 5000,
               "test_limit": 1000, "backend": "binary", "hidden": 500, "epochs": 10,
               "batch_size": 32, "learning_rate": 1e-3}


@dataclasses.dataclass(frozen=True)
class StdpConfig(Common):
    """Settings of an STDP image pipeline (defaults: the published MNIST ones)."""

    dataset: str = "mnist"
    stdp_split: str = "train"
    #: Network preset (``spykeflow.Network.preset``), unless ``layers_spec`` lists the layers
    preset: str = "mnist_conv1"
    layers_spec: tuple[dict, ...] | None = None
    layers: int = 1
    #: per conv layer (one value: every layer); None: the preset's
    stdp_images: int | tuple[int, ...] | None = None
    stdp_epochs: int | None = None
    snapshot_every: int | None = None
    lr_double_every: int | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    # the published readout model (binary hidden units, surrogate 1; 1000 / 1500 hidden),
    # trained as readout.FAST_READOUT says unless given; "reference" = the original's SGD
    backend: str = "binary"
    surrogate: str | None = "sg1"
    hidden: int | tuple[int, ...] | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    lr_schedule: str | None = None
    lr_schedule_params: dict | None = None
    encode_batch: int = 2000
    network_batch: int = 256
    checkpoint_every: int = 1000
    stat_samples: int = 1000
    debug_sample: int = 0
    zoom: tuple[int, int] = (1000, 1020)
    gif_fps: int = 4
    #: options of ``spykeflow.datasets.load`` and of the image encoder (``InputLayer``)
    load_options: dict | None = None
    encoder: dict | None = None
    #: readout features: None = the Network's own (binary spikes of the last layer); else
    #: ``Network.transform``'s ``layers``: ``(layer index, values)`` pairs, concatenated
    features: tuple[tuple[int, str], ...] | None = None
    #: linear SVM with C from ``svm_cv``-fold cross-validation (None: no cross-validation)
    svm_cv: int | None = None
    svm_c_grid: tuple[float, ...] | None = None
    svm_max_iter: int | None = None
    standardise: bool = False

    QUICK: ClassVar = QUICK_28X28
    #: whether ``--layers`` picks the one- or two-layer MNIST preset
    LAYERS_OPTION: ClassVar[bool] = True

    def network_preset(self) -> str:
        if self.LAYERS_OPTION and self.preset in ("mnist_conv1", "mnist_conv2"):
            return {1: "mnist_conv1", 2: "mnist_conv2"}[int(self.layers)]
        return self.preset

    def make_encoder(self) -> Any:
        """Images -> spike trains."""
        return api.image_encoder(self.encoder)


@dataclasses.dataclass(frozen=True)
class DigitsConfig(StdpConfig):
    dataset: str = "digits"
    hidden: int | tuple[int, ...] | None = 500
    epochs: int | None = 15
    batch_size: int | None = 32
    learning_rate: float | None = 1e-3
    lr_schedule: str | None = "none"
    snapshot_every: int | None = 100
    lr_double_every: int | None = 150  # only 1438 training images
    checkpoint_every: int = 200
    stat_samples: int = 359
    zoom: tuple[int, int] = (300, 320)
    network_batch: int = 512

    QUICK: ClassVar = {"stdp_images": 300, "train_limit": 600, "test_limit": 200, "hidden": 200,
                       "epochs": 5, "snapshot_every": 50, "stat_samples": 200,
                       "lr_double_every": 40}
    LAYERS_OPTION: ClassVar[bool] = False


@dataclasses.dataclass(frozen=True)
class MnistConfig(StdpConfig):
    dataset: str = "mnist"


@dataclasses.dataclass(frozen=True)
class FashionConfig(StdpConfig):
    dataset: str = "fashion"


@dataclasses.dataclass(frozen=True)
class EmnistConfig(StdpConfig):
    dataset: str = "emnist"

    QUICK: ClassVar = {**QUICK_28X28, "train_limit": 3000, "test_limit": 304}


def _conv(filters: int, kernel: int, threshold: float, window: int) -> dict:
    return {"type": "conv", "filters": filters, "kernel_size": kernel, "threshold": threshold,
            "inhibition_window": window, "padding": kernel // 2, "a_plus": 0.004,
            "a_minus_ratio": 0.75, "homeostasis": False, "lr_double_every": 50,
            "snapshot_every": 50}


#: Kheradpisheh et al. (2018) faces/motorbikes network on 160x250 images, the paper's geometry
#: with same-size ("same" padded) convolutions and pools: Conv1 4 maps 5x5 (threshold 10),
#: Pool1 7x7 stride 6, Conv2 20 maps 17x17 (threshold 60), Pool2 5x5 stride 5, Conv3 10 maps
#: 5x5 (threshold 2). a+ = 0.004, a- = 0.003, no homeostasis (the paper has none), A+ doubled
#: every 50 images (capped at 0.15). STDP competition windows 5 / 17 / 7 (not given in the
#: paper): with 5x5 in Conv2, 18 of the 20 maps learned on every image and collapsed to short
#: horizontal bars; 17x17 leaves ~7 winners per image and more varied contour features.
#: Epochs 3 / 4 / 4 over the 474 LearningSet images (C_l < 1e-3 at the end of every layer).
FACEBIKE_LAYERS = (
    {**_conv(4, 5, 10.0, 5), "epochs": 3},
    {"type": "pool", "size": 7, "stride": 6, "padding": 3},
    {**_conv(20, 17, 60.0, 17), "epochs": 4},
    {"type": "pool", "size": 5, "stride": 5, "padding": 2},
    {**_conv(10, 5, 2.0, 7), "epochs": 4},
)


@dataclasses.dataclass(frozen=True)
class FacebikeConfig(StdpConfig):
    dataset: str = "caltech_face_motor"
    stdp_split: str = "learn"
    layers_spec: tuple[dict, ...] | None = FACEBIKE_LAYERS
    stdp_images: int | tuple[int, ...] | None = (474, 474, 474)
    backend: str = "svm"
    encode_batch: int = 100
    network_batch: int = 32
    checkpoint_every: int = 100
    stat_samples: int = 396
    zoom: tuple[int, int] = (200, 220)
    load_options: dict | None = dataclasses.field(default_factory=lambda: {"size": (160, 250)})
    encoder: dict | None = dataclasses.field(
        default_factory=lambda: {"resize_to": None, "local_norm_window": None})
    # binary Pool1 and Pool2 spikes and the paper's global max of Conv3 potentials
    features: tuple[tuple[int, str], ...] | None = ((1, "binary"), (3, "binary"),
                                                    (4, "max_potential"))
    svm_cv: int | None = 5
    svm_c_grid: tuple[float, ...] | None = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
    svm_max_iter: int | None = 20000
    standardise: bool = True

    QUICK: ClassVar = {"stdp_images": (100, 100, 100), "stdp_epochs": 1}
    LAYERS_OPTION: ClassVar[bool] = False


def network_layers(config: StdpConfig) -> list:
    """The layer list of the run: the preset or ``layers_spec``, with the STDP options applied."""
    if config.layers_spec:
        layers = []
        for item in config.layers_spec:
            options = {k: v for k, v in item.items() if k != "type"}
            layers.append(api.stdp_conv(**options) if item["type"] == "conv"
                          else api.spike_pool(**options))
    else:
        layers = api.preset_layers(config.network_preset())
    images = config.stdp_images
    images = list(images) if isinstance(images, tuple) else [images] if images else []
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, api.STDPConv)]
    for k, i in enumerate(convs):
        options: dict[str, Any] = {}
        if images:
            options["n_images"] = int(images[min(k, len(images) - 1)])
        for name in ("stdp_epochs", "lr_double_every", "snapshot_every"):
            if getattr(config, name):
                options[name.removeprefix("stdp_")] = int(getattr(config, name))
        if options:
            layers[i] = api.with_options(layers[i], **options)
    return layers


def transform(net: Any, spikes: np.ndarray, features: tuple | None) -> np.ndarray:
    """Feature vectors of ``spikes``: uint8 when every set is binary, float32 otherwise."""
    if not features:
        return net.transform(spikes).astype(np.uint8)
    out = net.transform(spikes, layers=[tuple(f) for f in features])
    binary = all(values == "binary" for _, values in features)
    return out.astype(np.uint8 if binary else np.float32)


def body(run: Run, config: StdpConfig) -> dict:
    """encode -> STDP layer-wise training -> features -> readout -> statistics -> plots."""
    dataset = config.dataset
    load = dict(config.load_options or {})
    x_stdp, _ = run.load(dataset, config.stdp_split, config.data_root, **load)
    x_train, y_train = limit(*run.load(dataset, "train", config.data_root, **load),
                             config.train_limit)
    x_test, y_test = limit(*run.load(dataset, "test", config.data_root, **load),
                           config.test_limit)
    encoder = config.make_encoder()
    net_file = run.path("network.json")

    def stdp():
        layers = network_layers(config)
        needed = max((layer.n_images or len(x_stdp)) for layer in layers
                     if isinstance(layer, api.STDPConv))
        spikes = encoder.transform(x_stdp[:min(needed, len(x_stdp))])
        ckpt = run.path("checkpoint")
        net = api.network(layers, seed=config.seed, batch_size=int(config.network_batch),
                          progress=run.progress, checkpoint_path=str(ckpt),
                          checkpoint_every=int(config.checkpoint_every))
        net.fit(spikes, resume=ckpt.exists())
        api.save_network(net, net_file)
        per_image = spikes.sum(axis=(1, 2, 3))
        hist = [h for h in net.history_["layers"] if h is not None]
        return {
            "stdp_images": [int(h["images_trained"]) for h in hist],
            "input_spikes_per_image": {"on": float(per_image[:, 0].mean()),
                                       "off": float(per_image[:, 1].mean())},
            "final_convergence": [float(h["convergence"][-1]) if len(h["convergence"]) else None
                                  for h in hist],
            "winners_per_image": [float(np.mean(h["winners_per_image"])) if
                                  len(h["winners_per_image"]) else 0.0 for h in hist],
        }

    stdp_result = run.stage("stdp", stdp)
    net = api.load_network(net_file)
    feat_result = run.stage("features", lambda: _features(run, config, net, encoder,
                                                          x_train, x_test))
    f_train, f_test = _load_features(run.path("features.npz"))
    readout_result = run.stage("readout", lambda: _readout(run, config, f_train, y_train,
                                                           f_test, y_test))
    n_stat = min(int(config.stat_samples), len(x_test))
    spikes_test = encoder.transform(x_test[:n_stat])
    stat_result = run.stage("statistics", lambda: _statistics(net, spikes_test, y_test[:n_stat]))
    if not config.no_plots:
        run.stage("plots", lambda: stdp_plots.plot_all(run, config, net, spikes_test, x_stdp,
                                                       y_test[:n_stat], encoder))
    return {
        "pipeline": config.pipeline,
        "dataset": dataset,
        **{k: readout_result[k] for k in ("test_accuracy", "train_accuracy",
                                          "per_class_accuracy", "confusion_matrix", "readout")},
        **{k: feat_result[k] for k in ("n_train", "n_test", "n_features")},
        "spike_statistics": {
            "stdp_training": {k: stdp_result[k] for k in
                              ("input_spikes_per_image", "winners_per_image", "stdp_images",
                               "final_convergence")},
            "active_features_per_image_test": feat_result["active_features_per_image_test"],
            "test": {k: v for k, v in stat_result.items() if k != "seconds"},
        },
        "files": sorted(p.name for p in run.dir.iterdir() if p.is_file()),
    }


def _features(run, config, net, encoder, x_train, x_test) -> dict:
    """Features of the training and test images, saved to ``features.npz``."""
    batch = int(config.encode_batch)
    out = {}
    for name, x in (("train", x_train), ("test", x_test)):
        parts = []
        for s in run.bar(range(0, len(x), batch), total=-(-len(x) // batch),
                         desc=f"features {name}"):
            parts.append(transform(net, encoder.transform(x[s:s + batch]), config.features))
        out[name] = np.concatenate(parts)
    n_features = np.int64(out["train"].shape[1])
    if out["train"].dtype == np.uint8:  # 0/1 features: bit-packed on disk
        io.save_npz_atomic(run.path("features.npz"), X_train=np.packbits(out["train"], axis=1),
                           X_test=np.packbits(out["test"], axis=1), n_features=n_features)
    else:  # float features (max_potential): stored as they are
        io.save_npz_atomic(run.path("features.npz"), X_train=out["train"], X_test=out["test"],
                           n_features=n_features)
    return {"n_features": int(n_features),
            "active_features_per_image_test": float((out["test"] != 0).sum(1).mean()),
            "n_train": int(len(x_train)), "n_test": int(len(x_test))}


def _load_features(path) -> tuple[np.ndarray, np.ndarray]:
    arrays = io.load_npz(path)
    n = int(arrays["n_features"])
    if arrays["X_train"].dtype == np.uint8:
        return (np.unpackbits(arrays["X_train"], axis=1, count=n),
                np.unpackbits(arrays["X_test"], axis=1, count=n))
    return arrays["X_train"], arrays["X_test"]


def _readout(run, config, f_train, y_train, f_test, y_test) -> dict:
    """Train the readout on the training features; test it; save model and predictions."""
    cv_result = None
    if config.svm_cv:  # facebike: C by cross-validation on the training split
        clf, scaler, cv_result = readout.svm_by_cross_validation(config, f_train, y_train,
                                                                 run.progress)
        io.save_npz_atomic(run.path("feature_scaler.npz"), **scaler)
        f_train = (f_train - scaler["mean"]) / scaler["scale"]
        f_test = (f_test - scaler["mean"]) / scaler["scale"]
    else:
        clf = readout.make_classifier(config, run.progress)
        clf.fit(f_train, y_train)
    clf.save(run.path("classifier"))
    ev = clf.evaluate(f_test, y_test)
    io.save_npz_atomic(run.path("predictions.npz"), y_test=y_test, y_pred=clf.predict(f_test))
    names = class_names(config.dataset, ev["classes"])
    result = {
        "test_accuracy": float(ev["accuracy"]),
        "train_accuracy": float(np.mean(clf.predict(f_train) == y_train)),
        "per_class_accuracy": {n: float(a) for n, a in zip(names, ev["per_class_accuracy"])},
        "confusion_matrix": ev["confusion_matrix"],
        "classes": ev["classes"],
        "readout": {"backend": clf.backend, "backend_params": clf.backend_params,
                    "epochs": clf.epochs, "batch_size": clf.batch_size},
    }
    if cv_result is not None:
        result["readout"]["cross_validation"] = cv_result
    hist = getattr(clf, "history_", None) or {}
    if hist.get("loss"):
        result["readout"]["history"] = {k: hist[k] for k in
                                        ("loss", "accuracy", "val_loss", "val_accuracy")
                                        if k in hist}
    return jsonable(result)


def _statistics(net, spikes_test, y_test) -> dict:
    out = {"samples": len(spikes_test),
           "input_spikes_per_image": float(spikes_test.sum() / len(spikes_test))}
    for i, name in enumerate(stdp_plots.layer_names(net)):
        stats = net.spike_statistics(spikes_test, y_test, layer=i)
        per_class = stats["spikes_per_map_per_class_normalised"]
        out[name] = {
            "spikes_per_image_mean": float(stats["spikes_per_image"].mean()),
            "spikes_per_image_max": int(stats["spikes_per_image"].max()),
            "silent_images": int((stats["spikes_per_image"] == 0).sum()),
            "silent_maps": int((per_class.sum(0) == 0).sum()),
        }
    return out
