"""Write the example notebooks of ``notebooks/`` (without outputs) from the cell sources below.

    python notebooks/make_notebooks.py

Each notebook uses only the public SpykeFlow API and runs top to bottom in a few minutes on
small data; ``tests/notebooks/test_notebooks.py`` executes them.
"""

from __future__ import annotations

import pathlib

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent

SETUP = """import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ log lines
import numpy as np
import matplotlib
%matplotlib inline
import spykeflow
from spykeflow import datasets, plotting, animation
print("SpykeFlow", spykeflow.__version__)"""


def md(text):
    return new_markdown_cell(text.strip())


def code(text, tags=()):
    """A code cell; ``tags`` go into its metadata (the docs build reads ``home-figure``)."""
    return new_code_cell(text.strip(), metadata={"tags": list(tags)} if tags else {})


QUICKSTART = [
    md("""
# SpykeFlow quick start: digits end to end

The whole SpykeFlow flow on scikit-learn's embedded 8x8 digits (upscaled to 28x28, no download):

1. `InputLayer`: DoG ON/OFF filtering and rank-order latency coding -> spike trains `(N, T, H, W, 2)`;
2. `Network`: unsupervised STDP training of a convolutional layer (Conv1, 30 filters) + spike pooling;
3. Pool1 spikes as binary feature vectors;
4. `Classifier("binary")`: the binary-activation readout trained with a surrogate gradient.

The same flow with every diagnostic figure saved to a run folder: `python main/main.py digits`.
"""),
    code(SETUP),
    code("""
x_train, y_train = datasets.load("digits", split="train")
x_test, y_test = datasets.load("digits", split="test")
print(x_train.shape, x_test.shape, np.bincount(y_train))
"""),
    md("## 1. Encode images as spikes"),
    code("""
encoder = spykeflow.InputLayer()
s_train = encoder.transform(x_train)
s_test = encoder.transform(x_test)
print("spikes", s_train.shape, s_train.dtype, "- mean spikes per image:", s_train.sum() / len(s_train))
plotting.plot_input_spikes(s_train, index=0)
"""),
    md("""
## 2. Unsupervised STDP feature learning

The published Conv1 setting (`Network.preset("mnist_conv1")`: 30 filters 5x5, threshold 15, lateral
inhibition, winner-take-all competition, multiplicative STDP, homeostasis) trained on all 1,438
training digits, with the learning rate doubling every 150 images instead of every 500 because the
set is small (the schedule of `python main/main.py digits`; notebook 02 follows the training
snapshot by snapshot).
"""),
    code("""
conv, pool = spykeflow.Network.preset("mnist_conv1").layers
net = spykeflow.Network([conv.replace(n_images=len(x_train), lr_double_every=150, snapshot_every=100),
                         pool], seed=0, progress=False)
net.fit(s_train)
h = net.history_["layers"][0]
print(f"C_l after training: {h['convergence'][-1]:.3f} - winners per image: {np.mean(h['winners_per_image']):.2f}")
plotting.plot_feature_grid(net.weights_[0], title="Conv1 kernels learned by STDP")
"""),
    code("""
plotting.plot_convergence({"Conv1": np.asarray(h["snapshots"])}, {"Conv1": np.asarray(h["snapshot_images"])})
"""),
    md("## 3. Pool1 features"),
    code("""
f_train = net.transform(s_train)
f_test = net.transform(s_test)
print("features", f_train.shape, "- active per image:", f_test.sum(1).mean())
pool = net.spikes_at(s_test, layer=1)
plotting.plot_spikes_per_map_per_class(pool, y_test, kernels=plotting.kernels_rgb(net.weights_[0]))
"""),
    md("## 4. Binary readout with surrogate gradient"),
    code("""
clf = spykeflow.Classifier("binary", backend_params={"hidden": 300, "surrogate": "sg1"},
                           epochs=10, batch_size=32, seed=0, progress=False)
clf.fit(f_train, y_train)
result = clf.evaluate(f_test, y_test)
print(f"test accuracy: {result['accuracy']:.3f}")
y_pred = clf.predict(f_test)
plotting.plot_confusion_matrix(y_test, y_pred)
"""),
    code("""
plotting.plot_per_class_accuracy(y_test, y_pred)
"""),
    md("""
A linear SVM on the same features for comparison (the readout of Kheradpisheh et al. 2018):
"""),
    code("""
svm = spykeflow.Classifier("svm").fit(f_train, y_train)
print(f"SVM test accuracy: {svm.evaluate(f_test, y_test)['accuracy']:.3f}")
"""),
]


WEIGHT_EVOLUTION = [
    md("""
# Weight evolution: random kernels become edge detectors

STDP starts Conv1 from random weights drawn around 0.8, so every kernel is a uniform blur.
Each STDP update pushes a weight towards 1 (the input spiked before the winning neuron) or
towards 0 (it did not), and the multiplicative rule slows the move near either end. The
convergence measure

$$C_l = \\frac{1}{n} \\sum_{i=1}^{n} w_i (1 - w_i)$$

is therefore about 0.16 at the start (w = 0.8), 0 for binary weights, and falls as the kernels
turn into oriented ON/OFF edge detectors. Kheradpisheh et al. stop training once
0.01 < C_l < 0.02; `spykeflow.monitors.ConvergenceStop(0.02)` is that rule.

This notebook trains Conv1 with the published MNIST settings (`Network.preset("mnist_conv1")`:
30 filters 5x5, threshold 15, 11x11 competition) on all 1,438 training digits of the embedded
set, with the digits learning-rate schedule of `python main/main.py digits` (the STDP rate doubles
every 150 images instead of every 500, because the set is small), for at most three passes
with the stopping rule. It takes a few seconds.

To explore a saved run instead, set `NETWORK` (or the environment variable
`SPYKEFLOW_NETWORK`) to its `network` folder, e.g. `outputs/digits/<run-id>/network`.
"""),
    code(SETUP),
    code("""
import pathlib, tempfile
from spykeflow.monitors import ConvergenceStop

NETWORK = os.environ.get("SPYKEFLOW_NETWORK")  # e.g. "../outputs/digits/<run-id>/network"
if NETWORK is None:
    x, y = datasets.load("digits", split="train")
    spikes = spykeflow.InputLayer().transform(x)
    conv, pool = spykeflow.Network.preset("mnist_conv1").layers
    conv = conv.replace(n_images=len(x), epochs=3, lr_double_every=150, snapshot_every=50)
    net = spykeflow.Network([conv, pool], monitors=[ConvergenceStop(0.02)], seed=0,
                            progress=False)
    net.fit(spikes)
    NETWORK = net.save(pathlib.Path(tempfile.mkdtemp()) / "network")
    print(f"trained Conv1 on the {len(x)} digits and saved it to {NETWORK}")
net = spykeflow.Network.load(NETWORK)
conv = [i for i, h in enumerate(net.history_["layers"]) if h is not None]
h = net.history_["layers"][conv[0]]
snapshots = np.asarray(h["snapshots"])
images_seen = np.asarray(h["snapshot_images"])
c_l = np.asarray(h["convergence"])
print(f"Conv1 saw {h['images_trained']} training images; stopped by the monitor: {h['stopped_early']}")
print(f"C_l: {c_l[0]:.3f} at the start, {c_l.max():.3f} at its peak "
      f"(after {images_seen[c_l.argmax()]} images), {c_l[-1]:.4f} at the end")
"""),
    md("""
## Kernels, snapshot by snapshot

Each row is Conv1 after the number of images on its left, each column one of the 30 maps (OFF
input in red, ON in green, both in yellow). The first rows are uniform; as the learning rate
doubles, the kernels sharpen into bars and edges, and in the last rows most of them no longer
change. A few maps that rarely win the competition (see the updates per map below) are still
blurred when training stops.
"""),
    code("""
rows = np.unique(np.linspace(0, len(snapshots) - 1, 10).round().astype(int))
plotting.plot_kernel_evolution(snapshots, images_seen, snapshot_index=rows)
""", tags=["home-figure"]),
    code("""
plotting.plot_feature_grid(net.weights_[conv[0]], title="Conv1 after training")
"""),
    md("""
In Jupyter a slider scrubs through every snapshot:
`ipywidgets.interact(lambda k: plotting.plot_feature_grid(snapshots[k]), k=(0, len(snapshots) - 1))`.

## Convergence C_l and temporal difference

C_l first *rises*: w(1 - w) is largest at w = 0.5, so while depression carries many weights from
0.8 down towards 0 they pass through the top of the parabola. Once they are past it, C_l falls
steeply, into the shaded stop range, where the monitor ends training. The temporal difference
(the mean squared change of the weights between two snapshots) says how fast the kernels still
move: it grows while the learning rate doubles, and is noisy, because one map that reorganises
moves it.
"""),
    code("""
names = {i: f"Conv{k + 1}" for k, i in enumerate(conv)}
plotting.plot_convergence({names[i]: np.asarray(net.history_["layers"][i]["snapshots"]) for i in conv},
                          {names[i]: np.asarray(net.history_["layers"][i]["snapshot_images"]) for i in conv})
"""),
    md("""
## Which maps learned, and how many winners per image

Every map wins some STDP updates (homeostasis keeps a few maps from taking all of them); the
maps with the fewest updates are the ones still blurred above. About five maps win per image
(the box gives the mean).
"""),
    code("""
plotting.plot_stdp_updates_per_map(h["updates_per_map"])
"""),
    code("""
plotting.plot_winners_per_image(np.asarray(h["winners_per_image"]), zoom=(300, 320))
"""),
    md("## The animation, inline"),
    code("""
from IPython.display import HTML
anim = animation.weight_evolution_animation(snapshots, images_seen)
HTML(animation.animation_to_html(anim))
"""),
]


SURROGATES = [
    md("""
# Readout surrogates compared on digits features

The binary readout's hidden units are steps, a = 1[z >= 0] with z = xW + b; their derivative is
zero almost everywhere, so training replaces it by a surrogate g(z) in the backward pass.
SpykeFlow's surrogates live in one registry (`spykeflow.functional.surrogate`): the SpykeFlow
paper's surrogate 1 (`sg1`, g = 1 on the window 0 <= z <= 0.125) and surrogate 2 (`sg2`, g = 1
wherever z >= 0, i.e. wherever the unit fired), and common ones from the SNN literature. Here
they are compared on the same Pool1 features of the digits, against the ReLU baseline (actual
gradient) and a linear SVM, with small settings: one seed, 300 hidden units, 10 epochs.
Surrogate 2 falls far behind; the second half of the notebook shows why.
"""),
    code(SETUP),
    code("""
x_train, y_train = datasets.load("digits", split="train")
x_test, y_test = datasets.load("digits", split="test")
encoder = spykeflow.InputLayer()
s_train, s_test = encoder.transform(x_train), encoder.transform(x_test)
conv, pool = spykeflow.Network.preset("mnist_conv1").layers
net = spykeflow.Network([conv.replace(n_images=len(x_train), lr_double_every=150), pool], seed=0,
                        progress=False)
net.fit(s_train)
f_train, f_test = net.transform(s_train), net.transform(s_test)
print("Pool1 features", f_train.shape, "- active per image:", f_train.sum(1).mean().round(1))
"""),
    code("""
from spykeflow.functional import surrogate
print("registered surrogates:", surrogate.available())
"""),
    code("""
import time
common = dict(epochs=10, batch_size=32, seed=0, progress=False)
results, histories, models = {}, {}, {}
for name in ["sg1", "sg2", "fast_sigmoid", "triangular", "arctan"]:
    t0 = time.perf_counter()
    models[name] = spykeflow.Classifier("binary", backend_params={"hidden": 300, "surrogate": name},
                                        **common).fit(f_train, y_train)
    results[name] = models[name].evaluate(f_test, y_test)["accuracy"]
    histories[name] = models[name].history_
    print(f"{name:13s} test accuracy {results[name]:.3f}  ({time.perf_counter() - t0:.1f} s)")
relu = spykeflow.Classifier("relu", backend_params={"hidden": 300}, **common).fit(f_train, y_train)
results["relu (actual gradient)"] = relu.evaluate(f_test, y_test)["accuracy"]
results["linear SVM"] = spykeflow.Classifier("svm").fit(f_train, y_train).evaluate(f_test, y_test)["accuracy"]
"""),
    code("""
from matplotlib.figure import Figure
fig = Figure(figsize=(10, 3.8), layout="constrained")
ax = fig.add_subplot(1, 2, 1)
ax.barh(list(results), [100 * v for v in results.values()], color="tab:blue")
ax.invert_yaxis()
for k, v in enumerate(results.values()):
    ax.text(100 * v - 0.5, k, f"{100 * v:.1f}", va="center", ha="right", color="white", fontsize=9)
ax.set_xlabel("test accuracy (%)")
ax.set_xlim(min(results.values()) * 100 - 5, 100)
ax.set_title("Readouts on digits Pool1 features")
ax = fig.add_subplot(1, 2, 2)
for name, hist in histories.items():
    ax.plot(np.arange(1, len(hist["val_accuracy"]) + 1), 100 * np.asarray(hist["val_accuracy"]),
            "-o", ms=3, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("validation accuracy (%)")
ax.set_title("Binary readout, by surrogate")
ax.legend(fontsize=9)
fig
"""),
    md("""
## Why surrogate 2 lags

Surrogate 2 is implemented as the paper defines it (g = a, so a unit that did not fire gets no
error); its result is not a bug, but a property of that gradient. For a unit that fired, pushing
z further above 0 changes nothing in the forward pass, yet surrogate 2 keeps passing the full
error to it: the units that help the true class are pushed up image after image, without
limit, and the input weights they share with other classes grow with them. The units end up
firing for most images, whatever the class, and a unit that fires for everything carries no
information. Surrogate 1's window closes at z = 0.125, so a unit stops being pushed as soon as
it fires reliably, and stays selective. (The ReLU baseline passes back the same derivative, 1
wherever z >= 0, but a ReLU's output does grow with z, so for it that is the true gradient.)

The hidden pre-activations of the two trained readouts, computed from their weights, show it:
"""),
    code("""
for name in ["sg1", "sg2"]:
    w, b = models[name].model_.get_layer("hidden_0").get_weights()
    z = f_train.astype(np.float32) @ w + b  # hidden pre-activations, (N, 300)
    print(f"{name}: a hidden unit fires for {(z >= 0).mean():.0%} of the training images on average, "
          f"median |z| = {np.median(np.abs(z)):.2f}, training accuracy "
          f"{models[name].evaluate(f_train, y_train)['accuracy']:.3f}")
"""),
    md("""
A box surrogate on the window 0 <= z <= hi lies between the two: hi = 0.125 is surrogate 1,
and hi -> infinity is surrogate 2. Widening the window step by step moves the readout from one
to the other: the hidden units fire more and more often, and the accuracy drops.
"""),
    code("""
windows = {"0.125 (sg1)": "sg1", "0.5": {"name": "box", "hi": 0.5}, "2": {"name": "box", "hi": 2.0},
           "8": {"name": "box", "hi": 8.0}, "inf (sg2)": "sg2"}
sweep = {}
for label, spec in windows.items():
    if isinstance(spec, str):
        clf = models[spec]
    else:
        clf = spykeflow.Classifier("binary", backend_params={"hidden": 300, "surrogate": spec},
                                   **common).fit(f_train, y_train)
    w, b = clf.model_.get_layer("hidden_0").get_weights()
    firing = float(((f_train.astype(np.float32) @ w + b) >= 0).mean())
    sweep[label] = (clf.evaluate(f_test, y_test)["accuracy"], firing)
    print(f"hi = {label:11s}  test accuracy {sweep[label][0]:.3f}, hidden units firing {firing:.0%}")

fig = Figure(figsize=(7, 3.8), layout="constrained")
ax = fig.add_subplot()
ax.plot(list(sweep), [100 * acc for acc, _ in sweep.values()], "-o", color="tab:blue")
ax.set_xlabel("upper end hi of the surrogate window 0 <= z <= hi")
ax.set_ylabel("test accuracy (%)", color="tab:blue")
ax2 = ax.twinx()
ax2.plot(list(sweep), [100 * rate for _, rate in sweep.values()], "-s", color="tab:red")
ax2.set_ylabel("firing hidden units (% of images)", color="tab:red")
ax.set_title("From surrogate 1 to surrogate 2")
fig
"""),
    md("""
The paper's gap on MNIST is smaller (surrogate 2 97.75 % against 98.49 % for surrogate 1, with
54,600 training images, 1,000 hidden units and 40 epochs of SGD; this project's MNIST
reproduction measures 96.85 % against 98.51 %, see the README's results), but it points the
same way. Surrogate 1 is the readout's default.
"""),
]


EVENTS = [
    md("""
# Event data: N-MNIST

N-MNIST recordings are lists of events `(x, y, polarity, t)` from an event camera. `EventEncoder`
bins them into spike frames `(N, T, 34, 34, 2)` (channel 0 = ON, 1 = OFF); the STDP network and
the readouts work on them as on encoded images.

The data root must hold `nmnist_small/` (1,000 training and 100 test recordings; see
`AllDataSets/README.md`). Without it the notebook says where it looked and skips the rest.
"""),
    code(SETUP),
    code("""
try:
    ev_train, y_train = datasets.load("nmnist", split="train", progress=False)
    ev_test, y_test = datasets.load("nmnist", split="test", progress=False)
    HAVE_DATA = True
    print(len(ev_train), "training and", len(ev_test), "test recordings;",
          "events in the first:", len(ev_train[0]), ev_train[0].dtype)
except datasets.DatasetNotFoundError as err:
    HAVE_DATA = False
    print("N-MNIST not available -- skipping this notebook.\\n", err)
"""),
    md("## Events -> spike frames"),
    code("""
if HAVE_DATA:
    encoder = spykeflow.EventEncoder(time_steps=10, first_spike_only=True)
    n_train = 400
    s_train = encoder.transform(ev_train[:n_train])
    s_test = encoder.transform(ev_test)
    y_train = y_train[:n_train]
    print(s_train.shape, "- spikes per recording:", s_train.sum() / len(s_train))
    display(plotting.plot_input_spikes(s_train, index=0))
    display(plotting.plot_spike_raster(s_train, index=0))
"""),
    md("## STDP Conv1 features and a readout"),
    code("""
if HAVE_DATA:
    conv, pool = spykeflow.Network.preset("mnist_conv1").layers
    net = spykeflow.Network([conv.replace(n_images=n_train, snapshot_every=100), pool], seed=0,
                            progress=False)
    net.fit(s_train)
    display(plotting.plot_feature_grid(net.weights_[0]))
    f_train, f_test = net.transform(s_train), net.transform(s_test)
    print("features", f_train.shape, "- active per recording:", f_test.sum(1).mean())
"""),
    code("""
if HAVE_DATA:
    svm = spykeflow.Classifier("svm").fit(f_train, y_train)
    y_pred = svm.predict(f_test)
    print(f"STDP features + linear SVM, {n_train} training recordings: "
          f"test accuracy {np.mean(y_pred == y_test):.3f}")
    display(plotting.plot_confusion_matrix(y_test, y_pred))
"""),
    md("""
## A ConvSNN, exported to NIR and run back

The BPTT path trains a spiking CNN end to end on the frames (`Classifier("convsnn")`, 4-bit
quantisation-aware; `python main/main.py nmnist --backend convsnn` at full size). A trained
spiking model leaves SpykeFlow as a NIR graph (the Neuromorphic Intermediate Representation,
read by snnTorch, Norse, Sinabs, Rockpool, Lava and neuromorphic chips): `spykeflow.nir.export`
writes it, `spykeflow.nir.load` runs any NIR graph with a time step `dt`.
"""),
    code("""
if HAVE_DATA:
    x_train, x_test = s_train.astype("float32"), s_test.astype("float32")
    snn = spykeflow.Classifier("convsnn", backend_params={"filters": [8], "hidden": [64]},
                               epochs=6, batch_size=32, learning_rate=5e-3,
                               validation_split=0.0, seed=0, progress=False)
    snn.fit(x_train, y_train)
    print(f"ConvSNN, {n_train} training recordings: test accuracy "
          f"{np.mean(snn.predict(x_test) == y_test):.3f}")
"""),
    code("""
if HAVE_DATA:
    import pathlib, tempfile
    import nir

    path = spykeflow.nir.export(snn, pathlib.Path(tempfile.mkdtemp()) / "convsnn_nmnist.nir")
    graph = nir.read(path)                      # nir's own reader, types checked
    print(path.name, "- dt:", graph.metadata["dt"], "s per step")
    for name, node in graph.nodes.items():
        print(f"  {name:16s} {type(node).__name__}")
"""),
    md("""
Convolutions became `Conv2d` with `(out, in, kh, kw)` kernels holding the 4-bit integer levels,
each followed by a `Scale` node with the quantisation scale; the LIF layers became `LIF` nodes
(`tau = dt / (1 - beta)`, reset to 0), the 2x2 max-pooling of spikes a `SumPool2d` and a
`Threshold` (the OR of the window). Loading the file with the same `dt` (forward Euler, as
snnTorch and Norse run it) gives the model's output spikes; their count is the class score:
"""),
    code("""
if HAVE_DATA:
    sim = spykeflow.nir.load(path)              # dt from the file's metadata
    print(sim)
    counts = sim.run(x_test).output.sum(axis=1)  # (N, T, 10) output spikes -> counts
    scores = snn.decision_scores(x_test)
    print("identical class scores:", np.array_equal(counts, scores),
          "- test accuracy from the NIR graph:", np.mean(counts.argmax(1) == y_test))
"""),
]


NOTEBOOKS = {
    "01_quickstart_digits.ipynb": QUICKSTART,
    "02_weight_evolution.ipynb": WEIGHT_EVOLUTION,
    "03_readout_surrogates.ipynb": SURROGATES,
    "04_event_data_nmnist.ipynb": EVENTS,
}


def main():
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        })
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
