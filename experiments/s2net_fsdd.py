"""s2net on the Free Spoken Digit Dataset (Zimmer et al. architecture, scaled down for CPU).

Log-Mel features (40 bands, 20-4000 Hz, 30 ms window, 10 ms hop, + deltas; 10 ms = one time
step; silence trimmed at 40 dB, centred in 64 frames) -> 3 s2net convolutional spiking layers over (time, Mel) with lateral connections and
dilations (4,3)x(1,1), (4,3)x(4,3), (4,3)x(16,9) -> time-averaged readout.

Writes ``metrics.json`` (test accuracy, mean firing rate per layer in Hz, wall time per epoch),
``raster.png`` and, with ``--sweep``, ``tradeoff.png`` (accuracy vs firing rate over the spike
regularisation weight) under ``--out`` (default ``/work/outputs_shared/s2net``).

Examples::

    python experiments/s2net_fsdd.py --seeds 0 1 2
    python experiments/s2net_fsdd.py --seeds 0 --no-lateral
    python experiments/s2net_fsdd.py --seeds 0 --split speaker --test-speaker theo
    python experiments/s2net_fsdd.py --sweep 0 0.3 1 3 --channels 16 16 16 --epochs 8

The core is :func:`run` (``config dict -> metrics dict``) for ``main/main.py fsdd``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import re
import time

import numpy as np

logger = logging.getLogger("s2net_fsdd")

DEFAULTS = {
    "seed": 0,
    "epochs": 15,
    "batch_size": 32,
    "learning_rate": 2e-3,
    "weight_decay": 1e-5,
    "length": 64,
    "trim_db": 40.0,  # cut leading/trailing silence > 40 dB below the loudest frame (None: off)
    "channels": [32, 32, 32],
    "lateral": True,
    "recurrent": False,
    "beta": 0.7,
    "spike_regularization": 0.1,
    "clipvalue": 5.0,
    # training-set augmentation (spykeflow.functional.audio.augment_features); 0 = off
    "shift": 0,  # random time shift of up to +-shift frames
    "time_mask": 0,  # one SpecAugment time mask of up to time_mask frames
    "freq_mask": 0,  # one SpecAugment frequency mask of up to freq_mask Mel bands
    "noise": 0.0,  # Gaussian noise std (features are standardised per band)
    "split": "standard",  # "standard": recordings 0-4 test; "speaker": one speaker held out
    "test_speaker": "theo",
    "data_root": None,
    "out_dir": "/work/outputs_shared/s2net",
    "run_name": None,
    "tag": "",  # prefix of the default run name
    "plots": True,
    "monitor": False,  # log test accuracy and firing rates after every epoch (diagnosis only)
}

_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def load_fsdd(root=None):
    """Waveforms (list of float32 arrays), digits, speakers, indices and the sample rate.

    Order: digit, speaker, index. Uses ``spykeflow.datasets`` (``load("fsdd", split="all")``
    and ``fsdd_metadata``) when available; otherwise reads the WAV files under
    ``<root>/fsdd/recordings`` with scipy.
    """
    try:
        from spykeflow import datasets

        waves, digits = datasets.load("fsdd", split="all", root=root)
        meta = datasets.fsdd_metadata("all", root=root)
        rates = set(int(r) for r in meta["rate"])
        if len(rates) != 1:
            raise ValueError(f"Expected one sample rate in FSDD. Received: {sorted(rates)}.")
        return (list(waves), np.asarray(digits), np.asarray(meta["speaker"]),
                np.asarray(meta["index"]), rates.pop())
    except (ImportError, AttributeError):
        pass
    from scipy.io import wavfile

    root = pathlib.Path(root or os.environ.get("SPYKEFLOW_DATA", "AllDataSets"))
    folder = root / "fsdd" / "recordings"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"FSDD not found: expected WAV files in {folder}. Set SPYKEFLOW_DATA or data_root."
        )
    entries = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m:
            entries.append((int(m.group(1)), m.group(2), int(m.group(3)), path))
    entries.sort(key=lambda e: e[:3])
    waves, rate = [], None
    for _, _, _, path in entries:
        sr, x = wavfile.read(path)
        if rate is not None and sr != rate:
            raise ValueError(f"Mixed sample rates: {path} has {sr}, expected {rate}.")
        rate = sr
        waves.append(x.astype(np.float32) / 32768.0)
    return (waves, np.array([e[0] for e in entries]), np.array([e[1] for e in entries]),
            np.array([e[2] for e in entries]), rate)


def _features(waves, keys, rate, length, cache_dir, trim_db=None):
    """Log-Mel features (N, length, 40, 3), cached in ``cache_dir`` (checked against keys)."""
    from spykeflow.functional.audio import features_array
    from spykeflow.io import save_npz_atomic

    trim = "" if trim_db is None else f"_trim{trim_db:g}"
    cache = pathlib.Path(cache_dir) / f"fsdd_logmel_T{length}{trim}_v2.npz"
    if cache.exists():
        with np.load(cache) as z:
            if z["keys"].tolist() == keys:
                return z["x"]
    t0 = time.time()
    x = features_array(waves, length=length, sample_rate=rate, align="center", trim_db=trim_db)
    logger.info("features %s in %.1f s", x.shape, time.time() - t0)
    save_npz_atomic(cache, x=x, keys=np.array(keys))
    return x


def _train_dataset(x, y, cfg):
    """Shuffled (every epoch) training batches, augmented if the config asks for it."""
    import tensorflow as tf

    from spykeflow.functional.audio import augment_features

    ds = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
    ds = ds.shuffle(len(x), seed=cfg["seed"], reshuffle_each_iteration=True)
    ds = ds.batch(cfg["batch_size"])
    options = {"max_shift": int(cfg["shift"]), "time_masks": int(cfg["time_mask"] > 0),
               "max_time_mask": int(cfg["time_mask"]), "freq_masks": int(cfg["freq_mask"] > 0),
               "max_freq_mask": int(cfg["freq_mask"]), "noise_std": float(cfg["noise"])}
    if any(options.values()):
        seeds = tf.data.Dataset.random(seed=cfg["seed"], rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda xy, s: (augment_features(xy[0], s, **options), xy[1]))
    return ds.prefetch(2)


class _EpochTimer:
    """Times epochs and writes ``progress.json`` after each one (partial results survive).

    With ``monitor=(backend, x, y)`` it also logs the accuracy and per-layer firing rates on
    ``(x, y)`` after every epoch (for learning curves; never used to pick a model or epoch).
    The monitor's time is not counted in the epoch time.
    """

    def __init__(self, path=None, monitor=None):
        import keras

        from spykeflow.io import write_json_atomic

        class CB(keras.callbacks.Callback):
            def __init__(cb):
                super().__init__()
                cb.times, cb.logs = [], []

            def on_epoch_begin(cb, epoch, logs=None):
                cb.t0 = time.perf_counter()

            def on_epoch_end(cb, epoch, logs=None):
                cb.times.append(time.perf_counter() - cb.t0)
                logs = {k: float(v) for k, v in (logs or {}).items()}
                if monitor is not None:
                    backend, mx, my = monitor
                    pred = np.argmax(backend.predict_logits(cb.model, mx, batch_size=64), 1)
                    logs["monitor_accuracy"] = float(np.mean(pred == my))
                    for k, v in backend.firing_rates(cb.model, mx, batch_size=64).items():
                        logs[f"hz_{k}"] = v
                cb.logs.append(logs)
                if path is not None:
                    write_json_atomic(path, {"epoch_seconds": cb.times, "logs": cb.logs})
                logger.info("epoch %d %.1fs %s", epoch + 1, cb.times[-1],
                            {k: round(float(v), 4) for k, v in (logs or {}).items()})

        self.cb = CB()


def run(config=None):
    """Train and evaluate one s2net model on FSDD; returns (and writes) the metrics dict."""
    import keras
    import tensorflow as tf

    from spykeflow.backends.s2net import S2NetBackend

    cfg = {**DEFAULTS, **(config or {})}
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown config keys {sorted(unknown)}. Expected some of {sorted(DEFAULTS)}.")
    out = pathlib.Path(cfg["out_dir"])
    name = cfg["run_name"] or (
        (f"{cfg['tag']}_" if cfg["tag"] else "") + f"{cfg['split']}_{'lat' if cfg['lateral'] else 'nolat'}_reg{cfg['spike_regularization']}"
        f"_seed{cfg['seed']}"
    )
    run_dir = out / name
    run_dir.mkdir(parents=True, exist_ok=True)

    waves, digits, speakers, indices, rate = load_fsdd(cfg["data_root"])
    keys = [f"{d}_{s}_{i}" for d, s, i in zip(digits, speakers, indices)]
    x = _features(waves, keys, rate, cfg["length"], out / "cache", cfg["trim_db"])
    if cfg["split"] == "standard":
        test = indices < 5
    elif cfg["split"] == "speaker":
        if cfg["test_speaker"] not in set(speakers):
            raise ValueError(f"Unknown test_speaker {cfg['test_speaker']!r}: {sorted(set(speakers))}.")
        test = speakers == cfg["test_speaker"]
    else:
        raise ValueError(f"Expected split 'standard' or 'speaker'. Received: {cfg['split']!r}.")
    xtr, ytr, xte, yte = x[~test], digits[~test], x[test], digits[test]

    keras.utils.set_random_seed(cfg["seed"])
    backend = S2NetBackend(
        filters=cfg["channels"], lateral=cfg["lateral"], recurrent=cfg["recurrent"],
        beta=cfg["beta"], spike_regularization=cfg["spike_regularization"],
        gradient_clip=cfg["clipvalue"],
    )
    backend.check_input(xtr)
    model = backend.build_model(xtr.shape[1:], 10, cfg["seed"])
    steps = int(np.ceil(len(xtr) / cfg["batch_size"]))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, steps * (cfg["epochs"] - 1)), warmup_target=cfg["learning_rate"],
        warmup_steps=steps,
    )
    opt = keras.optimizers.AdamW(schedule, weight_decay=cfg["weight_decay"],
                                 **backend.optimizer_kwargs())
    model.compile(optimizer=opt, loss=backend.loss(), metrics=["accuracy"])
    train_data = _train_dataset(xtr, ytr, cfg)
    timer = _EpochTimer(run_dir / "progress.json",
                        monitor=(backend, xte, yte) if cfg["monitor"] else None)
    t0 = time.perf_counter()
    history = model.fit(train_data, epochs=cfg["epochs"], verbose=0, callbacks=[timer.cb])
    train_time = time.perf_counter() - t0
    logits = backend.predict_logits(model, xte, batch_size=64)
    acc = float(np.mean(np.argmax(logits, 1) == yte))
    rates = backend.firing_rates(model, xte, batch_size=64, dt=0.01)
    sizes = {l.name: int(np.prod(l.output.shape[1:]) / l.output.shape[1])
             for l in backend.spiking_layers(model)}
    mean_rate = sum(rates[k] * sizes[k] for k in rates) / sum(sizes.values())
    metrics = {
        "test_accuracy": acc,
        "train_accuracy": float(history.history["accuracy"][-1]),
        "firing_rate_hz": rates,
        "mean_firing_rate_hz": mean_rate,
        "neurons_per_layer": sizes,
        "epoch_seconds": timer.cb.times,
        "median_epoch_seconds": float(np.median(timer.cb.times)),
        "train_seconds": train_time,
        "n_train": int(len(xtr)),
        "n_test": int(len(xte)),
        "betas": {l.name: float(l.beta.numpy()) for l in backend.spiking_layers(model)},
        "config": cfg,
        "backend": backend.get_config(),
    }
    from spykeflow.io import write_json_atomic

    write_json_atomic(run_dir / "metrics.json", metrics)
    model.save(run_dir / "model.keras")
    if cfg["plots"]:
        raster(model, backend, xte[:1], run_dir / "raster.png")
    logger.info("%s: test accuracy %.4f, rates %s", name, acc, rates)
    return metrics


def raster(model, backend, x, path):
    """Input features and the spike rasters of every spiking layer for one sample."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spykeflow.io import atomic_path

    layers = backend.spiking_layers(model)
    spikes = backend.spike_model(model)(x, training=False)
    if len(layers) == 1:
        spikes = [spikes]
    fig, axes = plt.subplots(len(layers) + 1, 1, figsize=(8, 2.2 * (len(layers) + 1)), sharex=True)
    axes[0].imshow(x[0, :, :, 0].T, aspect="auto", origin="lower", cmap="magma")
    axes[0].set_ylabel("Mel band")
    axes[0].set_title("log-Mel input (standardised)")
    for ax, layer, s in zip(axes[1:], layers, spikes):
        s = np.asarray(s)[0]  # (T, L, C)
        t, pos, ch = np.nonzero(s)
        neuron = ch * s.shape[1] + pos
        ax.scatter(t, neuron, s=1, c="k", marker="|")
        rate = s.mean() / 0.01
        ax.set_ylabel("channel x position")
        ax.set_title(f"{layer.name}: {rate:.1f} Hz")
        ax.set_ylim(0, s.shape[1] * s.shape[2])
    axes[-1].set_xlabel("time step (10 ms)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def tradeoff_plot(results, path):
    """Accuracy vs mean firing rate for several regularisation weights."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spykeflow.io import atomic_path

    fig, ax = plt.subplots(figsize=(5, 4))
    for lam, m in sorted(results.items()):
        ax.scatter(m["mean_firing_rate_hz"], 100 * m["test_accuracy"], c="C0")
        ax.annotate(f"λ={lam:g}", (m["mean_firing_rate_hz"], 100 * m["test_accuracy"]),
                    xytext=(4, -12), textcoords="offset points")
    xs = [m["mean_firing_rate_hz"] for _, m in sorted(results.items())]
    ys = [100 * m["test_accuracy"] for _, m in sorted(results.items())]
    ax.plot(xs, ys, c="C0", alpha=0.5)
    ax.margins(x=0.12, y=0.08)
    ax.set_xlabel("mean firing rate (Hz)")
    ax.set_ylabel("FSDD test accuracy (%)")
    ax.set_title("s2net: accuracy vs spike regularisation")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    p.add_argument("--channels", type=int, nargs="+", default=DEFAULTS["channels"])
    p.add_argument("--length", type=int, default=DEFAULTS["length"])
    p.add_argument("--trim-db", type=float, default=DEFAULTS["trim_db"],
                   help="cut silence this many dB below the loudest frame (0: no trimming)")
    p.add_argument("--lr", type=float, default=DEFAULTS["learning_rate"])
    p.add_argument("--reg", type=float, default=DEFAULTS["spike_regularization"])
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--shift", type=int, default=DEFAULTS["shift"],
                   help="augmentation: random time shift of up to +-SHIFT frames")
    p.add_argument("--time-mask", type=int, default=DEFAULTS["time_mask"],
                   help="augmentation: one time mask of up to TIME_MASK frames")
    p.add_argument("--freq-mask", type=int, default=DEFAULTS["freq_mask"],
                   help="augmentation: one frequency mask of up to FREQ_MASK Mel bands")
    p.add_argument("--noise", type=float, default=DEFAULTS["noise"],
                   help="augmentation: Gaussian noise std")
    p.add_argument("--no-lateral", action="store_true")
    p.add_argument("--recurrent", action="store_true")
    p.add_argument("--split", choices=["standard", "speaker"], default="standard")
    p.add_argument("--test-speaker", default=DEFAULTS["test_speaker"])
    p.add_argument("--sweep", type=float, nargs="+", default=None,
                   help="regularisation weights for the accuracy/firing-rate trade-off")
    p.add_argument("--monitor", action="store_true",
                   help="log test accuracy and firing rates after every epoch (diagnosis only)")
    p.add_argument("--tag", default="", help="prefix of the run folders' names")
    p.add_argument("--out", default=DEFAULTS["out_dir"])
    p.add_argument("--data-root", default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base = {
        "epochs": args.epochs, "channels": args.channels, "length": args.length,
        "learning_rate": args.lr, "spike_regularization": args.reg,
        "lateral": not args.no_lateral, "recurrent": args.recurrent, "split": args.split,
        "test_speaker": args.test_speaker, "out_dir": args.out, "data_root": args.data_root,
        "monitor": args.monitor, "batch_size": args.batch_size, "shift": args.shift,
        "time_mask": args.time_mask, "freq_mask": args.freq_mask, "noise": args.noise,
        "tag": args.tag, "trim_db": args.trim_db or None,
    }
    if args.sweep:
        results = {}
        for lam in args.sweep:
            results[lam] = run({**base, "seed": args.seeds[0], "spike_regularization": lam})
        tradeoff_plot(results, pathlib.Path(args.out) / "tradeoff.png")
        summary = {str(k): {"test_accuracy": v["test_accuracy"],
                            "mean_firing_rate_hz": v["mean_firing_rate_hz"]}
                   for k, v in results.items()}
    else:
        accs, rates = [], []
        for seed in args.seeds:
            m = run({**base, "seed": seed})
            accs.append(m["test_accuracy"])
            rates.append(m["mean_firing_rate_hz"])
        summary = {"seeds": args.seeds, "test_accuracy": accs,
                   "mean": float(np.mean(accs)), "std": float(np.std(accs)),
                   "mean_firing_rate_hz": rates}
    print(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
