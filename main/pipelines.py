"""The pipelines behind ``main/main.py``: thin glue over the public SpykeFlow API.

Each pipeline is a sequence of named stages. A stage's results are written into the run folder
before the stage is marked done in ``stages.json``, so an interrupted run continues with
``--resume`` from the first unfinished stage.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import pathlib
import time
from typing import Callable

import numpy as np

import spykeflow
from spykeflow import io
from spykeflow.backends import sequence_presets

log = logging.getLogger("spykeflow.main")


class Run:
    """A run folder ``outputs/<pipeline>/<run-id>/`` with its stage bookkeeping."""

    def __init__(self, directory: pathlib.Path):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        state_file = self.dir / "stages.json"
        self.state = io.read_json(state_file) if state_file.exists() else {}

    @classmethod
    def open(cls, outputs, pipeline, out=None, run_id=None, resume=False):
        """Create a new run folder, or reopen one for ``resume``."""
        if out is not None:
            directory = pathlib.Path(out)
        elif resume:
            runs = sorted(p for p in (pathlib.Path(outputs) / pipeline).glob("*") if p.is_dir())
            if not runs:
                raise FileNotFoundError(
                    f"--resume found no earlier run of {pipeline!r} in {outputs}/{pipeline}; "
                    "start one without --resume"
                )
            directory = runs[-1]
        else:
            run_id = run_id or datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            directory = pathlib.Path(outputs) / pipeline / run_id
        if resume and not (directory / "stages.json").exists():
            raise FileNotFoundError(f"--resume: {directory} holds no run to continue")
        return cls(directory)

    def done(self, stage: str) -> bool:
        return stage in self.state

    def stage(self, name: str, fn: Callable[[], dict | None]) -> dict:
        """Run ``fn`` unless ``name`` finished before; record its result and wall time."""
        if self.done(name):
            log.info("stage %s: done earlier, skipped", name)
            return self.state[name]
        log.info("stage %s ...", name)
        start = time.perf_counter()
        result = dict(fn() or {})
        result["seconds"] = round(time.perf_counter() - start, 3)
        self.state[name] = result
        io.write_json_atomic(self.dir / "stages.json", self.state)
        log.info("stage %s: %.1f s", name, result["seconds"])
        return result

    def path(self, name: str) -> pathlib.Path:
        return self.dir / name

    def save_figure(self, fig, name: str) -> pathlib.Path:
        """Save a matplotlib figure as PNG atomically and close it."""
        target = self.path(name)
        with io.atomic_path(target) as tmp:
            fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        return target


@dataclasses.dataclass(frozen=True)
class Pipeline:
    summary: str
    defaults: dict
    body: Callable[[Run, dict], dict]
    quick: dict = dataclasses.field(default_factory=dict)

    def config(self, options: dict) -> dict:
        """Pipeline defaults, then the ``quick`` overrides (``--quick``), then the options that
        were given (not None / not False)."""
        given = {
            k: v for k, v in options.items()
            if v is not None and v is not False and k in self.defaults
        }
        base = dict(self.defaults)
        if options.get("quick"):
            base.update(self.quick)
        return {**base, **given}

    def run(self, run: Run, config: dict) -> dict:
        config_file = run.path("config.json")
        if config_file.exists() and run.state:
            previous = io.read_json(config_file)
            if previous != config:
                changed = sorted(k for k in set(previous) | set(config)
                                 if previous.get(k) != config.get(k))
                log.warning("resuming with the configuration of the first run (ignoring the "
                            "options given now for: %s)", ", ".join(changed))
                config = previous
        io.write_json_atomic(config_file, config)
        metrics = self.body(run, config)
        metrics["timings_s"] = {k: v["seconds"] for k, v in run.state.items()}
        metrics["spykeflow_version"] = spykeflow.__version__
        io.write_json_atomic(run.path("metrics.json"), metrics)
        return metrics


# ---------------------------------------------------------------------------- helpers


def _jsonable(value):
    """numpy scalars/arrays -> Python types, recursively (for stages.json / metrics.json)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _progress(iterable, total=None, desc=None):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def _class_names(dataset, classes):
    if dataset in ("emnist", "emnist_balanced"):
        from spykeflow.plotting import EMNIST_BALANCED_LABELS

        return [EMNIST_BALANCED_LABELS[int(c)] for c in classes]
    if dataset in ("fashion", "fashion_mnist"):
        names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Boot"]
        return [names[int(c)] for c in classes]
    if dataset in ("facebike", "caltech_face_motor"):
        return [["Face", "Motor"][int(c)] for c in classes]
    return [str(c) for c in classes]


def _load(dataset, split, config, **options):
    from spykeflow import datasets

    return datasets.load(dataset, split=split, root=config["data_root"], **options)


def _limit(x, y, n):
    return (x, y) if not n else (x[:n], y[:n])


# ---------------------------------------------------------------- STDP image pipelines


class _EventEncoder:
    """Event recordings -> spike frames with :meth:`spykeflow.InputLayer.transform_events`."""

    def __init__(self, time_steps, window_us, first_spike_only, sensor_size=(34, 34)):
        self.layer = spykeflow.InputLayer()
        self.kw = dict(sensor_size=tuple(sensor_size), time_steps=int(time_steps),
                       window_us=window_us, first_spike_only=bool(first_spike_only))

    def transform(self, events):
        return self.layer.transform_events(events, **self.kw)


def _encoder(config):
    if config.get("events"):
        ev = config["events"]
        return _EventEncoder(config["time_steps"], ev.get("window_us"),
                             ev.get("first_spike_only", True))
    return spykeflow.InputLayer(**config.get("encoder", {}))


def _network_layers(config):
    """The layer list of the run: a preset name or the explicit ``layers_spec`` list."""
    from spykeflow.network import PRESETS, SpikePool, STDPConv

    spec = config.get("layers_spec")
    if spec:
        layers = []
        for item in spec:
            item = dict(item)
            kind = item.pop("type")
            layers.append(STDPConv(**item) if kind == "conv" else SpikePool(**item))
    else:
        layers = PRESETS[config["preset"]]()
    convs = [l for l in layers if isinstance(l, STDPConv)]
    images = config.get("stdp_images")
    if images:
        images = list(images) if isinstance(images, (list, tuple)) else [images]
        for layer, n in zip(convs, images + [images[-1]] * len(convs)):
            layer.n_images = int(n)
    epochs = config.get("stdp_epochs")
    if epochs:
        for layer in convs:
            layer.epochs = int(epochs)
    if config.get("lr_double_every"):
        for layer in convs:
            layer.lr_double_every = int(config["lr_double_every"])
    if config.get("snapshot_every"):
        for layer in convs:
            layer.snapshot_every = int(config["snapshot_every"])
    return layers


def _conv_indices(net):
    from spykeflow.network import STDPConv

    return [i for i, l in enumerate(net.layers_) if isinstance(l, STDPConv)]


def _layer_names(net):
    from spykeflow.network import STDPConv

    names, nc, npool = [], 0, 0
    for layer in net.layers_:
        if isinstance(layer, STDPConv):
            nc += 1
            names.append(f"Conv{nc}")
        else:
            npool += 1
            names.append(f"Pool{npool}")
    return names


#: Training of the binary / relu readouts unless options say otherwise: the settings that
#: reproduce the published MNIST accuracy in minutes (experiments/readout_mnist.py, issue 4).
#: The model itself is the published one; ``--backend reference`` uses the original's SGD.
_FAST_READOUT = {"epochs": 12, "batch_size": 256, "learning_rate": 1e-3}
_STEP_PARAMS = {"step_size": 4, "gamma": 0.3}


def _classifier(config, n_classes):
    """The readout of the run (``backend`` "reference" = the original notebooks' settings)."""
    backend = config["backend"]
    if backend == "reference":
        task = "emnist" if config["dataset"].startswith("emnist") else "mnist"
        overrides = {k: config[k] for k in ("epochs", "learning_rate") if config.get(k)}
        clf = spykeflow.Classifier.reference(task, config.get("surrogate") or "sg1",
                                             seed=config["seed"], **overrides)
        if config.get("hidden"):
            clf.set_params(hidden=config["hidden"])
        return clf
    params = {}
    if backend in ("binary", "relu"):
        hidden = config["hidden"] or (1500 if config["dataset"].startswith("emnist") else 1000)
        params["hidden"] = hidden
        if backend == "binary" and config.get("surrogate"):
            params["surrogate"] = config["surrogate"]
    kwargs = {k: config[k] for k in ("epochs", "batch_size", "learning_rate") if config.get(k)}
    schedule = config.get("lr_schedule")
    if backend in ("binary", "relu"):
        kwargs = {**_FAST_READOUT, **kwargs}
        schedule = schedule or "step"
    if schedule and schedule != "none":
        kwargs["lr_schedule"] = schedule
        if schedule == "step":
            kwargs["lr_schedule_params"] = config.get("lr_schedule_params") or _STEP_PARAMS
    return spykeflow.Classifier(backend, backend_params=params or None, seed=config["seed"],
                                **kwargs)


def _feature_sets(config):
    """``config["features"]``: which layers' outputs become the readout's features.

    None: the Network's own setting (binary spikes of the last layer). Otherwise a list of
    ``{"layer": index into the layer list, "values": "binary" | "max_potential" | ...}``,
    concatenated in that order (facebike).
    """
    sets = config.get("features")
    if not sets:
        return None
    return [(int(item["layer"]), str(item.get("values", "binary"))) for item in sets]


def _transform_features(net, spikes, feature_sets):
    """Feature vectors of ``spikes``: uint8 when every set is binary, float32 otherwise."""
    if feature_sets is None:
        return net.transform(spikes).astype(np.uint8)
    saved = net.get_params()["feature_values"], net.get_params()["feature_layer"]
    try:
        parts = []
        for layer, values in feature_sets:
            net.set_params(feature_values=values, feature_layer=layer)
            parts.append(np.asarray(net.transform(spikes)).reshape(len(spikes), -1))
    finally:
        net.set_params(feature_values=saved[0], feature_layer=saved[1])
    if all(values == "binary" for _, values in feature_sets):
        return np.concatenate(parts, axis=1).astype(np.uint8)
    return np.concatenate([p.astype(np.float32) for p in parts], axis=1)


def _standard_scaler(x, standardise):
    """Per-feature mean and scale of ``x`` (identity when ``standardise`` is False)."""
    if not standardise:
        return np.zeros(x.shape[1]), np.ones(x.shape[1])
    scale = x.std(axis=0)
    return x.mean(axis=0), np.where(scale > 0, scale, 1.0)


def _svm_by_cross_validation(config, features, labels):
    """Linear SVM whose C is chosen by stratified k-fold cross-validation on the training split.

    ``config["svm_c_grid"]`` lists the candidate C values, ``config["svm_cv"]`` the number of
    folds; with ``config["standardise"]`` every feature is standardised by the mean and
    standard deviation of the training part (inside each fold, then on the whole training
    split for the final model). The test split is never looked at. Ties go to the smaller C.

    Returns ``(classifier fitted on the standardised training split, {"mean", "scale"},
    cross-validation summary)``.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    x = np.asarray(features, np.float64)
    y = np.asarray(labels)
    grid = [float(c) for c in config["svm_c_grid"]]
    standardise = bool(config.get("standardise", True))
    max_iter = int(config.get("svm_max_iter") or 20000)
    seed = int(config["seed"])
    folds = StratifiedKFold(int(config["svm_cv"]), shuffle=True, random_state=seed)
    scores = {c: [] for c in grid}
    for fit_idx, val_idx in folds.split(x, y):
        mean, scale = _standard_scaler(x[fit_idx], standardise)
        x_fit, x_val = (x[fit_idx] - mean) / scale, (x[val_idx] - mean) / scale
        for c in grid:
            svc = LinearSVC(C=c, max_iter=max_iter, random_state=seed).fit(x_fit, y[fit_idx])
            scores[c].append(float(np.mean(svc.predict(x_val) == y[val_idx])))
    best = max(grid, key=lambda c: (np.mean(scores[c]), -c))
    mean, scale = _standard_scaler(x, standardise)
    clf = spykeflow.Classifier("svm", backend_params={"C": best, "max_iter": max_iter},
                               seed=seed)
    clf.fit((x - mean) / scale, y)
    summary = {"folds": int(config["svm_cv"]), "standardise": standardise, "best_C": best,
               "mean_accuracy": {str(c): float(np.mean(v)) for c, v in scores.items()}}
    return clf, {"mean": mean, "scale": scale}, summary


def _stdp_pipeline(run: Run, config: dict) -> dict:
    """encode -> STDP layer-wise training -> features -> readout -> statistics -> plots."""
    dataset = config["dataset"]
    load_opts = dict(config.get("load_options", {}))
    if "size" in load_opts:
        load_opts["size"] = tuple(load_opts["size"])
    x_stdp, y_stdp = _load(dataset, config["stdp_split"], config, **load_opts)
    x_train, y_train = _limit(*_load(dataset, "train", config, **load_opts), config["train_limit"])
    x_test, y_test = _limit(*_load(dataset, "test", config, **load_opts), config["test_limit"])
    encoder = _encoder(config)
    batch = int(config["encode_batch"])
    net_file = run.path("network.json")

    def stdp():
        from spykeflow.network import Network

        layers = _network_layers(config)
        needed = max((l.n_images or len(x_stdp)) for l in layers if hasattr(l, "n_images"))
        needed = min(needed, len(x_stdp))
        spikes = encoder.transform(x_stdp[:needed])
        ckpt = run.path("checkpoint")
        net = Network(layers=layers, seed=config["seed"], checkpoint_path=str(ckpt),
                      checkpoint_every=int(config["checkpoint_every"]), progress=True,
                      batch_size=int(config["network_batch"]))
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
    from spykeflow.network import Network

    net = Network.load(net_file)
    net.progress = False
    features_file = run.path("features.npz")

    feature_sets = _feature_sets(config)

    def features():
        out = {}
        for name, x in (("train", x_train), ("test", x_test)):
            parts = []
            for s in _progress(range(0, len(x), batch), total=-(-len(x) // batch),
                               desc=f"features {name}"):
                spikes = encoder.transform(x[s:s + batch])
                parts.append(_transform_features(net, spikes, feature_sets))
            out[name] = np.concatenate(parts)
        binary = out["train"].dtype == np.uint8
        if binary:  # bit-packed on disk (the 0/1 features of every other pipeline)
            io.save_npz_atomic(features_file, X_train=np.packbits(out["train"], axis=1),
                               X_test=np.packbits(out["test"], axis=1),
                               n_features=np.int64(out["train"].shape[1]))
        else:  # float features (max_potential): stored as they are
            io.save_npz_atomic(features_file, X_train=out["train"], X_test=out["test"],
                               n_features=np.int64(out["train"].shape[1]))
        active = (out["test"] != 0).sum(1).mean()
        return {"n_features": int(out["train"].shape[1]),
                "active_features_per_image_test": float(active),
                "n_train": int(len(x_train)), "n_test": int(len(x_test))}

    feat_result = run.stage("features", features)
    arrays = io.load_npz(features_file)
    n_feat = int(arrays["n_features"])
    if arrays["X_train"].dtype == np.uint8:
        f_train = np.unpackbits(arrays["X_train"], axis=1, count=n_feat)
        f_test = np.unpackbits(arrays["X_test"], axis=1, count=n_feat)
    else:
        f_train, f_test = arrays["X_train"], arrays["X_test"]
    clf_dir = run.path("classifier")

    def readout():
        if config.get("svm_cv"):  # facebike: C by cross-validation on the training split
            clf, scaler, cv_result = _svm_by_cross_validation(config, f_train, y_train)
            io.save_npz_atomic(run.path("feature_scaler.npz"), **scaler)
            scale = lambda f: (f - scaler["mean"]) / scaler["scale"]  # noqa: E731
        else:
            clf, cv_result, scale = _classifier(config, len(np.unique(y_train))), None, None
            clf.fit(f_train, y_train)
        x_tr, x_te = (f_train, f_test) if scale is None else (scale(f_train), scale(f_test))
        clf.save(clf_dir)
        ev = clf.evaluate(x_te, y_test)
        pred = clf.predict(x_te)
        io.save_npz_atomic(run.path("predictions.npz"), y_test=y_test, y_pred=pred)
        names = _class_names(dataset, ev["classes"])
        result = {
            "test_accuracy": float(ev["accuracy"]),
            "train_accuracy": float(np.mean(clf.predict(x_tr) == y_train)),
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
                                            ("loss", "accuracy", "val_loss", "val_accuracy") if k in hist}
        return _jsonable(result)

    readout_result = run.stage("readout", readout)
    n_stat = min(int(config["stat_samples"]), len(x_test))
    spikes_test = encoder.transform(x_test[:n_stat])
    names = _layer_names(net)

    def statistics():
        out = {"samples": n_stat, "input_spikes_per_image": float(spikes_test.sum() / n_stat)}
        for i, name in enumerate(names):
            stats = net.spike_statistics(spikes_test, y_test[:n_stat], layer=i)
            per_class = stats["spikes_per_map_per_class_normalised"]
            out[name] = {
                "spikes_per_image_mean": float(stats["spikes_per_image"].mean()),
                "spikes_per_image_max": int(stats["spikes_per_image"].max()),
                "silent_images": int((stats["spikes_per_image"] == 0).sum()),
                "silent_maps": int((per_class.sum(0) == 0).sum()),
            }
        return out

    stat_result = run.stage("statistics", statistics)
    if not config["no_plots"]:
        run.stage("plots", lambda: _stdp_plots(run, config, net, spikes_test, x_stdp,
                                               y_test[:n_stat], encoder, dataset))
    return {
        "pipeline": config["pipeline"],
        "dataset": dataset,
        "test_accuracy": readout_result["test_accuracy"],
        "train_accuracy": readout_result["train_accuracy"],
        "per_class_accuracy": readout_result["per_class_accuracy"],
        "confusion_matrix": readout_result["confusion_matrix"],
        "readout": readout_result["readout"],
        "n_train": feat_result["n_train"],
        "n_test": feat_result["n_test"],
        "n_features": feat_result["n_features"],
        "spike_statistics": {
            "stdp_training": {k: stdp_result[k] for k in
                              ("input_spikes_per_image", "winners_per_image", "stdp_images",
                               "final_convergence")},
            "active_features_per_image_test": feat_result["active_features_per_image_test"],
            "test": {k: v for k, v in stat_result.items() if k != "seconds"},
        },
        "files": sorted(p.name for p in run.dir.iterdir() if p.is_file()),
    }


def _pool_geometry(net, upto):
    """pool_size / pool_stride lists of the pools between the conv layers up to ``upto``."""
    from spykeflow.network import SpikePool

    pools = [l for l in net.layers_[:upto] if isinstance(l, SpikePool)]
    return [p.size for p in pools], [p.stride for p in pools]


def _stdp_plots(run, config, net, spikes_test, x_stdp, y_test, encoder, dataset):
    """Every diagnostic figure of an STDP run (saved as PNG, animation as GIF)."""
    from spykeflow import animation, plotting

    figures = []

    def save(fig, name):
        run.save_figure(fig, name)
        figures.append(name)

    names = _layer_names(net)
    convs = _conv_indices(net)
    weights = [net.weights_[i] for i in convs]
    hist = {names[i]: net.history_["layers"][i] for i in convs}
    classes = np.unique(y_test)
    class_names = _class_names(dataset, classes)

    # features of each conv layer; deeper layers reconstructed through the layers below
    for k, li in enumerate(convs):
        sizes, strides = _pool_geometry(net, li)
        chain = weights[: k + 1] if k else weights[0]
        kw = {"pool_size": sizes, "pool_stride": strides} if k else {}
        save(plotting.plot_feature_grid(chain, maps=None, **kw), f"features_{names[li]}.png")
        if k:
            save(plotting.plot_reconstructed_features(chain, **kw),
                 f"reconstruction_{names[li]}.png")
    # convergence of all layers on one figure
    snaps = {n: np.asarray(h["snapshots"]) for n, h in hist.items() if len(h["snapshots"]) > 1}
    seen = {n: np.asarray(hist[n]["snapshot_images"]) for n in snaps}
    if snaps:
        save(plotting.plot_convergence(snaps, seen), "convergence.png")
    for k, li in enumerate(convs):
        name, h = names[li], hist[names[li]]
        save(plotting.plot_stdp_updates_per_map(h["updates_per_map"], layer_name=name),
             f"stdp_updates_per_map_{name}.png")
        if len(h["winners_per_image"]):
            save(plotting.plot_winners_per_image(np.asarray(h["winners_per_image"]),
                                                 layer_name=name, zoom=config["zoom"]),
                 f"winners_per_image_{name}.png")
        if len(h["snapshots"]) > 1:
            sizes, strides = _pool_geometry(net, li)
            lower = weights[:k] if k else None
            kw = {"pool_size": sizes, "pool_stride": strides} if k else {}
            anim = animation.weight_evolution_animation(
                np.asarray(h["snapshots"]), np.asarray(h["snapshot_images"]),
                lower_weights=lower, layer_name=name, **kw)
            target = run.path(f"weight_evolution_{name}.gif")
            partial = target.with_name(target.stem + ".partial.gif")  # Pillow needs .gif
            anim.save(str(partial), writer=animation.writer_for(target, fps=config["gif_fps"]))
            os.replace(partial, target)
            figures.append(target.name)
            save(plotting.plot_kernel_evolution(np.asarray(h["snapshots"]),
                                                np.asarray(h["snapshot_images"]),
                                                lower_weights=lower, layer_name=name, **kw)
                 if k else plotting.plot_kernel_evolution(np.asarray(h["snapshots"]),
                                                          np.asarray(h["snapshot_images"])),
                 f"kernel_evolution_{name}.png")
    # activity in inference on test images
    layer_spikes = {n: net.spikes_at(spikes_test, layer=i) for i, n in enumerate(names)}
    per_image = {n: s.sum(axis=(1, 2, 3, 4)) for n, s in layer_spikes.items()}
    save(plotting.plot_spikes_per_image(per_image, zoom=config["zoom"]), "spikes_per_image.png")
    last_pool = [n for n in names if n.startswith("Pool")]
    for pool_name in last_pool:
        li = names.index(pool_name)
        conv_before = [c for c in convs if c < li][-1]
        k = convs.index(conv_before)
        sizes, strides = _pool_geometry(net, conv_before)
        kern = (plotting.kernels_rgb(weights[: k + 1], pool_size=sizes, pool_stride=strides)
                if k else plotting.kernels_rgb(weights[0]))
        save(plotting.plot_spikes_per_map_per_class(layer_spikes[pool_name], y_test,
                                                    classes=classes, class_names=class_names,
                                                    kernels=kern, layer_name=pool_name),
             f"spikes_per_map_per_class_{pool_name}.png")
    # one sample: input spikes, rasters, debug views
    idx = int(config["debug_sample"])
    save(plotting.plot_input_spikes(spikes_test, index=idx,
                                    title=f"test sample {idx} (class {class_names[list(classes).index(y_test[idx])]}): input spikes per time step"),
         "input_spikes.png")
    save(plotting.plot_spike_raster(spikes_test, index=idx, layer_name="input"),
         "raster_input.png")
    for n in names:
        if n.startswith("Conv"):
            save(plotting.plot_spike_raster(layer_spikes[n], index=idx, layer_name=n),
                 f"raster_{n}.png")
    # debug views of training image 0 as STDP saw it (the winners were picked there)
    h0 = hist[names[convs[0]]]
    train0 = encoder.transform(x_stdp[:1])
    conv0 = net.spikes_at(train0, layer=convs[0])
    pool0 = net.spikes_at(train0, layer=convs[0] + 1) if convs[0] + 1 < len(names) else None
    win = [np.asarray(r).reshape(-1, 5) for r in h0["winners"]]
    win = np.concatenate(win) if win else np.zeros((0, 5), np.int32)
    save(plotting.plot_debug_views(train0, crossings=net.threshold_crossings(train0, convs[0]),
                                   after_inhibition=conv0, pool_before=pool0,
                                   winners=win[win[:, 0] == 0][:, [2, 3, 1]], index=0,
                                   layer_name=names[convs[0]]),
         "debug_views_train0.png")
    # readout
    pred = io.load_npz(run.path("predictions.npz"))
    save(plotting.plot_confusion_matrix(pred["y_test"], pred["y_pred"],
                                        class_names=_class_names(dataset, np.unique(pred["y_test"]))),
         "confusion_matrix.png")
    save(plotting.plot_per_class_accuracy(pred["y_test"], pred["y_pred"],
                                          class_names=_class_names(dataset, np.unique(pred["y_test"]))),
         "per_class_accuracy.png")
    stages = io.read_json(run.path("stages.json"))
    history = stages.get("readout", {}).get("readout", {}).get("history")
    if history and history.get("loss"):
        save(plotting.plot_training_curves(history), "readout_training_curves.png")
    return {"figures": figures}


# ------------------------------------------------------------ BPTT / other-engineer pipelines


def _classifier_plots(run, config, y_true, y_pred, class_names, history=None, raster=None,
                      raster_name="input"):
    from spykeflow import plotting

    figures = []
    if config["no_plots"]:
        return figures
    for fig, name in (
        (plotting.plot_confusion_matrix(y_true, y_pred, class_names=class_names),
         "confusion_matrix.png"),
        (plotting.plot_per_class_accuracy(y_true, y_pred, class_names=class_names),
         "per_class_accuracy.png"),
    ):
        run.save_figure(fig, name)
        figures.append(name)
    if history and history.get("loss"):
        run.save_figure(plotting.plot_training_curves(history), "training_curves.png")
        figures.append("training_curves.png")
    if raster is not None:
        run.save_figure(plotting.plot_spike_raster(raster, index=0, layer_name=raster_name),
                        "raster_input.png")
        figures.append("raster_input.png")
    return figures


def _fit_evaluate(run, config, clf, x_train, y_train, x_test, y_test, dataset, extra=None):
    """Train ``clf`` (stage ``train``), save it, evaluate and plot (stage ``evaluate``)."""
    clf_dir = run.path("classifier")

    def train():
        clf.fit(x_train, y_train)
        clf.save(clf_dir)
        hist = {k: v for k, v in (getattr(clf, "history_", None) or {}).items()
                if k in ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_time")}
        return _jsonable({"history": hist})

    trained = run.stage("train", train)

    def evaluate():
        model = spykeflow.Classifier.load(clf_dir)
        ev = model.evaluate(x_test, y_test)
        pred = model.predict(x_test)
        names = _class_names(dataset, ev["classes"])
        out = {
            "test_accuracy": float(ev["accuracy"]),
            "per_class_accuracy": {n: float(a) for n, a in zip(names, ev["per_class_accuracy"])},
            "confusion_matrix": ev["confusion_matrix"],
        }
        if extra:
            out.update(extra(model))
        out["figures"] = _classifier_plots(run, config, y_test, pred, names,
                                           trained.get("history"),
                                           raster=x_test[:1] if x_test.ndim == 5 else None)
        return _jsonable(out)

    result = run.stage("evaluate", evaluate)
    return {k: v for k, v in result.items() if k != "seconds"}, trained


def _nmnist(run: Run, config: dict) -> dict:
    """STDP path (default) or ``--backend convsnn``: the BPTT ConvSNN of Safa et al. on frames."""
    if config["backend"] != "convsnn":
        return _stdp_pipeline(run, config)
    x_train, y_train = _limit(*_load("nmnist", "train", config), config["train_limit"])
    x_test, y_test = _limit(*_load("nmnist", "test", config), config["test_limit"])
    enc = spykeflow.InputLayer()
    frames = {name: enc.transform_events(x, time_steps=config["time_steps"]).astype(np.float32)
              for name, x in (("train", x_train), ("test", x_test))}
    bits = config["bits"] or None
    clf = spykeflow.Classifier(
        "convsnn", backend_params={"bits": bits, "readout": "count", "conv_filters": [12],
                                   "hidden": [int(h) for h in np.atleast_1d(config["hidden"] or 128)]},
        epochs=config["epochs"], batch_size=config["batch_size"],
        learning_rate=config["learning_rate"], validation_split=0.0, seed=config["seed"])

    def float_accuracy(model):
        if bits is None:
            return {}
        pred = model.predict(frames["test"], quantized=False)
        return {"test_accuracy_latent_float": float(np.mean(pred == y_test)),
                "bits": bits}

    result, trained = _fit_evaluate(run, config, clf, frames["train"], y_train, frames["test"],
                                    y_test, "nmnist", extra=float_accuracy)
    return {"pipeline": "nmnist", "dataset": "nmnist", "backend": "convsnn", **result,
            "n_train": int(len(y_train)), "n_test": int(len(y_test)),
            "input_spikes_per_sample": float(frames["test"].sum() / len(y_test)),
            "readout": {"history": trained.get("history")}}


def _soli(run: Run, config: dict) -> dict:
    """Soli range-Doppler sequences -> spike frames -> ConvSNN (bits-bit QAT)."""
    from spykeflow.functional.radar import preprocess_soli

    try:
        x_train, y_train = _load("soli", "train", config)
        x_test, y_test = _load("soli", "test", config)
        split = "deep-soli file_half.json"
    except (ValueError, FileNotFoundError):
        # no published split file (the shared sample): split all files; a missing Soli folder
        # raises DatasetNotFoundError again here, which main.py reports
        x_all, y_all = _load("soli", "all", config)
        rng = np.random.default_rng(config["seed"])
        order = rng.permutation(len(x_all))
        n_test = max(1, len(order) // 4)
        test, train = order[:n_test], order[n_test:]
        x_train, y_train, x_test, y_test = x_all[train], y_all[train], x_all[test], y_all[test]
        split = f"seeded random 75/25 of all {len(x_all)} files (no split file)"
    frames = {k: preprocess_soli(list(x), length=config["time_steps"], encoding="delta",
                                 threshold=0.1).astype(np.float32)
              for k, x in (("train", x_train), ("test", x_test))}
    classes = np.unique(np.concatenate([y_train, y_test]))
    base = {"pipeline": "soli", "dataset": "soli", "split": split,
            "n_train": int(len(y_train)), "n_test": int(len(y_test)),
            "classes": classes, "input_spikes_per_sample": float(frames["test"].sum() / len(y_test))}
    if len(np.unique(y_train)) < 2:
        log.warning("soli: the data hold %d gesture class(es); nothing to classify "
                    "(the shared sample has gesture 0 only). Frames were built and checked.",
                    len(np.unique(y_train)))
        return _jsonable({**base, "test_accuracy": None,
                          "note": "fewer than 2 classes in the data: no classifier trained"})
    bits = config["bits"] or None
    clf = spykeflow.Classifier(
        "convsnn", backend_params={"bits": bits, "readout": "count"},
        epochs=config["epochs"], batch_size=config["batch_size"],
        learning_rate=config["learning_rate"], validation_split=0.0, seed=config["seed"])
    result, _ = _fit_evaluate(run, config, clf, frames["train"], y_train, frames["test"], y_test,
                              "soli")
    return _jsonable({**base, **result})


def _experiment(name):
    """Import ``experiments/<name>.py`` (the backend engineers' result scripts)."""
    import importlib.util

    path = pathlib.Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"spykeflow_experiments_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fsdd(run: Run, config: dict) -> dict:
    """s2net on FSDD via ``experiments/s2net_fsdd.py:run`` (standard split)."""
    exp = _experiment("s2net_fsdd")
    cfg = {"seed": config["seed"], "data_root": config["data_root"],
           "out_dir": str(run.dir), "run_name": "s2net", "plots": not config["no_plots"]}
    for key, option in (("epochs", "epochs"), ("batch_size", "batch_size"),
                        ("learning_rate", "learning_rate")):
        if config.get(option):
            cfg[key] = config[option]
    if config.get("hidden"):
        cfg["channels"] = list(np.atleast_1d(config["hidden"]).astype(int).tolist())
    result = run.stage("train_evaluate", lambda: _jsonable(exp.run(cfg)))
    return {"pipeline": "fsdd", "dataset": "fsdd", "backend": "s2net",
            **{k: v for k, v in result.items() if k not in ("seconds", "config")},
            "files": sorted(str(p.relative_to(run.dir)) for p in run.dir.rglob("*.png"))}


def _qcfs(run: Run, config: dict) -> dict:
    """Accuracy-vs-T of QCFS-converted SNNs via ``experiments/qcfs_curves.py:run``."""
    import argparse

    exp = _experiment("qcfs_curves")
    args = argparse.Namespace(
        dataset=config["dataset"], L=[4, 8, 16], epochs=config["epochs"] or 4,
        train_size=config["train_limit"] or 20000, test_size=config["test_limit"] or 1000,
        batch_size=config["batch_size"] or 64, lr=config["learning_rate"] or 2e-3,
        widths=[16, 32], dense=128, dropout=0.0, init_threshold=2.0,
        T=[1, 2, 4, 8, 16, 32, 64, 128], relu=True, duration_ms=300.0, bin_ms=1.0,
        seed=config["seed"], out=str(run.dir))
    if config.get("levels"):
        args.L = list(config["levels"])
    if config["data_root"]:
        import os

        os.environ["SPYKEFLOW_DATA"] = str(config["data_root"])
    result = run.stage("curves", lambda: _jsonable(exp.run(args)))
    runs = result["runs"]
    # the headline number is the QCFS SNN at the largest T (the ReLU runs are baselines)
    qcfs_runs = [r for r in runs if r["method"] == "qcfs"] or runs
    best = max(qcfs_runs, key=lambda r: r["snn_acc"][str(max(result["T"]))])
    return {"pipeline": "qcfs", "dataset": config["dataset"],
            "test_accuracy": best["snn_acc"][str(max(result["T"]))],
            "test_accuracy_ann": best["ann_acc"], "best": {"method": best["method"], "L": best["L"]},
            "curves": runs, "T": result["T"], "n_train": result["n_train"],
            "n_test": result["n_test"]}


def _sequences(run: Run, config: dict) -> dict:
    """Synthetic MNIST sequence ``--seq`` classified by ``--model`` (Table 1 of Samadzadeh)."""
    x_train, y_train = _load("sequences", "train", config, seq=config["seq"],
                             n=config["train_limit"], seed=config["seed"],
                             time_steps=config["time_steps"])
    x_test, y_test = _load("sequences", "test", config, seq=config["seq"],
                           n=config["test_limit"], seed=config["seed"],
                           time_steps=config["time_steps"])
    # Table 1 settings of the model (CPU protocol: widths, learning rate, schedule, STS switch);
    # --epochs / --batch-size / --learning-rate override them.
    kwargs = sequence_presets.classifier_kwargs(config["model"], epochs=config["epochs"])
    kwargs.update({k: config[k] for k in ("batch_size", "learning_rate") if config.get(k)})
    clf = spykeflow.Classifier(kwargs.pop("backend"), seed=config["seed"], **kwargs)
    result, trained = _fit_evaluate(run, config, clf, x_train, y_train, x_test, y_test,
                                    "sequences")
    return {"pipeline": "sequences", "model": config["model"], "seq": config["seq"], **result,
            "n_train": int(len(y_train)), "n_test": int(len(y_test)),
            "readout": {"history": trained.get("history")}}


# --------------------------------------------------------- configurations of the pipelines

_COMMON = {"pipeline": None, "data_root": None, "seed": 0, "no_plots": False, "quick": False}

_STDP_COMMON = {
    **_COMMON,
    "stdp_split": "train",
    "preset": "mnist_conv1",
    "layers_spec": None,
    "layers": 1,
    "stdp_images": None,
    "stdp_epochs": None,
    "snapshot_every": None,
    "lr_double_every": None,
    "train_limit": None,
    "test_limit": None,
    # the published readout model (binary hidden units, surrogate 1, floored logits; 1000 /
    # 1500 hidden), trained as _FAST_READOUT says unless given; "reference" = the original's
    # SGD with batch 5
    "backend": "binary",
    "surrogate": "sg1",
    "hidden": None,
    "epochs": None,
    "batch_size": None,
    "learning_rate": None,
    "lr_schedule": None,
    "lr_schedule_params": None,
    "encode_batch": 2000,
    "network_batch": 256,
    "checkpoint_every": 1000,
    "stat_samples": 1000,
    "debug_sample": 0,
    "zoom": [1000, 1020],
    "gif_fps": 4,
}


def _with_layers(body):
    """``--layers 2`` selects the two-layer preset (net4: Conv2 on Pool1 spikes)."""

    def wrapped(run, config):
        if config.get("layers_spec") is None:
            config = {**config, "preset": {1: "mnist_conv1", 2: "mnist_conv2"}[int(config["layers"])]
                      if config["preset"] in ("mnist_conv1", "mnist_conv2") else config["preset"]}
        return body(run, config)

    return wrapped


#: Kheradpisheh et al. (2018) faces/motorbikes network on 160x250 images, the paper's geometry
#: with same-size ("same" padded) convolutions and pools: Conv1 4 maps 5x5 (threshold 10),
#: Pool1 7x7 stride 6, Conv2 20 maps 17x17 (threshold 60), Pool2 5x5 stride 5, Conv3 10 maps
#: 5x5 (threshold 2). a+ = 0.004, a- = 0.003, no homeostasis (the paper has none), A+ doubled
#: every 50 images (capped at 0.15). STDP competition windows 5 / 17 / 7 (not given in the
#: paper): with 5x5 in Conv2, 18 of the 20 maps learned on every image and collapsed to short
#: horizontal bars; 17x17 leaves ~7 winners per image and more varied contour features.
#: Epochs 3 / 4 / 4 over the 474 LearningSet images (C_l < 1e-3 at the end of every layer).
FACEBIKE_LAYERS = [
    {"type": "conv", "maps": 4, "kernel_size": 5, "threshold": 10.0, "inhibition_window": 5,
     "padding": 2, "a_plus": 0.004, "a_minus_ratio": 0.75, "homeostasis": False,
     "lr_double_every": 50, "snapshot_every": 50, "epochs": 3},
    {"type": "pool", "size": 7, "stride": 6, "padding": 3},
    {"type": "conv", "maps": 20, "kernel_size": 17, "threshold": 60.0, "inhibition_window": 17,
     "padding": 8, "a_plus": 0.004, "a_minus_ratio": 0.75, "homeostasis": False,
     "lr_double_every": 50, "snapshot_every": 50, "epochs": 4},
    {"type": "pool", "size": 5, "stride": 5, "padding": 2},
    {"type": "conv", "maps": 10, "kernel_size": 5, "threshold": 2.0, "inhibition_window": 7,
     "padding": 2, "a_plus": 0.004, "a_minus_ratio": 0.75, "homeostasis": False,
     "lr_double_every": 50, "snapshot_every": 50, "epochs": 4},
]

# --quick settings shared by the 28x28 image pipelines (mnist, fashion, emnist).
_QUICK_28X28 = {"stdp_images": 1000, "lr_double_every": 150, "train_limit": 5000,
                "test_limit": 1000, "backend": "binary", "hidden": 500, "epochs": 10,
                "batch_size": 32, "learning_rate": 1e-3}

PIPELINES = {
    "digits": Pipeline(
        summary="embedded scikit-learn digits, no download: encode, STDP Conv1, Pool1 features, "
                "binary readout, all plots (about 25 s of CPU time)",
        defaults={**_STDP_COMMON, "dataset": "digits", "backend": "binary", "hidden": 500,
                  "epochs": 15, "batch_size": 32, "learning_rate": 1e-3, "lr_schedule": "none",
                  "snapshot_every": 100,
                  "lr_double_every": 150,
                  "checkpoint_every": 200, "stat_samples": 359, "zoom": [300, 320],
                  "network_batch": 512},
        quick={"stdp_images": 300, "train_limit": 600, "test_limit": 200, "hidden": 200,
               "epochs": 5, "snapshot_every": 50, "stat_samples": 200, "lr_double_every": 40},
        body=_stdp_pipeline,
    ),
    "mnist": Pipeline(
        summary="MNIST, published one-layer (mnist_conv1) or two-layer (--layers 2, net4) "
                "settings, binary sg1 readout (--backend reference: the original's SGD)",
        defaults={**_STDP_COMMON, "dataset": "mnist"},
        quick=_QUICK_28X28,
        body=_with_layers(_stdp_pipeline),
    ),
    "fashion": Pipeline(
        summary="Fashion-MNIST with the MNIST settings",
        defaults={**_STDP_COMMON, "dataset": "fashion"},
        quick=_QUICK_28X28,
        body=_with_layers(_stdp_pipeline),
    ),
    "emnist": Pipeline(
        summary="EMNIST Balanced (the available subset), emnist_conv1 / net4, binary sg1 readout",
        defaults={**_STDP_COMMON, "dataset": "emnist"},
        quick={**_QUICK_28X28, "train_limit": 3000, "test_limit": 304},
        body=_with_layers(_stdp_pipeline),
    ),
    "facebike": Pipeline(
        summary="Caltech faces vs motorbikes (Kheradpisheh et al. 2018): 160x250 images, three "
                "STDP conv layers (STDP on LearningSet), standardised Pool1 + Pool2 spikes and "
                "Conv3 max potentials, linear SVM with C from 5-fold CV on TrainingSet",
        defaults={**_STDP_COMMON, "dataset": "caltech_face_motor", "stdp_split": "learn",
                  "layers_spec": FACEBIKE_LAYERS, "stdp_images": [474, 474, 474],
                  "backend": "svm", "encode_batch": 100, "network_batch": 32,
                  "checkpoint_every": 100, "stat_samples": 396, "zoom": [200, 220],
                  "load_options": {"size": [160, 250]},
                  "encoder": {"resize_to": None, "local_norm_window": None},
                  # readout features: binary Pool1 and Pool2 spikes and the paper's global max
                  # of Conv3 potentials (layer indices into FACEBIKE_LAYERS)
                  "features": [{"layer": 1, "values": "binary"}, {"layer": 3, "values": "binary"},
                               {"layer": 4, "values": "max_potential"}],
                  "standardise": True, "svm_cv": 5, "svm_max_iter": 20000,
                  "svm_c_grid": [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]},
        quick={"stdp_images": [100, 100, 100], "stdp_epochs": 1, "train_limit": None},
        body=_stdp_pipeline,
    ),
    "nmnist": Pipeline(
        summary="N-MNIST subset: events -> spike frames -> STDP Conv1/Pool1 features -> readout "
                "(--backend convsnn: BPTT ConvSNN with 4-bit QAT on the frames)",
        defaults={**_STDP_COMMON, "dataset": "nmnist", "backend": "svm", "time_steps": 10,
                  "bits": 4, "events": {"window_us": None, "first_spike_only": True},
                  "stdp_images": 1000, "encode_batch": 500, "stat_samples": 100, "zoom": [50, 70],
                  "checkpoint_every": 200, "snapshot_every": 100,
                  "epochs": 15, "batch_size": 32, "learning_rate": 2e-3, "hidden": 128},
        quick={"stdp_images": 200, "train_limit": 300, "test_limit": 100, "epochs": 3},
        body=_nmnist,
    ),
    "soli": Pipeline(
        summary="Soli radar range-Doppler -> delta spikes -> ConvSNN (runs when the data is present)",
        defaults={**_COMMON, "time_steps": 20, "bits": 4, "epochs": 20, "batch_size": 16,
                  "learning_rate": 2e-3},
        quick={"epochs": 2},
        body=_soli,
    ),
    "fsdd": Pipeline(
        summary="Free Spoken Digits: log-Mel -> s2net (experiments/s2net_fsdd.py), standard split",
        defaults={**_COMMON, "epochs": None, "batch_size": None, "learning_rate": None,
                  "hidden": None},
        quick={"epochs": 1},
        body=_fsdd,
    ),
    "qcfs": Pipeline(
        summary="QCFS ANN->SNN conversion accuracy-vs-T curves (experiments/qcfs_curves.py)",
        defaults={**_COMMON, "dataset": "fashion", "epochs": None, "batch_size": None,
                  "learning_rate": None, "train_limit": None, "test_limit": None, "levels": None},
        quick={"epochs": 1, "train_limit": 2000, "test_limit": 200, "levels": [8]},
        body=_qcfs,
    ),
    "sequences": Pipeline(
        summary="synthetic MNIST sequences (Samadzadeh et al.): --model convsnn|resnet|cnn|cnn_lstm|"
                "convlstm|c3d, --seq 1..5, Table 1 CPU protocol (10k/2k clips, 8 epochs)",
        defaults={**_COMMON, "model": "convsnn", "seq": 1, "time_steps": 10,
                  "train_limit": 10000, "test_limit": 2000, "epochs": None, "batch_size": None,
                  "learning_rate": None},
        quick={"train_limit": 500, "test_limit": 200, "epochs": 1},
        body=_sequences,
    ),
}
