"""The ``digits`` pipeline of ``main/main.py`` end to end, on a small configuration.

One run (module fixture: ``python main/main.py digits ... -q`` in a fresh process, as a user
starts it) is shared by the checks: with ``-q`` the output is the final JSON and nothing else
(no progress bar, no TensorFlow start-up lines); metrics.json content and its consistency with
the saved predictions, network and classifier; every figure written and non-empty; resume after
a simulated Ctrl-C skips finished stages; a missing dataset exits 2 with the datasets message;
``--help`` documents every option.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "main"))

import pipelines  # noqa: E402  (main/pipelines.py)
import readout  # noqa: E402
import stdp_images  # noqa: E402

import main as cli  # noqa: E402  (main/main.py)

#: small enough for CI (~30 s on a quiet 2-core machine), large enough to beat chance clearly
SMALL = ["--quick", "--stdp-images", "120", "--train-limit", "400", "--test-limit", "120",
         "--hidden", "128", "--epochs", "6", "--stat-samples", "60", "--snapshot-every", "30",
         "--checkpoint-every", "60", "--lr-double-every", "20", "--seed", "3", "-q"]

STAGES = ["stdp", "features", "readout", "statistics", "plots"]

FIGURES = [
    "features_Conv1.png", "convergence.png", "stdp_updates_per_map_Conv1.png",
    "winners_per_image_Conv1.png", "weight_evolution_Conv1.gif", "kernel_evolution_Conv1.png",
    "spikes_per_image.png", "spikes_per_map_per_class_Pool1.png", "input_spikes.png",
    "raster_input.png", "raster_Conv1.png", "debug_views_train0.png", "confusion_matrix.png",
    "per_class_accuracy.png", "readout_training_curves.png",
]


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    """``python main/main.py digits SMALL -q --out ...`` in a fresh process, with the user's
    environment (no TF_CPP_MIN_LOG_LEVEL set) and the repository's spykeflow."""
    out = tmp_path_factory.mktemp("digits") / "run"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, str(REPO / "main" / "main.py"), "digits", *SMALL,
                           "--out", str(out), "--export-nir", str(out.parent / "net.nir")],
                          capture_output=True, text=True, env=env,
                          cwd=str(REPO), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def run_dir(quiet_run):
    return quiet_run[0]


def test_quiet_prints_only_the_final_json(quiet_run):
    out, stdout, stderr = quiet_run
    summary = json.loads(stdout)  # the whole of stdout is one JSON object
    assert summary["run_dir"] == str(out) and summary["pipeline"] == "digits"
    assert 0.5 < summary["test_accuracy"] <= 1.0
    # no progress bar (tqdm draws with carriage returns and "|" bars), no log lines and no
    # TensorFlow start-up lines (absl notice, CUDA probing, oneDNN)
    for marker in ("\r", "%|", "it/s", "INFO", "absl", "cuda", "oneDNN", "I0000", "E0000"):
        assert marker not in stderr, (marker, stderr[-2000:])


def _json(path):
    return json.loads(pathlib.Path(path).read_text())


def test_metrics_content(run_dir):
    m = _json(run_dir / "metrics.json")
    assert 0.0 <= m["test_accuracy"] <= 1.0
    assert m["test_accuracy"] > 0.5  # chance is 0.1
    assert sorted(m["per_class_accuracy"]) == [str(d) for d in range(10)]
    cm = np.array(m["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == m["n_test"] == 120
    # the accuracy is the confusion matrix's trace, the per-class values its row-normalised diagonal
    assert m["test_accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    per_class = np.diag(cm) / cm.sum(axis=1)
    assert [m["per_class_accuracy"][str(d)] for d in range(10)] == pytest.approx(per_class)
    assert sorted(m["timings_s"]) == sorted(STAGES)
    assert all(v >= 0 for v in m["timings_s"].values())
    stats = m["spike_statistics"]
    assert stats["stdp_training"]["stdp_images"] == [120]
    assert stats["stdp_training"]["input_spikes_per_image"]["on"] > 0
    assert stats["test"]["samples"] == 60
    assert stats["test"]["Conv1"]["spikes_per_image_mean"] > 0
    assert m["n_features"] == 30 * 11 * 11  # Pool1 of the MNIST Conv1 preset on 28x28 digits
    cfg = _json(run_dir / "config.json")
    assert cfg["pipeline"] == "digits" and cfg["seed"] == 3 and cfg["stdp_images"] == [120]


def test_saved_models_reproduce_the_run(run_dir):
    import spykeflow
    from spykeflow import datasets, io

    net = spykeflow.Network.load(run_dir / "network")
    x_test, y_test = datasets.load("digits", split="test")
    feats = io.load_npz(run_dir / "features.npz")
    n = int(feats["n_features"])
    f_test = np.unpackbits(feats["X_test"], axis=1, count=n)
    again = net.transform(spykeflow.InputLayer().transform(x_test[:20]))
    np.testing.assert_array_equal(again, f_test[:20])
    clf = spykeflow.Classifier.load(run_dir / "classifier")
    pred = io.load_npz(run_dir / "predictions.npz")
    np.testing.assert_array_equal(pred["y_test"], y_test[:120])
    np.testing.assert_array_equal(clf.predict(f_test), pred["y_pred"])


def test_export_nir_writes_the_network_without_lateral_inhibition(run_dir):
    import copy

    import spykeflow
    from spykeflow import datasets

    written = _json(run_dir / "metrics.json")["nir_export"]
    assert written == {"path": str(run_dir.parent / "net.nir"), "model": "stdp_network"}
    net = spykeflow.Network.load(run_dir / "network")
    x_test, _ = datasets.load("digits", split="test")
    spikes = spykeflow.InputLayer().transform(x_test[:20])
    out = spykeflow.nir.load(written["path"]).run(spikes.astype("float32")).output
    features = np.moveaxis(out.max(axis=1) > 0, -1, 1).reshape(len(spikes), -1)
    free = copy.deepcopy(net)
    free.layers_ = [layer.replace(lateral_inhibition=False)
                    if isinstance(layer, spykeflow.STDPConv) else layer for layer in net.layers_]
    np.testing.assert_array_equal(features, free.transform(spikes))


def test_export_nir_is_refused_early_without_a_spiking_model(tmp_path, capsys):
    out = tmp_path / "r"
    code = cli.main(["sequences", "--model", "cnn", "--export-nir", str(tmp_path / "m.nir"),
                     "--out", str(out), "-q"])
    assert code == 2 and "non-spiking ANN baseline" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "m.nir").exists()


def test_figures_written(run_dir):
    for name in FIGURES:
        path = run_dir / name
        assert path.is_file() and path.stat().st_size > 1000, name
    with open(run_dir / "weight_evolution_Conv1.gif", "rb") as fh:
        assert fh.read(6) in (b"GIF87a", b"GIF89a")
    m = _json(run_dir / "metrics.json")
    assert set(FIGURES) <= set(m["files"])


def test_dask_workers_give_the_same_features(run_dir, tmp_path):
    """The same run with ``--dask-workers 2`` (a LocalCluster of 2 processes writes
    features.zarr) gives the features of the plain run, bit for bit."""
    pytest.importorskip("distributed")
    from spykeflow import io
    from spykeflow.dask import open_features

    out = tmp_path / "run"
    assert cli.main(["digits", *SMALL, "--no-plots", "--dask-workers", "2",
                     "--out", str(out)]) == 0
    assert _json(out / "config.json")["dask_workers"] == 2
    assert not (out / "features.npz").exists()
    plain = io.load_npz(run_dir / "features.npz")
    n = int(plain["n_features"])
    for split in ("train", "test"):
        x, y = open_features(str(out / "features.zarr"), group=split)
        np.testing.assert_array_equal(x, np.unpackbits(plain[f"X_{split}"], axis=1, count=n))
    assert _json(out / "metrics.json")["n_features"] == n


@pytest.mark.slow
def test_resume_after_interrupt_skips_finished_stages(tmp_path, monkeypatch):
    out = tmp_path / "run"
    argv = ["digits", *SMALL, "--test-limit", "60", "--no-plots", "--out", str(out)]

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    import spykeflow.network

    original = spykeflow.network.Network.spike_statistics
    monkeypatch.setattr(spykeflow.network.Network, "spike_statistics", interrupt)
    assert cli.main(argv) == 130  # Ctrl-C during the statistics stage
    state = _json(out / "stages.json")
    assert sorted(state) == ["features", "readout", "stdp"]
    assert not (out / "metrics.json").exists()
    stamp = (out / "network" / "arrays.npz").stat().st_mtime_ns
    monkeypatch.setattr(spykeflow.network.Network, "spike_statistics", original)
    assert cli.main(["digits", "--resume", "--out", str(out), "-q"]) == 0
    after = _json(out / "stages.json")
    assert sorted(after) == ["features", "readout", "statistics", "stdp"]
    for stage in ("stdp", "features", "readout"):
        assert after[stage] == state[stage]  # not re-run
    assert (out / "network" / "arrays.npz").stat().st_mtime_ns == stamp
    m = _json(out / "metrics.json")
    assert m["test_accuracy"] == state["readout"]["test_accuracy"]
    assert _json(out / "config.json")["test_limit"] == 60  # the first run's configuration


def test_resume_without_a_run_exits_2(tmp_path, capsys):
    assert cli.main(["digits", "--resume", "--out", str(tmp_path / "none")]) == 2
    assert "no run to continue" in capsys.readouterr().err


def test_missing_dataset_exits_2_with_the_datasets_message(tmp_path, capsys):
    empty = tmp_path / "empty_root"
    empty.mkdir()
    code = cli.main(["mnist", "--data-root", str(empty), "--out", str(tmp_path / "r"), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(empty) in err and "mnist" in err.lower()
    assert "Traceback" not in err


def test_help_documents_every_option(capsys):
    parser = cli.build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for action in parser._actions:
        for opt in action.option_strings:
            assert opt in text, opt
        assert action.help, action.dest
    for name in pipelines.PIPELINES:
        assert name in text
    flat = " ".join(text.split())
    assert "(default: None)" not in flat                   # "per pipeline" is said in words
    assert not re.search(r"default: [^)]*\) \(default", flat)   # no default said twice
    for opt in ("--data-root", "--stdp-images", "--epochs", "--seed", "--backend", "--hidden",
                "--batch-size", "--out", "--resume", "--config", "--layers", "--quick"):
        assert opt in text


def test_config_file_fills_options_and_command_line_wins(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"seed": 7, "hidden": [64], "epochs": 3}))
    parser = cli.build_parser()
    args = cli.resolve_options(parser, ["digits", "--config", str(cfg), "--epochs", "5"])
    config = pipelines.PIPELINES["digits"].config(vars(args))
    assert config.seed == 7 and config.hidden == (64,) and config.epochs == 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"no_such_option": 1}))
    with pytest.raises(SystemExit):
        cli.resolve_options(parser, ["digits", "--config", str(bad)])


def test_every_pipeline_is_configured_and_quick_overrides():
    expected = {"digits", "mnist", "fashion", "emnist", "facebike", "nmnist", "soli", "fsdd",
                "qcfs", "sequences"}
    assert set(pipelines.PIPELINES) == expected
    mnist = pipelines.PIPELINES["mnist"]
    full = mnist.config({"pipeline": "mnist"})
    assert full.preset == "mnist_conv1" and full.stdp_images is None  # published: 6000
    quick = mnist.config({"pipeline": "mnist", "quick": True, "stdp_images": [500]})
    assert quick.stdp_images == (500,) and quick.train_limit == 5000


def test_layers_option_selects_the_two_layer_preset():
    from spykeflow import STDPConv

    config = pipelines.PIPELINES["mnist"].config({"pipeline": "mnist", "layers": 2})
    layers = stdp_images.network_layers(config)
    convs = [layer for layer in layers if isinstance(layer, STDPConv)]
    assert config.network_preset() == "mnist_conv2"
    assert [c.filters for c in convs] == [30, 200]
    assert [c.training.n_images for c in convs] == [6000, 35000]
    other = pipelines.PIPELINES["mnist"].config({"layers": 2, "stdp_images": [100, 200],
                                                 "stdp_epochs": 2})
    convs = [layer for layer in stdp_images.network_layers(other)
             if isinstance(layer, STDPConv)]
    assert [c.training.n_images for c in convs] == [100, 200]
    assert [c.training.epochs for c in convs] == [2, 2]


def test_default_readout_is_the_published_model_with_the_fast_schedule():
    """mnist/emnist default to the binary sg1 readout (1000 / 1500 hidden) trained with Adam,
    batch 256 and a step schedule; --lr-schedule none and --backend reference are honoured."""
    import dataclasses

    mnist = pipelines.PIPELINES["mnist"].config({"pipeline": "mnist"})
    clf = readout.make_classifier(mnist, progress=False)
    assert clf.backend == "binary" and clf.backend_params == {"hidden": 1000, "surrogate": "sg1"}
    assert (clf.batch_size, clf.epochs, clf.lr_schedule) == (256, 12, "step")
    assert clf.lr_schedule_params == {"step_size": 4, "gamma": 0.3} and not clf.progress
    emnist = pipelines.PIPELINES["emnist"].config({"pipeline": "emnist", "lr_schedule": "none"})
    clf = readout.make_classifier(emnist, progress=True)
    assert clf.backend_params["hidden"] == 1500 and clf.lr_schedule is None and clf.progress
    ref = readout.make_classifier(dataclasses.replace(mnist, backend="reference"), False)
    assert (ref.optimizer, ref.batch_size, ref.epochs, ref.learning_rate) == ("sgd", 5, 40, 0.01)
    digits = readout.make_classifier(
        pipelines.PIPELINES["digits"].config({"pipeline": "digits"}), False)
    assert (digits.batch_size, digits.epochs, digits.lr_schedule) == (32, 15, None)


def test_tensorflow_start_up_lines_are_hidden_unless_verbose(monkeypatch):
    import argparse
    import logging

    calls = []
    monkeypatch.setattr(cli, "quiet_tensorflow", lambda: calls.append("quiet"))
    level = logging.getLogger("spykeflow").level
    try:
        cli.configure_output(argparse.Namespace(quiet=False, verbose=True))
        assert calls == [] and logging.getLogger("spykeflow").level == logging.INFO
        cli.configure_output(argparse.Namespace(quiet=True, verbose=False))
        assert calls == ["quiet"] and logging.getLogger("spykeflow").level == logging.WARNING
    finally:
        logging.getLogger("spykeflow").setLevel(level)


def test_quiet_tensorflow_keeps_a_level_the_user_set(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    cli.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


def test_quiet_tensorflow_imports_it_only_when_needed():
    """Pipelines that never use TensorFlow (facebike's SVM readout) do not pay for it; the
    hook runs TensorFlow's import quietly when a pipeline first asks for it."""
    code = ("import sys; sys.path.insert(0, 'main'); import main as cli; cli.quiet_tensorflow();"
            "import spykeflow; spykeflow.Network; spykeflow.InputLayer;"
            "print('tensorflow' in sys.modules);"
            "import tensorflow; print(type(tensorflow.__spec__.loader).__name__)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "_QuietLoader"]
    assert "cuda" not in done.stderr.lower() and "absl" not in done.stderr
