"""Benchmark: one training epoch of the ConvSNN, compiled vs an unrolled Python loop of eager ops.

Both versions compute the same network (the ConvSNN backend's model: LIFConv2D -> 2x2 max-pool ->
LIFDense -> spike-count LIFDense, 4-bit QAT) with the same variables:

* ``compiled``: the Keras model trained by ``model.fit`` (one ``tf.function`` per step; synaptic
  currents of all T steps in one conv/matmul, neuron dynamics in one ``tf.scan``);
* ``compiled_xla``: the same with ``jit_compile=True``;
* ``eager``: per batch, a Python ``for t in range(T)`` loop calling the conv, pooling, matmul and
  :func:`spykeflow.functional.lif.lif_step` eagerly, op by op, under a ``GradientTape``.

Prints JSON: seconds per epoch (median of ``--repeats``, after one warm-up epoch that includes
tracing) and images/s for training and inference. Timings on a shared machine are disturbed by
other processes; compare numbers taken in the same run.

    python bench/bench_convsnn.py --samples 256 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from spykeflow.backends.convsnn import ConvSNNBackend  # noqa: E402
from spykeflow.functional import lif as F  # noqa: E402


def eager_epoch(model, x, y, batch_size, optimizer, loss_fn, train=True):
    """One epoch written as a Python loop over batches and time steps of eager TF ops."""
    conv, hidden, out = (model.get_layer(n) for n in ("conv1", "hidden1", "output"))
    pool = model.get_layer("pool1").pool_size
    variables = model.trainable_variables
    preds = []
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        yb = tf.constant(y[start:start + batch_size])
        with tf.GradientTape() as tape:
            pc, ph, po = conv.neuron_params(), hidden.neuron_params(), out.neuron_params()
            kc, kh, ko = conv.quantized_kernel(), hidden.quantized_kernel(), out.quantized_kernel()
            sc = sh = so = None
            count = 0.0
            for t in range(x.shape[1]):
                cur = tf.nn.convolution(xb[:, t], kc, padding="VALID") + conv.bias
                if sc is None:
                    sc = F.initial_state(cur)
                s, sc = F.lif_step(cur, sc, pc)
                s = tf.nn.max_pool2d(s, pool, pool, "VALID")
                s = tf.reshape(s, [tf.shape(s)[0], -1])
                cur = tf.matmul(s, kh) + hidden.bias
                if sh is None:
                    sh = F.initial_state(cur)
                s, sh = F.lif_step(cur, sh, ph)
                cur = tf.matmul(s, ko) + out.bias
                if so is None:
                    so = F.initial_state(cur)
                s, so = F.lif_step(cur, so, po)
                count = count + s
            loss = loss_fn(yb, count)
        if train:
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
        else:
            preds.append(count.numpy())
    return None if train else np.concatenate(preds)


def timed(fn, repeats):
    fn()  # warm-up (tracing / first-call overhead)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--time-steps", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--filters", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--skip-xla", action="store_true")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    shape = (args.time_steps, 34, 34, 2)  # N-MNIST frames
    x = (rng.random((args.samples,) + shape) < 0.05).astype(np.float32)
    y = rng.integers(0, 10, args.samples).astype(np.int32)
    be = ConvSNNBackend(filters=[args.filters], hidden=[args.hidden], bits=args.bits)
    result = {"config": vars(args), "input_shape": list(shape), "tf": tf.__version__,
              "keras": keras.__version__, "cpus": os.cpu_count(),
              "load_average_start": list(os.getloadavg()), "platform": platform.platform()}

    variants = [("compiled", False)] + ([] if args.skip_xla else [("compiled_xla", True)])
    for name, jit in variants:
        keras.utils.set_random_seed(0)
        model = be.build_model(shape, 10, seed=0)
        model.compile(keras.optimizers.Adam(1e-3), be.loss(), jit_compile=jit)
        t_first = time.perf_counter()
        model.fit(x[: args.batch_size], y[: args.batch_size], batch_size=args.batch_size,
                  epochs=1, verbose=0)
        first = time.perf_counter() - t_first
        train, train_all = timed(lambda m=model: m.fit(x, y, batch_size=args.batch_size,
                                                       epochs=1, verbose=0, shuffle=False),
                                 args.repeats)
        infer, infer_all = timed(lambda m=model: m.predict(x, batch_size=args.batch_size,
                                                           verbose=0), args.repeats)
        result[name] = {"epoch_seconds": train, "epoch_seconds_all": train_all,
                        "train_images_per_s": args.samples / train,
                        "inference_seconds": infer, "inference_images_per_s": args.samples / infer,
                        "first_step_seconds_incl_tracing": first}

    keras.utils.set_random_seed(0)
    model = be.build_model(shape, 10, seed=0)
    opt = keras.optimizers.Adam(1e-3)
    loss_fn = be.loss()
    ref = model.predict(x[:8], verbose=0)
    eager_pred = eager_epoch(model, x[:8], y[:8], 8, opt, loss_fn, train=False)
    result["eager_matches_compiled_forward"] = bool(np.allclose(ref, eager_pred, atol=1e-4))
    train, train_all = timed(lambda: eager_epoch(model, x, y, args.batch_size, opt, loss_fn),
                             args.repeats)
    infer, infer_all = timed(lambda: eager_epoch(model, x, y, args.batch_size, opt, loss_fn,
                                                 train=False), args.repeats)
    result["eager"] = {"epoch_seconds": train, "epoch_seconds_all": train_all,
                       "train_images_per_s": args.samples / train, "inference_seconds": infer,
                       "inference_images_per_s": args.samples / infer}
    result["speedup_train_compiled_vs_eager"] = (result["eager"]["epoch_seconds"]
                                                 / result["compiled"]["epoch_seconds"])
    result["speedup_inference_compiled_vs_eager"] = (result["eager"]["inference_seconds"]
                                                     / result["compiled"]["inference_seconds"])
    result["load_average_end"] = list(os.getloadavg())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
