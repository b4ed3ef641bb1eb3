"""s2net on the Free Spoken Digit Dataset (Zimmer et al. architecture, scaled down for CPU).

The experiments around ``main/main.py fsdd`` (``main/fsdd.py``: the same features, model and
training through ``spykeflow.Classifier("s2net")``): several seeds, the speaker-held-out split,
lateral connections off, and the accuracy / firing-rate trade-off over the spike regularisation
weight. Each run is a run folder ``<out>/<name>/`` (``config.json``, ``metrics.json`` with the
test accuracy, firing rates per layer in Hz and the wall time per epoch, the saved classifier,
the figures); a finished run with the same settings is not trained again. ``--sweep`` also
writes ``<out>/tradeoff.png``.

Examples::

    python experiments/s2net_fsdd.py --seeds 0 1 2
    python experiments/s2net_fsdd.py --seeds 0 --no-lateral
    python experiments/s2net_fsdd.py --seeds 0 --split speaker --test-speaker theo
    python experiments/s2net_fsdd.py --sweep 0 0.3 1 3 --channels 16 16 16 --epochs 8
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "main"))

import fsdd  # noqa: E402  (main/fsdd.py)
from run import Run  # noqa: E402

from spykeflow import io  # noqa: E402

logger = logging.getLogger("s2net_fsdd")
DEFAULTS = fsdd.FsddConfig()


def monitor(x, y, path):
    """A Keras callback logging the accuracy and the firing rates on ``(x, y)`` after every
    epoch into ``path`` (learning curves; never used to pick a model or an epoch)."""
    import keras

    from spykeflow.backends.s2net import S2NetBackend

    backend = S2NetBackend()

    class Monitor(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.logs = []

        def on_epoch_end(self, epoch, logs=None):
            pred = np.argmax(self.model.predict(x, batch_size=64, verbose=0), 1)
            entry = {k: float(v) for k, v in (logs or {}).items()}
            entry["monitor_accuracy"] = float(np.mean(pred == y))
            for k, v in backend.firing_rates(self.model, x, batch_size=64).items():
                entry[f"hz_{k}"] = v
            self.logs.append(entry)
            io.write_json_atomic(path, {"logs": self.logs})
            logger.info("epoch %d %s", epoch + 1, {k: round(v, 4) for k, v in entry.items()})

    return Monitor()


def run_one(config: fsdd.FsddConfig, out: pathlib.Path, tag: str = "",
            with_monitor: bool = False) -> dict:
    """Train and test one model in ``<out>/<name>``; return its metrics."""
    name = ((f"{tag}_" if tag else "") + f"{config.split}_{'lat' if config.lateral else 'nolat'}"
            f"_reg{config.spike_regularization}_seed{config.seed}")
    run = Run(out / name)
    config_file = run.path("config.json")
    if run.state and io.read_json(config_file) != config.to_json():
        raise SystemExit(f"{run.dir} holds a run with other settings; pass another --tag or "
                         "--out")
    io.write_json_atomic(config_file, config.to_json())
    callbacks = []
    if with_monitor:
        x, digits, speakers, indices = fsdd.features(run, config, out / "cache")
        _, _, x_test, y_test = fsdd.split(config, x, digits, speakers, indices)
        callbacks.append(monitor(x_test, y_test, run.path("progress.json")))
    metrics = fsdd.train_and_test(run, config, out / "cache", callbacks)
    io.write_json_atomic(run.path("metrics.json"), metrics)
    logger.info("%s: test accuracy %.4f, rates %s", name, metrics["test_accuracy"],
                metrics["firing_rate_hz"])
    return metrics


def tradeoff_plot(results, path):
    """Accuracy vs mean firing rate for several regularisation weights."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    points = [(lam, m["mean_firing_rate_hz"], 100 * m["test_accuracy"])
              for lam, m in sorted(results.items())]
    for lam, rate, acc in points:
        ax.scatter(rate, acc, color="tab:blue")
        ax.annotate(f"λ={lam:g}", (rate, acc), xytext=(4, -12), textcoords="offset points")
    ax.plot([p[1] for p in points], [p[2] for p in points], color="tab:blue", alpha=0.5)
    ax.margins(x=0.12, y=0.08)
    ax.set_xlabel("mean firing rate (Hz)")
    ax.set_ylabel("FSDD test accuracy (%)")
    ax.set_title("s2net: accuracy vs spike regularisation")
    fig.tight_layout()
    Run(path.parent).save_figure(fig, path.name)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    p.add_argument("--channels", type=int, nargs="+", default=list(DEFAULTS.hidden))
    p.add_argument("--length", type=int, default=DEFAULTS.length)
    p.add_argument("--trim-db", type=float, default=DEFAULTS.trim_db,
                   help="cut silence this many dB below the loudest frame (0: no trimming)")
    p.add_argument("--lr", type=float, default=DEFAULTS.learning_rate)
    p.add_argument("--reg", type=float, default=DEFAULTS.spike_regularization)
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    p.add_argument("--no-lateral", action="store_true")
    p.add_argument("--recurrent", action="store_true")
    p.add_argument("--split", choices=["standard", "speaker"], default=DEFAULTS.split)
    p.add_argument("--test-speaker", default=DEFAULTS.test_speaker)
    p.add_argument("--sweep", type=float, nargs="+", default=None,
                   help="regularisation weights for the accuracy/firing-rate trade-off")
    p.add_argument("--monitor", action="store_true",
                   help="log test accuracy and firing rates after every epoch (diagnosis only)")
    p.add_argument("--tag", default="", help="prefix of the run folders' names")
    p.add_argument("--out", default="outputs/s2net")
    p.add_argument("--data-root", default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = pathlib.Path(args.out)
    base = dataclasses.replace(
        DEFAULTS, pipeline="fsdd", epochs=args.epochs, hidden=tuple(args.channels),
        length=args.length, trim_db=args.trim_db or None, learning_rate=args.lr,
        spike_regularization=args.reg, batch_size=args.batch_size,
        lateral=not args.no_lateral, recurrent=args.recurrent, split=args.split,
        test_speaker=args.test_speaker, data_root=args.data_root)
    if args.sweep:
        results = {lam: run_one(dataclasses.replace(base, seed=args.seeds[0],
                                                    spike_regularization=lam),
                                out, args.tag, args.monitor) for lam in args.sweep}
        tradeoff_plot(results, out / "tradeoff.png")
        summary = {str(k): {"test_accuracy": v["test_accuracy"],
                            "mean_firing_rate_hz": v["mean_firing_rate_hz"]}
                   for k, v in results.items()}
    else:
        runs = [run_one(dataclasses.replace(base, seed=seed), out, args.tag, args.monitor)
                for seed in args.seeds]
        accs = [m["test_accuracy"] for m in runs]
        summary = {"seeds": args.seeds, "test_accuracy": accs,
                   "mean": float(np.mean(accs)), "std": float(np.std(accs)),
                   "mean_firing_rate_hz": [m["mean_firing_rate_hz"] for m in runs]}
    print(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
