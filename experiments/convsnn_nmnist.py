"""ConvSNN (Safa et al. 2021 mini_eCNN) on the N-MNIST subset: float vs 4-bit QAT, over seeds.

Trains on the 1,000 training recordings and tests on the 100 test recordings of
``$SPYKEFLOW_DATA/nmnist_small``; writes a metrics JSON (``--out``) with, per seed:

* ``float``: a float-trained ConvSNN (``bits=None``): test accuracy, and the accuracy of the same
  weights quantised after training (post-training quantisation, ``ptq_accuracy``);
* ``quantized``: the same network trained with ``bits``-bit quantisation-aware training: test
  accuracy of the quantised network (``test_accuracy``) and of its float latent weights;
* ``hybrid`` (``--hybrid``): STDP Conv1 features of ``spykeflow.Network`` -> ConvSNN, if available;
* seconds per training epoch.

Usage::

    python experiments/convsnn_nmnist.py --seeds 0 1 2 --epochs 15 --bits 4 --out outputs/x.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import spykeflow  # noqa: E402
from spykeflow import io as sio  # noqa: E402
from spykeflow.backends.convsnn import ConvSNNBackend  # noqa: E402

log = logging.getLogger("convsnn_nmnist")


def bin_events(samples, time_steps):
    """Events -> bool frames (N, T, 34, 34, 2) with the EventEncoder binning (channel 0 = ON)."""
    from spykeflow.encoders import EventEncoder

    return EventEncoder(sensor_size=(34, 34), time_steps=time_steps).transform(samples)


def train_eval(backend, xtr, ytr, xte, yte, seed, epochs, batch_size, lr):
    keras.utils.set_random_seed(seed)
    model = backend.build_model(xtr.shape[1:], 10, seed)
    model.compile(keras.optimizers.Adam(lr), backend.loss(), metrics=["accuracy"],
                  jit_compile=False)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)
            log.info("seed %d epoch %d %.1fs loss %.4f acc %.3f", seed, epoch, times[-1],
                     logs["loss"], logs["accuracy"])

    model.fit(xtr, ytr, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True,
              callbacks=[Timer()])
    acc_q = float((backend.predict_logits(model, xte, 64, quantized=True).argmax(1) == yte).mean())
    acc_f = float((backend.predict_logits(model, xte, 64, quantized=False).argmax(1) == yte).mean())
    return model, acc_q, acc_f, times


def ptq_accuracy(model, xte, yte, bits):
    from spykeflow.layers.quantize import with_bits

    q = with_bits(model, bits)
    return float((q.predict(xte, batch_size=64, verbose=0).argmax(1) == yte).mean())


def hybrid_features(xtr, xte, seed, layer):
    """Time-resolved spikes (N, T, H, W, C) of STDP layer ``layer`` of ``spykeflow.Network``
    (default preset: Conv1 -> Pool1), trained unsupervised on the training frames; or None."""
    try:
        net = spykeflow.Network(seed=seed, progress=False).fit(xtr)
        return net.spikes_at(xtr, layer=layer), net.spikes_at(xte, layer=layer)
    except Exception as exc:  # report and skip: the hybrid is optional
        log.warning("hybrid skipped: %s: %s", type(exc).__name__, exc)
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--time-steps", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--readout", default="count")
    ap.add_argument("--filters", type=int, nargs="+", default=[12])
    ap.add_argument("--quant-axis", default="channel", choices=("channel", "layer"))
    ap.add_argument("--hidden", type=int, nargs="*", default=[128])
    ap.add_argument("--hybrid", action="store_true")
    ap.add_argument("--hybrid-layer", type=int, default=1,
                    help="STDP layer whose spikes feed the ConvSNN (default 1 = Pool1)")
    ap.add_argument("--no-raw", action="store_true", help="skip the QAT model on raw frames")
    ap.add_argument("--no-float", action="store_true", help="skip the float-trained baseline")
    ap.add_argument("--root", default=None, help="data root (default: $SPYKEFLOW_DATA)")
    ap.add_argument("--out", default="outputs/convsnn_nmnist/metrics.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    tf.config.threading.set_inter_op_parallelism_threads(2)

    t0 = time.perf_counter()
    (tr_ev, ytr), (te_ev, yte) = (spykeflow.datasets.load("nmnist", split=s, root=args.root)
                                  for s in ("train", "test"))
    xtr = bin_events(tr_ev, args.time_steps).astype(np.float32)
    xte = bin_events(te_ev, args.time_steps).astype(np.float32)
    log.info("data %s %s in %.1fs", xtr.shape, xte.shape, time.perf_counter() - t0)

    common = dict(readout=args.readout, filters=args.filters, hidden=args.hidden,
                  quant_axis=args.quant_axis)
    runs = []
    for seed in args.seeds:
        rec = {"seed": seed}
        if not args.no_float:
            be = ConvSNNBackend(bits=None, **common)
            model, acc, _, times = train_eval(be, xtr, ytr, xte, yte, seed, args.epochs,
                                              args.batch_size, args.lr)
            rec["float"] = {"test_accuracy": acc, "ptq_accuracy": ptq_accuracy(model, xte, yte,
                                                                               args.bits),
                            "epoch_seconds": times}
        if not args.no_raw:
            be = ConvSNNBackend(bits=args.bits, **common)
            model, acc_q, acc_f, times = train_eval(be, xtr, ytr, xte, yte, seed, args.epochs,
                                                    args.batch_size, args.lr)
            exported = be.export_quantized(model)
            levels = {k: int(np.unique(v["kernel_int"]).size) for k, v in exported.items()}
            rec["quantized"] = {"bits": args.bits, "test_accuracy": acc_q,
                                "latent_float_accuracy": acc_f, "epoch_seconds": times,
                                "distinct_levels": levels}
        if args.hybrid:
            feats = hybrid_features(xtr > 0, xte > 0, seed, args.hybrid_layer)
            if feats is not None:
                htr, hte = (np.asarray(f, np.float32) for f in feats)
                log.info("hybrid input %s, %.1f spikes/sample", htr.shape, htr.sum() / len(htr))
                hb = ConvSNNBackend(bits=args.bits, **{**common, "kernel_sizes": [3], "pool": 1})
                _, h_q, h_f, h_t = train_eval(hb, htr, ytr, hte, yte, seed, args.epochs,
                                              args.batch_size, args.lr)
                rec["hybrid"] = {"test_accuracy": h_q, "latent_float_accuracy": h_f,
                                 "epoch_seconds": h_t, "input_shape": list(htr.shape[1:]),
                                 "stdp_layer": args.hybrid_layer}
            else:
                rec["hybrid"] = None
        log.info("seed %d: %s", seed, json.dumps({k: v for k, v in rec.items()}, default=str)[:400])
        runs.append(rec)

    def stats(key, sub="test_accuracy"):
        vals = [r[key][sub] for r in runs if r.get(key)]
        return {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "n": len(vals),
                "values": vals} if vals else None

    summary = {
        "float_test_accuracy": stats("float"),
        "float_ptq_accuracy": stats("float", "ptq_accuracy"),
        "quantized_test_accuracy": stats("quantized"),
        "quantized_latent_float_accuracy": stats("quantized", "latent_float_accuracy"),
        "hybrid_test_accuracy": stats("hybrid"),
        "median_epoch_seconds_quantized": float(np.median(
            [t for r in runs if r.get("quantized") for t in r["quantized"]["epoch_seconds"][1:]]
            or [np.nan])),
        "median_epoch_seconds_float": float(np.median(
            [t for r in runs if r.get("float") for t in r["float"]["epoch_seconds"][1:]]
            or [np.nan])),
    }
    out = {"config": vars(args), "train_shape": list(xtr.shape), "test_shape": list(xte.shape),
           "backend": ConvSNNBackend(bits=args.bits, **common).get_config(),
           "runs": runs, "summary": summary,
           "test_accuracy": (summary["quantized_test_accuracy"] or {}).get("mean")}
    sio.write_json_atomic(pathlib.Path(args.out), out)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
