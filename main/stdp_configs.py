"""The configurations of the STDP image pipelines: digits, mnist, fashion, emnist, facebike
(and the STDP path of nmnist, :mod:`nmnist`). Defaults are the published MNIST settings."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from config import Common

import spykeflow

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
    #: CPU threads of encoding and feature extraction (scikit-learn's n_jobs: -1 all CPUs)
    n_jobs: int = -1
    #: features stage on Dask (main/dask_features.py): a LocalCluster of this many worker
    #: processes, or the scheduler at this address; None: in this process
    dask_workers: int | None = None
    dask_scheduler: str | None = None
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
        """Images -> spike trains (``n_jobs`` threads unless ``encoder`` says otherwise)."""
        return spykeflow.InputLayer(**{"n_jobs": self.n_jobs, **(self.encoder or {})})


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
