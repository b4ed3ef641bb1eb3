"""Plot functions never show, never touch pyplot state or rcParams, and import only
numpy/matplotlib."""

import subprocess
import sys

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from spykeflow import plotting


def _refuse(what):
    def call(*args, **kwargs):
        raise AssertionError(what)

    return call


def test_no_show_no_pyplot_figures_no_rcparams(monkeypatch, conv1_weights, sample_spikes):
    before = dict(mpl.rcParams)
    monkeypatch.setattr(plt, "show", _refuse("show"))
    monkeypatch.setattr(Figure, "savefig", _refuse("save"))
    n_open = len(plt.get_fignums())
    figs = [
        plotting.plot_feature_grid(conv1_weights),
        plotting.plot_spike_raster(sample_spikes),
        plotting.plot_input_spikes(sample_spikes),
        plotting.plot_stdp_updates_per_map([1, 2]),
        plotting.plot_winners_per_image([1, 2, 3]),
        plotting.plot_confusion_matrix([0, 1], [0, 0]),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert len(plt.get_fignums()) == n_open
    after = dict(mpl.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_plotting_can_draw_into_a_given_axes(sample_spikes):
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    out = plotting.plot_stdp_updates_per_map(np.array([1, 2, 3]), ax=ax)
    assert out is fig and len(ax.patches) == 3


def test_imports_only_numpy_and_matplotlib():
    code = ("import sys, spykeflow.plotting, spykeflow.animation; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
