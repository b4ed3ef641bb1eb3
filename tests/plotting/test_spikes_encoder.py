"""Spike raster, input spikes per time step, DoG kernels and the encoder view."""

import numpy as np
import pytest

from spykeflow import plotting


def test_raster_coordinates_are_map_major(sample_spikes):
    t, neuron, ch = plotting.raster_coordinates(sample_spikes)
    assert len(t) == int(sample_spikes.sum()) == 5
    # OFF spike at t=1, (3, 3): index = 1*36 + 3*6 + 3
    k = np.flatnonzero(t == 1)[0]
    assert neuron[k] == 36 + 21 and ch[k] == 1


def test_spike_raster_plots_every_spike_with_channel_counts(sample_spikes):
    batch = np.stack([np.zeros_like(sample_spikes), sample_spikes])
    fig = plotting.plot_spike_raster(batch, index=1)
    (ax,) = fig.axes
    pts = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(pts) == 5
    assert sorted(pts[:, 0].tolist()) == [0, 0, 1, 3, 3]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ON (3 spikes)", "OFF (2 spikes)"]
    assert ax.get_xlabel() == "time step" and "neuron index" in ax.get_ylabel()
    assert ax.get_ylim() == (-0.5, 2 * 36 - 0.5)


def test_spike_raster_of_a_layer_labels_maps():
    s = np.zeros((3, 2, 2, 12), bool)
    s[2, 1, 1, 11] = True
    fig = plotting.plot_spike_raster(s, layer_name="Conv1")
    ax = fig.axes[0]
    assert "map index" in ax.get_ylabel()
    assert np.concatenate([c.get_offsets() for c in ax.collections]).tolist() == [[2, 11 * 4 + 3]]


def test_spike_raster_validates_shape_and_index(sample_spikes):
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        plotting.plot_spike_raster(sample_spikes[0])
    with pytest.raises(ValueError, match="index"):
        plotting.plot_spike_raster(sample_spikes[None], index=1)
    with pytest.raises(ValueError, match="index >= 0"):
        plotting.plot_spike_raster(sample_spikes[None], index=-1)
    with pytest.raises(ValueError, match="non-negative spike values"):
        plotting.plot_spike_raster(-np.ones((2, 2, 2, 2)))
    with pytest.raises(TypeError, match="Expected numeric spikes"):
        plotting.plot_spike_raster(np.full((2, 2, 2, 2), "a"))


def test_input_spikes_one_panel_per_time_step(sample_spikes):
    fig = plotting.plot_input_spikes(sample_spikes)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 4
    assert axes[0].get_title() == "t = 0\nON 2, OFF 0"
    assert axes[3].get_title() == "t = 3\nON 1, OFF 1"
    rgb = axes[1].images[0].get_array()
    assert rgb[3, 3].tolist() == [1, 0, 0]          # OFF -> red by default
    rgb0 = axes[0].images[0].get_array()
    assert rgb0[1, 1].tolist() == [0, 1, 0]         # ON -> green
    assert "ON 3, OFF 2" in fig._suptitle.get_text()
    on_red = plotting.plot_input_spikes(sample_spikes, kernel_rgb="on_red")
    first_panel = [ax for ax in on_red.axes if ax.images][0]
    assert first_panel.images[0].get_array()[1, 1].tolist() == [1, 0, 0]
    with pytest.raises(ValueError, match=r"kernel_rgb to be one of \['off_red', 'on_red'\]"):
        plotting.plot_input_spikes(sample_spikes, kernel_rgb="red")


def test_input_spikes_refuses_many_channels():
    with pytest.raises(ValueError, match="plot_spike_raster"):
        plotting.plot_input_spikes(np.zeros((2, 3, 3, 5), bool))


def test_dog_kernels_with_colour_bars():
    k = np.outer([0, 1, 0], [0, 1, 0]) - 1 / 9
    fig = plotting.plot_dog_kernels(k)
    img_axes = [ax for ax in fig.axes if ax.images and ax.get_title()]
    assert len(img_axes) == 2
    np.testing.assert_allclose(img_axes[1].images[0].get_array(), -k)   # OFF = -ON
    assert len(fig.axes) == 4                                          # + 2 colour bars
    assert any(ax.get_ylabel() == "kernel value" for ax in fig.axes)


def test_encoder_view_counts(sample_spikes):
    dog = np.zeros((6, 6, 2))
    dog[sample_spikes.any(0)] = 1.0
    fig = plotting.plot_encoder_view(np.zeros((7, 7)), dog, sample_spikes)
    titles = [ax.get_title() for ax in fig.axes]
    assert "ON spikes: 3" in titles and "OFF spikes: 2" in titles
    first = [ax for ax in fig.axes if ax.get_title() == "ON spikes: 3"][0].images[0].get_array()
    assert first[1, 1] == 0 and first[0, 5] == 3 and np.ma.is_masked(first[4, 4])
    with pytest.raises(ValueError, match="matching dog"):
        plotting.plot_encoder_view(np.zeros((7, 7)), dog[:5], sample_spikes)
