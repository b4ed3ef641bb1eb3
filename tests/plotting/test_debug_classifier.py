"""Per-image debug views and classifier views."""

import numpy as np
import pytest

from spykeflow import plotting


def test_summed_activity_counts_first_crossings_once():
    above = np.zeros((4, 2, 2, 3), bool)
    above[1:, 0, 0, :2] = True          # two maps stay above threshold for 3 steps
    above[3, 1, 1, 2] = True
    np.testing.assert_array_equal(plotting.summed_activity(above, first_crossing=True),
                                  [[2, 0], [0, 1]])
    np.testing.assert_array_equal(plotting.summed_activity(above), [[6, 0], [0, 1]])
    np.testing.assert_array_equal(plotting.summed_activity(above[None], first_crossing=True),
                                  [[2, 0], [0, 1]])
    with pytest.raises(TypeError, match="first_crossing to be a bool"):
        plotting.summed_activity(above, first_crossing="yes")


def _debug_inputs():
    inp = np.zeros((3, 6, 6, 2), bool)
    inp[0, 1, 1, 0] = inp[1, 2, 2, 1] = inp[2, 3, 3, 1] = True
    above = np.zeros((3, 4, 4, 5), bool)
    above[1:, 0, 0, :3] = True
    li = np.zeros_like(above)
    li[1, 0, 0, 2] = li[2, 3, 1, 4] = True
    comp = np.zeros_like(above)
    comp[1, 0, 0, 2] = True
    return inp, above, li, comp


def test_debug_views_show_both_input_channels_and_each_stage():
    inp, above, li, comp = _debug_inputs()
    fig = plotting.plot_debug_views(inp, crossings=above, after_inhibition=li,
                                    after_competition=comp, winners=[(0, 0, 2)],
                                    pool_before=li[:, ::2, ::2], pool_after=comp[:, ::2, ::2])
    axes = [ax for ax in fig.axes if ax.images]
    titles = [ax.get_title() for ax in axes]
    assert titles[:2] == ["input ON (1 spikes)", "input OFF (2 spikes)"]   # both channels
    assert len(axes) == 7
    crossing = axes[2].images[0].get_array()
    assert crossing[0, 0] == 3 and crossing.sum() == 3                     # first crossings only
    assert axes[3].images[0].get_array().sum() == 2
    assert "1 winners" in titles[4]
    assert "(0,0,2)" in axes[4].get_xlabel()
    assert [t.get_text() for t in axes[4].texts] == ["Z=2"]


def test_debug_views_optional_stages_and_validation():
    inp, *_ = _debug_inputs()
    fig = plotting.plot_debug_views(inp)
    assert len([ax for ax in fig.axes if ax.images]) == 2
    with pytest.raises(ValueError, match=r"\(row, col, map\)"):
        plotting.plot_debug_views(inp, winners=[(1, 2)])
    with pytest.raises(ValueError, match="2 channels"):
        plotting.plot_debug_views(inp[..., :1])
    with pytest.raises(ValueError, match="ncols >= 1"):
        plotting.plot_debug_views(inp, ncols=0)


def test_confusion_matrix_rows_normalised_in_class_order():
    y = np.array([3, 3, 3, 3, 1, 1, 2])
    p = np.array([3, 3, 3, 1, 1, 2, 2])
    fig = plotting.plot_confusion_matrix(y, p, classes=[3, 1, 2])
    ax = fig.axes[0]
    cm = ax.images[0].get_array()
    np.testing.assert_allclose(cm, [[0.75, 0.25, 0], [0, 0.5, 0.5], [0, 0, 1]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "1", "2"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "71.43 %" in ax.get_title()
    np.testing.assert_array_equal(plotting.confusion_counts(y, p, classes=[3, 1, 2]),
                                  [[3, 1, 0], [0, 1, 1], [0, 0, 1]])
    counts = plotting.plot_confusion_matrix(y, p, classes=[3, 1, 2], normalize=False)
    np.testing.assert_allclose(counts.axes[0].images[0].get_array(),
                               [[3, 1, 0], [0, 1, 1], [0, 0, 1]])
    with pytest.raises(TypeError, match="normalize to be a bool"):
        plotting.plot_confusion_matrix(y, p, normalize="rows")


def test_confusion_matrix_emnist_labels():
    y = np.arange(47)
    fig = plotting.plot_confusion_matrix(y, y, class_names="emnist")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:11] == list("0123456789A") and labels[-1] == "t" and len(labels) == 47
    with pytest.raises(ValueError, match=r"class_names to be one of \['emnist'\]"):
        plotting.plot_confusion_matrix(y, y, class_names="letters")


def test_per_class_accuracy_bars():
    y = np.array([0, 0, 1, 1, 1, 1, 2])
    p = np.array([0, 1, 1, 1, 1, 0, 0])
    fig = plotting.plot_per_class_accuracy(y, p, class_names=["zero", "one", "two"])
    ax = fig.axes[0]
    np.testing.assert_allclose([b.get_height() for b in ax.patches], [50, 75, 0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one", "two"]
    assert ax.get_ylabel() == "accuracy (%)"
    with pytest.raises(ValueError, match="class_names"):
        plotting.plot_per_class_accuracy(y, p, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"equivalent to be one of \['emnist'\]"):
        plotting.plot_per_class_accuracy(y, p, equivalent="letters")


def test_training_curves_panels_and_percent():
    hist = {"accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7], "loss": [1.0, 0.5],
            "lr": [0.01, 0.005]}
    fig = plotting.plot_training_curves(hist)
    acc, loss, lr = fig.axes
    np.testing.assert_allclose(acc.get_lines()[0].get_ydata(), [50, 80])
    np.testing.assert_allclose(acc.get_lines()[0].get_xdata(), [1, 2])
    assert acc.get_ylabel() == "accuracy (%)" and lr.get_yscale() == "log"
    assert all(ax.get_xlabel() == "epoch" for ax in fig.axes)
    assert len(plotting.plot_training_curves({"loss": [1, 2]}).axes) == 1
    with pytest.raises(ValueError, match="val_accuracy"):
        plotting.plot_training_curves({"foo": [1]})


def test_misclassified_grid_titles_and_spike_rebuild():
    rng = np.random.default_rng(0)
    imgs = rng.uniform(size=(6, 5, 5))
    y = np.array([0, 1, 2, 3, 4, 5])
    p = np.array([0, 2, 2, 1, 4, 0])
    fig = plotting.plot_misclassified(imgs, y, p, ncols=2)
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in axes] == ["P: 2  L: 1", "P: 1  L: 3", "P: 0  L: 5"]
    np.testing.assert_allclose(axes[0].images[0].get_array(), imgs[1])
    spikes = np.zeros((6, 4, 5, 5, 2), bool)
    spikes[1, 0, 2, 2, 0] = True                     # ON at t=0 -> +1
    spikes[1, 2, 0, 0, 1] = True                     # OFF at t=2 -> -(1 - 2/4)
    fig = plotting.plot_misclassified(spikes, y, p, max_images=1)
    pic = [ax for ax in fig.axes if ax.images][0].images[0].get_array()
    assert pic[2, 2] == 1.0 and pic[0, 0] == -0.5
    none = plotting.plot_misclassified(imgs, y, y)
    assert "no misclassified" in none.axes[0].texts[0].get_text()


def test_misclassified_image_ids_label_the_images():
    imgs = np.zeros((3, 4, 4))
    y, p = np.array([0, 1, 2]), np.array([1, 1, 0])
    fig = plotting.plot_misclassified(imgs, y, p, image_ids=[100, 101, 102])
    assert [ax.get_xlabel() for ax in fig.axes if ax.images] == ["#100", "#102"]
    with pytest.raises(ValueError, match=r"one image_ids entry per image, shape \(3,\)"):
        plotting.plot_misclassified(imgs, y, p, image_ids=[100, 101])
    with pytest.raises(ValueError, match="max_images >= 1"):
        plotting.plot_misclassified(imgs, y, p, max_images=0)


def test_per_class_accuracy_collapsed_groups():
    y = np.array([0, 0, 24, 24])           # EMNIST '0' and 'O'
    p = np.array([24, 0, 0, 5])
    plain = plotting.plot_per_class_accuracy(y, p, classes=[0, 5, 24])
    np.testing.assert_allclose([b.get_height() for b in plain.axes[0].patches], [50, 0, 0])
    collapsed = plotting.plot_per_class_accuracy(y, p, classes=[0, 5, 24], equivalent="emnist")
    np.testing.assert_allclose([b.get_height() for b in collapsed.axes[0].patches], [100, 0, 50])
    assert plotting.EMNIST_COLLAPSED_GROUPS[1] == (0, 24)


def test_debug_competition_panel_built_from_winners():
    inp, above, li, _ = _debug_inputs()
    fig = plotting.plot_debug_views(inp, after_inhibition=li, winners=[(3, 1, 4), (0, 0, 2)])
    comp_ax = [ax for ax in fig.axes if "competition" in ax.get_title()][0]
    expected = np.zeros((4, 4), int)
    expected[3, 1] = expected[0, 0] = 1
    np.testing.assert_array_equal(comp_ax.images[0].get_array(), expected)
    with pytest.raises(ValueError, match="inside the conv map"):
        plotting.plot_debug_views(inp, after_inhibition=li, winners=[(9, 0, 0)])
