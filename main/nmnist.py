"""The ``nmnist`` pipeline: N-MNIST event recordings -> spike frames -> STDP features and a
readout (default), or ``--backend convsnn``: a BPTT ConvSNN with quantisation-aware training on
the frames (Safa et al.)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import stdp_images
from evaluate import fit_evaluate
from run import Run, limit
from stdp_configs import StdpConfig

import spykeflow


@dataclasses.dataclass(frozen=True)
class NmnistConfig(StdpConfig):
    dataset: str = "nmnist"
    backend: str = "svm"
    #: time bins per recording
    time_steps: int = 10
    #: weight bits of the ConvSNN's quantisation-aware training (0: float)
    bits: int = 4
    #: binning of the events (``window_us`` None: each recording's own span)
    window_us: int | None = None
    #: a tonic transform applied to each recording before binning, e.g.
    #: ``"Denoise(filter_time=10000)"`` (needs the optional package tonic)
    event_transform: str | None = None
    first_spike_only: bool = True
    stdp_images: int | tuple[int, ...] | None = 1000
    encode_batch: int = 500
    stat_samples: int = 100
    zoom: tuple[int, int] = (50, 70)
    checkpoint_every: int = 200
    snapshot_every: int | None = 100
    # the ConvSNN's training (--backend convsnn)
    epochs: int | None = 15
    batch_size: int | None = 32
    learning_rate: float | None = 2e-3
    hidden: int | tuple[int, ...] | None = 128

    QUICK: ClassVar = {"stdp_images": 200, "train_limit": 300, "test_limit": 100, "epochs": 3}
    LAYERS_OPTION: ClassVar[bool] = False

    def check(self) -> None:
        """Build the event transform once before the run: a bad spec or a missing tonic stops
        it here (``ValueError`` / ``ImportError``)."""
        self.make_event_transform()

    def make_event_transform(self) -> Any:
        """The tonic transform of ``event_transform`` (None without one)."""
        if self.event_transform is None:
            return None
        return spykeflow.tonic_plugin.tonic_transform(self.event_transform)

    def make_encoder(self) -> Any:
        """Event recordings -> spike frames."""
        return spykeflow.EventEncoder(time_steps=self.time_steps, window_us=self.window_us,
                                      first_spike_only=self.first_spike_only,
                                      event_transform=self.make_event_transform())


def body(run: Run, config: NmnistConfig) -> dict:
    """The STDP pipeline, or the ConvSNN trained by BPTT on the event frames."""
    if config.backend != "convsnn":
        return stdp_images.body(run, config)
    x_train, y_train = limit(*run.load("nmnist", "train", config.data_root), config.train_limit)
    x_test, y_test = limit(*run.load("nmnist", "test", config.data_root), config.test_limit)
    encoder = spykeflow.EventEncoder(time_steps=config.time_steps,
                                     event_transform=config.make_event_transform())
    frames = {name: encoder.transform(x).astype(np.float32)
              for name, x in (("train", x_train), ("test", x_test))}
    bits = config.bits or None
    hidden = [int(h) for h in np.atleast_1d(config.hidden or 128)]
    clf = spykeflow.Classifier(
        "convsnn", backend_params={"bits": bits, "readout": "count", "filters": [12],
                                   "hidden": hidden},
        epochs=config.epochs, batch_size=config.batch_size, learning_rate=config.learning_rate,
        validation_split=0.0, seed=config.seed, progress=run.progress)

    def float_accuracy(model):
        if bits is None:
            return {}
        pred = model.predict(frames["test"], quantized=False)
        return {"test_accuracy_latent_float": float(np.mean(pred == y_test)), "bits": bits}

    result, trained = fit_evaluate(run, config, clf,
                                   (frames["train"], y_train, frames["test"], y_test), "nmnist",
                                   extra=float_accuracy)
    return {"pipeline": "nmnist", "dataset": "nmnist", "backend": "convsnn", **result,
            "n_train": int(len(y_train)), "n_test": int(len(y_test)),
            "input_spikes_per_sample": float(frames["test"].sum() / len(y_test)),
            "readout": {"history": trained.get("history")}}
