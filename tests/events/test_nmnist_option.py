"""``python main/main.py nmnist --event-transform SPEC``: parsed into the encoder, recorded in
config.json, refused before the run when the spec is bad or tonic is missing."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "main"))

import pipelines  # noqa: E402  (main/pipelines.py)

import main as cli  # noqa: E402  (main/main.py)

SPEC = "Denoise(filter_time=10000)"


def _config(**options):
    return pipelines.PIPELINES["nmnist"].config({"pipeline": "nmnist", **options})


def test_the_option_reaches_the_encoder_and_config_json():
    transforms = pytest.importorskip("tonic.transforms")
    args = cli.build_parser().parse_args(["nmnist", "--quick", "--event-transform", SPEC])
    config = _config(**vars(args))
    assert config.event_transform == SPEC and config.to_json()["event_transform"] == SPEC
    assert type(config).from_json(json.loads(json.dumps(config.to_json()))) == config
    config.check()
    assert config.make_encoder().event_transform == transforms.Denoise(filter_time=10000)
    assert _config().make_encoder().event_transform is None


@pytest.mark.parametrize("spec,message", [("Denoise(filter_time=open('x'))", "literal"),
                                          ("NoSuchTransform()", "class of tonic.transforms")])
def test_a_bad_spec_exits_2_before_the_run(tmp_path, capsys, spec, message):
    pytest.importorskip("tonic")
    out = tmp_path / "run"
    assert cli.main(["nmnist", "--event-transform", spec, "--out", str(out), "-q"]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_missing_tonic_exits_2_with_the_install_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tonic", None)  # as if tonic were not installed
    monkeypatch.setitem(sys.modules, "tonic.transforms", None)
    out = tmp_path / "run"
    assert cli.main(["nmnist", "--event-transform", SPEC, "--out", str(out), "-q"]) == 2
    assert "pip install tonic" in capsys.readouterr().err and not out.exists()
