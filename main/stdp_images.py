"""The STDP image pipelines: digits, mnist, fashion, emnist and facebike (and nmnist's STDP path).

Stages: ``stdp`` (layer-wise STDP training of a :class:`spykeflow.Network` on encoded images),
``features`` (the Network's features of the training and test images), ``readout`` (a
:class:`spykeflow.Classifier` on the features), ``statistics`` (spikes per layer on test
images) and ``plots`` (:mod:`stdp_plots`).
"""

from __future__ import annotations

from typing import Any

import dask_features
import numpy as np
import readout
import stdp_plots
from run import Run, class_names, jsonable
from stdp_configs import StdpConfig

import spykeflow
from spykeflow import io


def network_layers(config: StdpConfig) -> list:
    """The layer list of the run: the preset or ``layers_spec``, with the STDP options applied."""
    if config.layers_spec:
        layers = []
        for item in config.layers_spec:
            spec = {k: v for k, v in item.items() if k != "type"}
            layers.append(spykeflow.STDPConv(**spec) if item["type"] == "conv"
                          else spykeflow.SpikePool(**spec))
    else:
        layers = list(spykeflow.Network.preset(config.network_preset()).layers)
    given = config.stdp_images
    images = list(given) if isinstance(given, tuple) else [given] if given else []
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, spykeflow.STDPConv)]
    for k, i in enumerate(convs):
        options: dict[str, Any] = {}
        if images:
            options["n_images"] = int(images[min(k, len(images) - 1)])
        for name in ("stdp_epochs", "lr_double_every", "snapshot_every"):
            if getattr(config, name):
                options[name.removeprefix("stdp_")] = int(getattr(config, name))
        if options:
            layers[i] = layers[i].replace(**options)
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
    # lazy datasets: each stage reads only the samples it uses, batch by batch
    ds_stdp = run.dataset(dataset, config.stdp_split, config.data_root, **load)
    ds_train = run.dataset(dataset, "train", config.data_root, config.train_limit, **load)
    ds_test = run.dataset(dataset, "test", config.data_root, config.test_limit, **load)
    y_train, y_test = ds_train.labels, ds_test.labels
    encoder = config.make_encoder()
    net_file = run.path("network")

    def stdp():
        layers = network_layers(config)
        needed = max((layer.training.n_images or len(ds_stdp)) for layer in layers
                     if isinstance(layer, spykeflow.STDPConv))
        spikes = encoder.transform(run.read(ds_stdp[:needed])[0])
        ckpt = run.path("checkpoint")
        net = spykeflow.Network(layers, seed=config.seed, batch_size=int(config.network_batch),
                                n_jobs=config.n_jobs, progress=run.progress,
                                checkpoint_path=str(ckpt),
                                checkpoint_every=int(config.checkpoint_every))
        net.fit(spikes, resume=ckpt.exists())
        net.save(net_file)
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
    net = spykeflow.Network.load(net_file).set_params(progress=False, n_jobs=config.n_jobs)
    if config.dask_workers or config.dask_scheduler:  # on a Dask cluster, into features.zarr
        feat_result = run.stage("features", lambda: dask_features.features(
            run, config, net, encoder, ds_train, ds_test))
        f_train, f_test = dask_features.load(run)
    else:
        feat_result = run.stage("features", lambda: _features(run, config, net, encoder,
                                                              ds_train, ds_test))
        f_train, f_test = _load_features(run.path("features.npz"))
    readout_result = run.stage("readout", lambda: _readout(run, config, f_train, y_train,
                                                           f_test, y_test))
    n_stat = min(int(config.stat_samples), len(ds_test))
    spikes_test = encoder.transform(run.read(ds_test[:n_stat])[0])
    stat_result = run.stage("statistics", lambda: _statistics(net, spikes_test, y_test[:n_stat]))
    if not config.no_plots:
        run.stage("plots", lambda: stdp_plots.plot_all(run, config, net, spikes_test, ds_stdp,
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


def _features(run, config, net, encoder, ds_train, ds_test) -> dict:
    """Features of the training and test images (read and encoded batch by batch), saved to
    ``features.npz``."""
    batch = int(config.encode_batch)
    out = {}
    for name, ds in (("train", ds_train), ("test", ds_test)):
        parts = []
        for s in run.bar(range(0, len(ds), batch), total=-(-len(ds) // batch),
                         desc=f"features {name}"):
            x = run.read(ds[s:s + batch])[0]
            parts.append(transform(net, encoder.transform(x), config.features))
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
            "n_train": int(len(ds_train)), "n_test": int(len(ds_test))}


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
    out: dict[str, Any] = {"samples": len(spikes_test),
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
