"""The models of Samadzadeh et al.'s Table 1 and the CPU protocol we reproduce it with.

Configuration of the paper protocol, not library code: shared by ``main/main.py sequences``
(:mod:`sequences`) and ``experiments/sequences_table.py`` so that a table cell and a pipeline
run of the same model and sequence train the same way.

``MODELS`` maps the short names to ``(backend, parameters at the paper's widths, learning rate,
batch size)`` -- the paper's section 5.3: Adam, lr 1e-3 (5e-4 for the ConvSNN), batch 100 (20 for
the SNNs), MSE loss (cross-entropy for the ConvLSTM). ``CPU_PROTOCOL`` is what fits a 2-core CPU
(docs/design_choices.md, STS section): 10,000 / 2,000 clips, 8 epochs, learning rate x0.3 after
epoch 5, ANN baselines at width 32 (ConvLSTM 8), the ConvSNN with 5x5 kernels by plain BPTT at
lr 2e-3, STS-ResNet at base width 8 by plain BPTT with a Gaussian surrogate of sigma 0.5 (with
the paper's 1/6 its 18 spiking layers stayed at chance; STS pre-training reached 59 % against
93 %).

>>> classifier_kwargs("convsnn")["backend"], classifier_kwargs("convsnn")["learning_rate"]
('sts_convsnn', 0.002)
>>> classifier_kwargs("cnn")["backend_params"]["filters"]
[32, 32]
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["MODELS", "LABELS", "PAPER", "CPU_PROTOCOL", "resolve", "classifier_kwargs"]

MODELS = {
    "convsnn": ("sts_convsnn", {"filters": [48, 48]}, 5e-4, 20),
    "resnet": ("sts_resnet", {"base_width": 16}, 1e-3, 20),
    "cnn": ("seq_cnn", {"filters": [256, 256], "loss": "mse"}, 1e-3, 100),
    "cnn_lstm": ("seq_cnn_lstm", {"filters": [256, 256], "lstm_units": 256, "loss": "mse"}, 1e-3,
                 100),
    "convlstm": ("seq_convlstm", {"filters": [256, 256], "loss": "crossentropy"}, 1e-3, 100),
    "c3d": ("seq_c3d", {"filters": [256, 256], "loss": "mse"}, 1e-3, 100),
}

#: Display names of the models (the paper's Table 1).
LABELS = {"convsnn": "ConvSNN", "resnet": "STS-ResNet", "cnn": "CNN", "cnn_lstm": "CNN+LSTM",
          "convlstm": "ConvLSTM", "c3d": "C3D"}

#: The paper's Table 1 (test accuracy in %, seq1..seq5).
PAPER = {
    "cnn": [98.89, 98.2, 98.8, 98.27, 20.1],
    "cnn_lstm": [67.74, 98.93, 98.96, 94.88, 91.2],
    "convlstm": [99.11, 98.9, 30.0, 97.43, 40.7],
    "c3d": [98.49, 98.32, 99.17, 97.73, 64.0],
    "convsnn": [98.6, 98.4, 99.36, 98.8, 89.5],
    "resnet": [99.26, 99.2, 99.43, 99.1, 92.7],
}

#: Settings of the CPU reproduction (1 Dec 2026). ``snn_surrogate`` is the paper's N(0.5, 1/6)
#: read as a standard deviation of 1/6.
CPU_PROTOCOL: Mapping[str, Any] = MappingProxyType(dict(
    n_train=10000, n_test=2000, epochs=8,
    lr_schedule="step", lr_schedule_params={"step_size": 5, "gamma": 0.3},
    ann_width=32, convlstm_width=8, snn_width=48, snn_kernel=5, resnet_width=8,
    snn_lr=2e-3, resnet_lr=1e-3, switch_epoch=0, resnet_switch_epoch=0,
    snn_surrogate={"name": "gaussian", "sigma": 1 / 6},
    resnet_surrogate={"name": "gaussian", "sigma": 0.5},
))

_ANN = ("cnn", "cnn_lstm", "convlstm", "c3d")


def resolve(model: str) -> tuple[str, tuple]:
    """``(short name, (backend, params, lr, batch))`` for a short name or a backend name."""
    if model in MODELS:
        return model, MODELS[model]
    for short, spec in MODELS.items():
        if spec[0] == model:
            return short, spec
    raise ValueError(f"Unknown sequence model {model!r}. Expected one of {sorted(MODELS)} "
                     f"or a backend name {[s[0] for s in MODELS.values()]}.")


def classifier_kwargs(model: str, protocol: str = "cpu", epochs: int | None = None,
                      switch_epoch: int | None = None, **overrides: Any) -> dict:
    """Keyword arguments of :class:`spykeflow.Classifier` for ``model``.

    ``protocol="cpu"`` applies :data:`CPU_PROTOCOL` (reduced widths, schedule, learning rates);
    ``"paper"`` the paper's widths and learning rates with a constant rate. ``switch_epoch``
    overrides the STS models' pre-training epochs (None: the protocol's; for ``"paper"``, half
    of the epochs). ``overrides`` replace entries of :data:`CPU_PROTOCOL` (``protocol="cpu"``
    only), e.g. ``snn_lr=1e-3`` or ``lr_schedule=None``.
    """
    if protocol not in ("cpu", "paper"):
        raise ValueError(f"Expected protocol 'cpu' or 'paper'. Received: protocol={protocol!r}.")
    unknown = set(overrides) - set(CPU_PROTOCOL)
    if unknown or (overrides and protocol != "cpu"):
        raise ValueError(f"Protocol overrides apply to protocol='cpu' and are keys of "
                         f"CPU_PROTOCOL {sorted(CPU_PROTOCOL)}. Received: {sorted(overrides)} "
                         f"with protocol={protocol!r}.")
    short, (backend, params, lr, batch) = resolve(model)
    params = {k: (list(v) if isinstance(v, list) else v) for k, v in params.items()}
    cpu = {**CPU_PROTOCOL, **overrides}
    kwargs = dict(backend=backend, batch_size=batch, learning_rate=lr,
                  epochs=int(epochs or cpu["epochs"]))
    if protocol == "cpu":
        kwargs["lr_schedule"] = cpu["lr_schedule"]
        kwargs["lr_schedule_params"] = (dict(cpu["lr_schedule_params"])
                                        if cpu["lr_schedule_params"] is not None else None)
        if short in _ANN:
            width = cpu["convlstm_width"] if short == "convlstm" else cpu["ann_width"]
            params["filters"] = [width, width]
            if short == "cnn_lstm":
                params["lstm_units"] = width
        elif short == "convsnn":
            kwargs["learning_rate"] = cpu["snn_lr"]
            params["filters"] = [cpu["snn_width"]] * 2
            params["kernel_size"] = cpu["snn_kernel"]
            params["switch_epoch"] = cpu["switch_epoch"]
            params["surrogate"] = dict(cpu["snn_surrogate"])
        else:
            kwargs["learning_rate"] = cpu["resnet_lr"]
            params["base_width"] = cpu["resnet_width"]
            params["switch_epoch"] = cpu["resnet_switch_epoch"]
            params["surrogate"] = dict(cpu["resnet_surrogate"])
    if switch_epoch is not None and short in ("convsnn", "resnet"):
        params["switch_epoch"] = int(switch_epoch)
    kwargs["backend_params"] = params
    return kwargs
