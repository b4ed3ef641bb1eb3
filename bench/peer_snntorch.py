"""Peer benchmark: SpykeFlow's ``sts_convsnn`` 48-48 (SNN phase) rebuilt with snnTorch.

Measures training and inference clips/s of the same network written with snnTorch (the
PyTorch spiking-network library), eager and with ``torch.compile``, on one compute thread by
default, and checks that it computes what SpykeFlow computes.

The network is SpykeFlow's ``sts_convsnn`` with ``filters=[48, 48], switch_epoch=0`` (spikes from
the first epoch)::

    clip (N, 10, 28, 28) -> per time step t:
        Conv2d(1->48, 3x3, pad 1) -> LIF -> AvgPool 2 -> Conv2d(48->48, 3x3, pad 1) -> LIF
        -> AvgPool 2 -> flatten (48*7*7) -> Linear(20) -> LIF
    -> fire rate = mean of the output spikes over time;  loss = MSE(rate, one-hot); Adam 1e-3

    LIF (``snn.Leaky``, beta 0.5, threshold 0.5, reset "none"):
        u[t] = 0.5 u[t-1] + i[t];   s[t] = H(u[t] - 0.5)
        backward: dH/dx = exp(-x^2 / (2 sigma^2)) / (sigma sqrt(2 pi)),  sigma = 1/6

The time loop is a Python loop over the frames, as in the snnTorch tutorials. Timing follows
``bench/bench_backends.py``: random clips in [0, 1) from ``numpy.random.default_rng(0)``, batch 20,
one warm-up epoch (tracing / compiling), then the median of ``--epochs`` timed epochs.
"compiled" is the faster of ``torch.compile(model)`` and ``torch.compile(model)`` plus a
compiled Adam step. The equivalence check builds SpykeFlow's model with ``KERAS_BACKEND=torch``
in a subprocess, copies its weights into the snnTorch network (NHWC -> NCHW) and compares the
fire rates of the eager and the compiled network on 20 clips, with the kernels as built and
doubled (as built, the output layer hardly fires on random clips). It also compares the weight
gradients of the MSE loss; where SpykeFlow's layers compute outside torch's autograd (its STS
layers run TensorFlow ops even with ``KERAS_BACKEND=torch``, so their output is a TensorFlow
tensor), the gradients are compared on the TensorFlow backend instead.

snnTorch is not a SpykeFlow dependency; install it separately (``pip install snntorch``).

    python bench/peer_snntorch.py --clips 200 --epochs 3 --threads 1

``child(data_path, epochs)`` runs the compiled variant on the clips of an ``.npz`` (``x``,
``y``) for ``bench/bench_backends.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

BATCH, CLASSES, FILTERS, BETA, THRESHOLD, SIGMA = 20, 20, 48, 0.5, 0.5, 1.0 / 6.0
LAYERS = ("conv1", "conv2", "output")  # SpykeFlow's layer names
#: Kernel gains of the equivalence check: as built (sparse: the output layer barely fires on
#: random clips) and x2 (every layer fires: about 10 %, 25 % and 55 % of the steps).
GAINS = (1.0, 2.0)


def _torch(threads: int | None):
    """Import torch limited to ``threads`` compute threads (None: leave as is)."""
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    import torch

    if threads:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set, or inter-op work already started
            pass
    return torch


def build(seed: int = 0, device: str = "cpu"):
    """The snnTorch network (GlorotUniform kernels, zero biases) on ``device``."""
    import snntorch as snn
    import torch
    from torch import nn

    class GaussianSpike(torch.autograd.Function):
        """Heaviside ``x >= 0`` with the Gaussian surrogate derivative N(0, SIGMA)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x >= 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            g = torch.exp(-x * x / (2 * SIGMA**2)) / (SIGMA * math.sqrt(2 * math.pi))
            return grad * g

    def lif():
        return snn.Leaky(beta=BETA, threshold=THRESHOLD, spike_grad=GaussianSpike.apply,
                         reset_mechanism="none")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.lif1 = nn.Conv2d(1, FILTERS, 3, padding=1), lif()
            self.conv2, self.lif2 = nn.Conv2d(FILTERS, FILTERS, 3, padding=1), lif()
            self.fc, self.lif3 = nn.Linear(FILTERS * 7 * 7, CLASSES), lif()
            self.pool = nn.AvgPool2d(2)

        def forward(self, x):  # (N, T, 28, 28) -> fire rates (N, CLASSES)
            mem1, mem2, mem3 = self.lif1.reset_mem(), self.lif2.reset_mem(), self.lif3.reset_mem()
            spikes = []
            for t in range(x.shape[1]):
                spk1, mem1 = self.lif1(self.conv1(x[:, t].unsqueeze(1)), mem1)
                spk2, mem2 = self.lif2(self.conv2(self.pool(spk1)), mem2)
                spk3, mem3 = self.lif3(self.fc(self.pool(spk2).flatten(1)), mem3)
                spikes.append(spk3)
            return torch.stack(spikes).mean(0)

        def clear_state(self):
            """Empty the membrane buffers that snnTorch keeps between calls: every call then
            starts from the same state. (``torch.compile`` guards on these buffers: their
            shape and ``requires_grad`` left by the previous call would otherwise recompile
            the model whenever training and inference alternate.)"""
            for lif in (self.lif1, self.lif2, self.lif3):
                lif.mem = torch.zeros(0, device=lif.mem.device)

    torch.manual_seed(seed)
    net = Net()
    for layer in (net.conv1, net.conv2, net.fc):
        nn.init.xavier_uniform_(layer.weight)  # = Keras GlorotUniform (same fans)
        nn.init.zeros_(layer.bias)
    return net.to(device)


def load_keras_weights(net, weights: dict) -> None:
    """Copy SpykeFlow's kernels (HWIO convs, (7*7*48, K) dense on NHWC flatten) into ``net``."""
    import torch

    def t(a):
        return torch.as_tensor(np.ascontiguousarray(a))

    with torch.no_grad():
        for name in ("conv1", "conv2"):
            getattr(net, name).weight.copy_(t(weights[f"{name}/kernel"].transpose(3, 2, 0, 1)))
            getattr(net, name).bias.copy_(t(weights[f"{name}/bias"]))
        k = weights["output/kernel"]  # rows ordered (h, w, c); torch flattens (c, h, w)
        net.fc.weight.copy_(t(k.reshape(7, 7, FILTERS, CLASSES).transpose(3, 2, 0, 1)
                               .reshape(CLASSES, -1)))
        net.fc.bias.copy_(t(weights["output/bias"]))


def torch_grads_as_keras(net) -> dict:
    """Weight gradients of ``net`` in SpykeFlow's layouts (inverse of ``load_keras_weights``)."""
    g = {}
    for name in ("conv1", "conv2"):
        g[f"{name}/kernel"] = getattr(net, name).weight.grad.numpy().transpose(2, 3, 1, 0)
        g[f"{name}/bias"] = getattr(net, name).bias.grad.numpy()
    w = net.fc.weight.grad.numpy().reshape(CLASSES, FILTERS, 7, 7).transpose(2, 3, 1, 0)
    g["output/kernel"] = w.reshape(-1, CLASSES)
    g["output/bias"] = net.fc.bias.grad.numpy()
    return g


class Runner:
    """Model, Adam (Keras defaults: eps 1e-7) and the train / inference epochs of one variant."""

    def __init__(self, variant: str, device: str = "cpu", seed: int = 0):
        import torch
        import torch.nn.functional as F

        self.torch, self.device = torch, device
        self.net = build(seed, device)
        self.model = self.net if variant == "eager" else torch.compile(self.net)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3, eps=1e-7)
        opt_step = torch.compile(self.opt.step) if variant == "compiled+opt" else self.opt.step

        def train_step(x, y):
            self.opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(self(x), F.one_hot(y, CLASSES).to(x.dtype))
            loss.backward()
            opt_step()
            return loss

        self.train_step = train_step

    def __call__(self, x):
        self.net.clear_state()
        return self.model(x)

    def batches(self, x, y):
        x = self.torch.as_tensor(x, dtype=self.torch.float32, device=self.device)
        y = self.torch.as_tensor(y, dtype=self.torch.int64, device=self.device)
        return [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]

    def train_epoch(self, batches) -> None:
        for xb, yb in batches:
            self.train_step(xb, yb)
        self._sync()

    def infer(self, batches):
        with self.torch.no_grad():
            out = [self(xb) for xb, _ in batches]
        self._sync()
        return self.torch.cat(out)

    def _sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()


def timed(fn, epochs: int) -> tuple[float, float]:
    """Seconds per epoch: one warm-up call (tracing, compiling), then the median of ``epochs``
    timed calls; and the process's CPU seconds per wall second over them (1.0 = one busy
    core: checks the thread limit)."""
    fn()
    times = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(epochs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def measure(runner: Runner, x, y, epochs: int) -> dict:
    batches = runner.batches(x, y)
    train_s, cpu_per_wall = timed(lambda: runner.train_epoch(batches), epochs)
    infer_s, _ = timed(lambda: runner.infer(batches), epochs)
    return {"train_clips_per_s": len(x) / train_s, "inference_clips_per_s": len(x) / infer_s,
            "cpu_per_wall": cpu_per_wall}


def make_data(n: int):
    """The clips of ``bench/bench_backends.py``'s ``sts_convsnn`` workload."""
    rng = np.random.default_rng(0)
    return rng.random((n, 10, 28, 28), dtype=np.float32), rng.integers(0, CLASSES, n)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(data_path: str, epochs: int, threads: int | None = None,
          variant: str = "compiled") -> dict:
    """A compiled variant (default: ``torch.compile(model)``) on the clips of ``data_path``
    (``x``, ``y``), as a ``bench/bench_backends.py`` child result. ``threads``: None keeps
    torch's setting (the parent sets ``OMP_NUM_THREADS``). ``params`` counts the trainable
    weights (68,324); Keras' ``count_params`` of SpykeFlow's model adds its non-trainable
    per-channel beta/threshold and mode variables (68,562)."""
    torch = _torch(threads)
    with np.load(data_path) as d:
        x, y = d["x"], d["y"]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    runner = Runner(variant, device)
    result = measure(runner, x, y, epochs)
    return {**result, "peak_rss_mb": _peak_rss_mb(),
            "params": sum(p.numel() for p in runner.net.parameters()),
            "devices": [str(torch.device(device))]}


# ------------------------------------------------------------------------- equivalence
def export_spykeflow(path: str, n: int) -> None:
    """(Subprocess, any ``KERAS_BACKEND``) SpykeFlow's model in the SNN phase: its weights, its
    fire rates on the first ``n`` clips and the weight gradients of the MSE loss (where the
    backend's autograd reaches them), saved to ``path`` for each kernel gain of ``GAINS``."""
    import keras

    from spykeflow import backends
    from spykeflow.layers.sts import set_mode

    backend = backends.get("sts_convsnn", filters=[FILTERS, FILTERS], switch_epoch=0)
    model = backend.build_model((10, 28, 28), CLASSES, seed=0)
    set_mode(model, "snn")  # what STSSwitch(switch_epoch=0) does at on_train_begin
    layers = [model.get_layer(name) for name in LAYERS]
    assert all(layer.get_mode() == "snn" and not layer.rest_active() for layer in layers)
    variables = [v for layer in layers for v in (layer.kernel, layer.bias)]
    initial = [layer.get_weights() for layer in layers]
    loss_fn = backend.loss()  # RateMSE, mean over the batch
    x, y = make_data(n)
    out = {"x": x, "y": y}
    for gain in GAINS:
        for layer, weights in zip(layers, initial):
            layer.set_weights([weights[0] * np.float32(gain)] + weights[1:])  # kernel first
        key = f"gain{gain:g}/"
        for layer in layers:
            out[key + f"{layer.name}/kernel"], out[key + f"{layer.name}/bias"] = \
                layer.get_weights()[:2]
        grads = None
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                rates = model(x, training=True)
                loss = loss_fn(y, rates)
            grads = tape.gradient(loss, variables)
        else:
            for v in variables:
                v.value.grad = None
            rates = model(x, training=True)
            if getattr(rates, "grad_fn", None) is not None:  # torch autograd reached the output
                loss_fn(keras.ops.convert_to_tensor(y), rates).backward()
                grads = [v.value.grad for v in variables]
        out[key + "rates"] = keras.ops.convert_to_numpy(rates)
        if grads is not None:
            for name, g in zip([f"{ly}/{w}" for ly in LAYERS for w in ("kernel", "bias")], grads):
                out[key + "grad/" + name] = keras.ops.convert_to_numpy(g)
    out["rates_type"] = np.array(type(rates).__module__ + "." + type(rates).__name__)
    np.savez(path, **out)


def _export(keras_backend: str, path: str, n: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": keras_backend, "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(
               os.path.abspath(__file__))), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, __file__, "--export", path, "--n", str(n)], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with np.load(path) as d:
        return dict(d)


def compare(ref: dict, compiled: Runner | None = None) -> dict:
    """Fire rates (and gradients, if ``ref`` has them) of the snnTorch network from ``ref``'s
    weights against SpykeFlow's, per gain; ``compiled``: also the compiled model (its
    parameters overwritten in place, so its compiled graphs are reused)."""
    import torch
    import torch.nn.functional as F

    x, y = torch.as_tensor(ref["x"]), torch.as_tensor(ref["y"])
    result = {"spykeflow_output": str(ref["rates_type"])}
    for gain in GAINS:
        key = f"gain{gain:g}/"
        weights = {k[len(key):]: v for k, v in ref.items() if k.startswith(key)}
        net = build(0)
        load_keras_weights(net, weights)
        rates = net(x)
        r = {"mean_rate": float(weights["rates"].mean()),
             "rates_max_abs_diff_eager":
                 float(np.abs(rates.detach().numpy() - weights["rates"]).max())}
        if compiled is not None:
            load_keras_weights(compiled.net, weights)
            rates_c = compiled.infer(compiled.batches(ref["x"], ref["y"])).cpu().numpy()
            r["rates_max_abs_diff_compiled"] = float(np.abs(rates_c - weights["rates"]).max())
        if "grad/output/kernel" in weights:
            F.mse_loss(rates, F.one_hot(y, CLASSES).float()).backward()
            grads = torch_grads_as_keras(net)
            r["grads_max_abs_diff"] = max(float(np.abs(grads[k] - weights[f"grad/{k}"]).max())
                                          for k in grads)
            r["grads_max_abs"] = max(float(np.abs(weights[f"grad/{k}"]).max()) for k in grads)
        result[key[:-1]] = r
    return result


def equivalence(compiled: Runner | None, n: int = BATCH) -> dict:
    """Compare with SpykeFlow on ``KERAS_BACKEND=torch``; when that backend gives no gradients
    (layers computing outside torch's autograd), also on TensorFlow for the gradients."""
    with tempfile.TemporaryDirectory() as tmp:
        ref = _export("torch", os.path.join(tmp, "torch.npz"), n)
        result = {"clips": n, "torch": compare(ref, compiled)}
        if "grads_max_abs_diff" not in result["torch"][f"gain{GAINS[0]:g}"]:
            ref = _export("tensorflow", os.path.join(tmp, "tensorflow.npz"), n)
            result["tensorflow"] = compare(ref)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=200, help="clips per epoch")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (after a warm-up epoch)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variants", nargs="+", default=["eager", "compiled", "compiled+opt"],
                    choices=["eager", "compiled", "compiled+opt"])
    ap.add_argument("--no-check", action="store_true", help="skip the equivalence check")
    ap.add_argument("--export", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=BATCH, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.export:
        export_spykeflow(args.export, args.n)
        return 0

    torch = _torch(args.threads)
    import snntorch

    x, y = make_data(args.clips)
    runs, runners = {}, {}
    for variant in args.variants:
        runners[variant] = Runner(variant)
        runs[variant] = measure(runners[variant], x, y, args.epochs)
    compiled = {k: v for k, v in runs.items() if k != "eager"}
    best = max(compiled, key=lambda k: compiled[k]["train_clips_per_s"]) if compiled else None
    result = {"library": "snntorch", "version": snntorch.__version__,
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "clips": args.clips, "batch": BATCH, "timed_epochs": args.epochs,
              "eager": runs.get("eager"),
              "compiled": None if best is None else {**runs[best], "variant": best},
              "variants": runs,
              "params": sum(p.numel() for p in next(iter(runners.values())).net.parameters()),
              "peak_rss_mb": _peak_rss_mb()}
    if not args.no_check:
        eq = equivalence(runners.get(best))
        diffs = [v for backend in eq.values() if isinstance(backend, dict)
                 for r in backend.values() if isinstance(r, dict)
                 for k, v in r.items() if k.startswith("rates_max_abs_diff")]
        result["equivalent_to_spykeflow"] = max(diffs) <= 1e-5
        result["max_abs_diff"] = max(diffs)
        result["equivalence"] = eq
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
