"""Benchmark: training and inference speed of the STS backends on 10-frame MNIST-sized clips.

Compares the models as built (per-frame layers wrapped in
:class:`~spykeflow.layers.time_fold.TimeFolded`: one op on all N*T frames) with the same models
built with ``keras.layers.TimeDistributed`` (Keras 3 loops over the time steps), and checks that
both give the same outputs from the same weights. Prints JSON: clips/s for training (the traced
train step of :class:`~spykeflow.classifier.Classifier`'s loop, median over ``--repeats``
epochs after a warm-up epoch) and inference, and the peak RSS.

    TF_NUM_INTRAOP_THREADS=1 python bench/bench_sts.py --clips 400 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_convsnn import timed  # noqa: E402  (warm-up, then the median of the repeats)

import spykeflow.backends.sts as sts  # noqa: E402
from spykeflow import backends  # noqa: E402
from spykeflow.layers.time_fold import TimeFolded  # noqa: E402
from spykeflow.training import _make_steps  # noqa: E402


def build(name, params, shape, n_classes, wrapper):
    sts.TimeFolded = wrapper      # the backends look the wrapper up at build time
    try:
        backend = backends.get(name, **params)
        backend.params["input_scale"] = 1.0
        model = backend.build_model(shape, n_classes, seed=0)
    finally:
        sts.TimeFolded = TimeFolded
    model.compile(keras.optimizers.Adam(1e-3), backend.loss(), jit_compile=False)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=20, help="the paper's ConvSNN batch size")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", nargs="+", default=["sts_convsnn", "sts_resnet"])
    ap.add_argument("--resnet-width", type=int, default=8)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    shape, n_classes = (10, 28, 28), 20
    x = rng.random((args.clips,) + shape, dtype=np.float32)
    y = rng.integers(0, n_classes, args.clips).astype(np.int32)
    params = {"sts_convsnn": {"filters": [48, 48], "switch_epoch": 0},
              "sts_resnet": {"base_width": args.resnet_width, "switch_epoch": 0}}
    result = {"config": vars(args), "clip_shape": list(shape), "tf": tf.__version__,
              "keras": keras.__version__, "cpus": os.cpu_count(),
              "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS"),
              "load_average_start": list(os.getloadavg()), "platform": platform.platform()}
    for name in args.models:
        entry = {}
        outputs = []
        for variant, wrapper in (("time_folded", TimeFolded),
                                 ("time_distributed", keras.layers.TimeDistributed)):
            keras.utils.set_random_seed(0)
            model = build(name, params[name], shape, n_classes, wrapper)
            outputs.append(model.predict(x[:40], batch_size=args.batch_size, verbose=0))
            train_step, _ = _make_steps(model, shape)

            def epoch(step=train_step):
                for i in range(0, args.clips, args.batch_size):
                    step(x[i:i + args.batch_size], y[i:i + args.batch_size])

            train, train_all = timed(epoch, args.repeats)
            infer, _ = timed(lambda m=model: m.predict(x, batch_size=args.batch_size, verbose=0),
                             args.repeats)
            entry[variant] = {"train_clips_per_s": args.clips / train, "epoch_s_all": train_all,
                              "inference_clips_per_s": args.clips / infer,
                              "params": int(model.count_params())}
        entry["same_outputs"] = bool(np.allclose(outputs[0], outputs[1], atol=1e-5))
        entry["train_speedup"] = (entry["time_folded"]["train_clips_per_s"]
                                  / entry["time_distributed"]["train_clips_per_s"])
        result[name] = entry
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load_average_end"] = list(os.getloadavg())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
