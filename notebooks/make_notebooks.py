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
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import matplotlib
%matplotlib inline
import spykeflow
from spykeflow import datasets, plotting, animation
print("SpykeFlow", spykeflow.__version__)"""


def md(text):
    return new_markdown_cell(text.strip())


def code(text):
    return new_code_cell(text.strip())


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
inhibition, winner-take-all competition, STDP with a doubling learning rate, homeostasis) trained on
600 digits here to keep the notebook fast.
"""),
    code("""
conv, pool = spykeflow.Network.preset("mnist_conv1").layers
net = spykeflow.Network([conv.replace(n_images=600, snapshot_every=100), pool], seed=0,
                        progress=False)
net.fit(s_train)
h = net.history_["layers"][0]
print("C_l after training:", h["convergence"][-1], "- winners per image:", np.mean(h["winners_per_image"]))
plotting.plot_feature_grid(net.weights_[0])
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
# Exploring the weight evolution of a saved run

A run of `python main/main.py digits` (or mnist, ...) saves its STDP network as the folder
`network/` in the run folder, including the training history: weight snapshots, the convergence
measure C_l, STDP updates per map and winners per image.

Set `NETWORK` (or the environment variable `SPYKEFLOW_NETWORK`) to such a `network` folder. If none is
given, this notebook first trains and saves a small network, so it runs anywhere.
"""),
    code(SETUP),
    code("""
import pathlib, tempfile
NETWORK = os.environ.get("SPYKEFLOW_NETWORK")  # e.g. "../outputs/digits/<run-id>/network"
if NETWORK is None:
    x, y = datasets.load("digits", split="train")
    spikes = spykeflow.InputLayer().transform(x[:500])
    conv, pool = spykeflow.Network.preset("mnist_conv1").layers
    net = spykeflow.Network([conv.replace(n_images=500, snapshot_every=25), pool], seed=0,
                            progress=False)
    net.fit(spikes)
    NETWORK = net.save(pathlib.Path(tempfile.mkdtemp()) / "network")
    print("trained a small network and saved it to", NETWORK)
net = spykeflow.Network.load(NETWORK)
conv = [i for i, h in enumerate(net.history_["layers"]) if h is not None]
print("conv layers:", conv)
h = net.history_["layers"][conv[0]]
snapshots = np.asarray(h["snapshots"])
images_seen = np.asarray(h["snapshot_images"])
print("snapshots", snapshots.shape, "taken after", images_seen.tolist(), "images")
"""),
    md("""
## Scrub through the snapshots

With ipywidgets (in Jupyter) a slider selects the snapshot; without it (or when executed
non-interactively) a static strip of snapshots is shown.
"""),
    code("""
try:
    import ipywidgets
except ImportError:
    ipywidgets = None

def show_snapshot(k=len(snapshots) - 1):
    fig = plotting.plot_feature_grid(snapshots[k])
    fig.suptitle(f"Conv1 after {images_seen[k]} images")
    display(fig)

if ipywidgets is not None:
    ipywidgets.interact(show_snapshot, k=ipywidgets.IntSlider(min=0, max=len(snapshots) - 1,
                                                              value=len(snapshots) - 1))
plotting.plot_kernel_evolution(snapshots, images_seen)
"""),
    md("## Convergence C_l and temporal difference of every layer"),
    code("""
names = {i: f"Conv{k + 1}" for k, i in enumerate(conv)}
plotting.plot_convergence({names[i]: np.asarray(net.history_["layers"][i]["snapshots"]) for i in conv},
                          {names[i]: np.asarray(net.history_["layers"][i]["snapshot_images"]) for i in conv})
"""),
    code("""
plotting.plot_stdp_updates_per_map(h["updates_per_map"])
"""),
    code("""
plotting.plot_winners_per_image(np.asarray(h["winners_per_image"]), zoom=(100, 120))
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

The binary readout's hidden units are Heaviside steps; training needs a surrogate for their
derivative. SpykeFlow's surrogates live in one registry (`spykeflow.functional.surrogate`): the
paper's `sg1` (box window [0, 0.125]) and `sg2` (g = a), and common ones from the SNN literature.
Here they are compared on the same Pool1 features of the digits, against the ReLU baseline
(actual gradient) and a linear SVM. Small settings: one seed, 10 epochs.
"""),
    code(SETUP),
    code("""
x_train, y_train = datasets.load("digits", split="train")
x_test, y_test = datasets.load("digits", split="test")
encoder = spykeflow.InputLayer()
s_train, s_test = encoder.transform(x_train), encoder.transform(x_test)
conv, pool = spykeflow.Network.preset("mnist_conv1").layers
net = spykeflow.Network([conv.replace(n_images=600), pool], seed=0, progress=False)
net.fit(s_train)
f_train, f_test = net.transform(s_train), net.transform(s_test)
print(f_train.shape)
"""),
    code("""
from spykeflow.functional import surrogate
print("registered surrogates:", surrogate.available())
"""),
    code("""
import time
results = {}
histories = {}
for name in ["sg1", "sg2", "fast_sigmoid", "triangular", "arctan"]:
    t0 = time.perf_counter()
    clf = spykeflow.Classifier("binary", backend_params={"hidden": 300, "surrogate": name},
                               epochs=10, batch_size=32, seed=0, progress=False).fit(f_train, y_train)
    results[name] = clf.evaluate(f_test, y_test)["accuracy"]
    histories[name] = clf.history_
    print(f"{name:13s} test accuracy {results[name]:.3f}  ({time.perf_counter() - t0:.1f} s)")
relu = spykeflow.Classifier("relu", backend_params={"hidden": 300}, epochs=10, batch_size=32,
                            seed=0, progress=False).fit(f_train, y_train)
results["relu (actual gradient)"] = relu.evaluate(f_test, y_test)["accuracy"]
results["linear SVM"] = spykeflow.Classifier("svm").fit(f_train, y_train).evaluate(f_test, y_test)["accuracy"]
results
"""),
    code("""
from matplotlib.figure import Figure
fig = Figure(figsize=(7, 3.2), layout="constrained")
ax = fig.add_subplot(1, 2, 1)
ax.barh(list(results), [100 * v for v in results.values()], color="tab:blue")
ax.set_xlabel("test accuracy (%)")
ax.set_xlim(min(results.values()) * 100 - 5, 100)
ax.set_title("Readouts on digits Pool1 features")
ax = fig.add_subplot(1, 2, 2)
for name, hist in histories.items():
    ax.plot(np.arange(1, len(hist["val_accuracy"]) + 1), hist["val_accuracy"], label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("validation accuracy")
ax.legend(fontsize=8)
fig
"""),
    md("""
With binary features and a small hidden layer, all surrogates reach similar accuracy on this easy
task; the differences grow on MNIST/EMNIST with the published settings (`Classifier.preset`).
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
    ev_train, y_train = datasets.load("nmnist", split="train")
    ev_test, y_test = datasets.load("nmnist", split="test")
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
