#!/usr/bin/env python
"""SpykeFlow pipelines: ``python main/main.py [pipeline] [options]``.

With no arguments it runs the ``digits`` pipeline on scikit-learn's embedded 8x8 digits (no
download) and writes ``outputs/digits/<run-id>/``. Every run folder holds the exact
configuration (``config.json``), ``metrics.json``, the saved models and all figures.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.util
import json
import logging
import os
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import nir_export  # noqa: E402  (main/nir_export.py)
import pipelines  # noqa: E402  (main/pipelines.py, next to this file)
from run import Run  # noqa: E402

log = logging.getLogger("spykeflow.main")

#: options about the run folder and the output, not part of a pipeline's configuration
_RUN_OPTIONS = {"out", "run_id", "resume", "config", "quiet", "verbose"}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" only where the help does not already say it and X is not None
    (None means "per pipeline", which the option's own help explains)."""

    def _get_help_string(self, action):
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main/main.py",
        description=__doc__.split("\n\n")[0]
        + " Pipelines: "
        + ", ".join(f"{name} ({p.summary})" for name, p in pipelines.PIPELINES.items())
        + ".",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "pipeline", nargs="?", default="digits", choices=sorted(pipelines.PIPELINES),
        help="which pipeline to run",
    )
    parser.add_argument(
        "--data-root", default=None,
        help="dataset folder (default: $SPYKEFLOW_DATA, else ./AllDataSets)",
    )
    parser.add_argument(
        "--out", default=None,
        help="run folder (default: outputs/<pipeline>/<run-id> in the repository)",
    )
    parser.add_argument("--run-id", default=None,
                        help="name of the run folder (default: time stamp)")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run in --out (or the newest run of this pipeline): "
        "finished stages are skipped, STDP training resumes from its checkpoint",
    )
    parser.add_argument(
        "--config", default=None,
        help="JSON file of option values (keys as the long option names with underscores); "
        "command-line options given explicitly override it",
    )
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for every random choice (pipeline default: 0)")
    parser.add_argument(
        "--quick", action="store_true",
        help="small settings for a smoke run (fewer STDP images, samples and epochs); explicit "
        "options still override them",
    )
    net = parser.add_argument_group(
        "STDP feature extraction (digits, mnist, fashion, emnist, facebike, nmnist)")
    net.add_argument(
        "--layers", type=int, choices=(1, 2), default=None,
        help="mnist/fashion/emnist: 1 = Conv1-Pool1 (preset mnist_conv1), 2 = + Conv2-Pool2 "
        "(preset mnist_conv2) (default: 1)",
    )
    net.add_argument(
        "--stdp-images", type=int, nargs="+", default=None, metavar="N",
        help="STDP training images per conv layer (one value = all layers; default: the "
        "preset's, 6000 for Conv1 and 35000 for Conv2; digits: all 1438 training images)",
    )
    net.add_argument("--stdp-epochs", type=int, default=None,
                     help="passes over the STDP images per conv layer (default: the preset's)")
    net.add_argument("--snapshot-every", type=int, default=None,
                     help="weight snapshot interval in images (weight-evolution GIF, convergence)")
    net.add_argument(
        "--lr-double-every", type=int, default=None,
        help="double the STDP learning rate every N images up to a_plus_max (default: the "
        "preset's, 500 for Conv1; digits: 150, since it has only 1438 training images)",
    )
    net.add_argument("--n-jobs", type=int, default=None,
                     help="CPU threads of encoding and feature extraction, scikit-learn's "
                     "n_jobs (default -1: all CPUs; 1: one thread)")
    cluster = net.add_mutually_exclusive_group()
    cluster.add_argument(
        "--dask-workers", type=int, default=None, metavar="N",
        help="STDP image pipelines: compute the features on a Dask LocalCluster of N worker "
        "processes (1 thread each, 127.0.0.1) into features.zarr in the run folder, resumable "
        "chunk by chunk (needs pip install 'spykeflow[dask]')")
    cluster.add_argument(
        "--dask-scheduler", default=None, metavar="ADDRESS",
        help="as --dask-workers, on the running Dask cluster at ADDRESS (e.g. tcp://host:8786)")
    net.add_argument("--checkpoint-every", type=int, default=None,
                     help="STDP checkpoint interval in images (what --resume continues from)")
    net.add_argument("--train-limit", type=int, default=None,
                     help="use only the first N training samples for the readout (default: all)")
    net.add_argument("--test-limit", type=int, default=None,
                     help="use only the first N test samples (default: all)")
    net.add_argument("--stat-samples", type=int, default=None,
                     help="test samples used for the spike statistics and activity plots")
    net.add_argument("--debug-sample", type=int, default=None,
                     help="index of the test sample shown in the input/raster figures")
    ro = parser.add_argument_group("readout / classifier")
    ro.add_argument(
        "--backend", default=None,
        help="Classifier backend: binary (the published binary-activation readout; mnist/fashion/"
        "emnist default, trained with Adam, batch 256, 12 epochs, LR x0.3 every 4 epochs), "
        "'reference' (the same model with the original notebooks' SGD, batch 5, 40 epochs: "
        "slow), relu, svm (facebike default); "
        "nmnist also: convsnn (BPTT spiking CNN on the event frames); sequences: seq_cnn, "
        "seq_cnn_lstm, seq_convlstm, seq_c3d, sts_convsnn, sts_resnet",
    )
    ro.add_argument("--surrogate", default=None,
                    help="surrogate of the binary readout (sg1, sg2 or a registry name; "
                    "default sg1)")
    ro.add_argument("--hidden", type=int, nargs="+", default=None,
                    help="hidden units of the readout (default: per pipeline, e.g. 500 for digits, "
                    "1000 for the MNIST reference; fsdd: s2net filters per layer, 32 32 32)")
    ro.add_argument("--epochs", type=int, default=None, help="readout / classifier training epochs")
    ro.add_argument("--batch-size", type=int, default=None, help="readout / classifier batch size")
    ro.add_argument("--learning-rate", type=float, default=None, help="readout learning rate")
    ro.add_argument("--lr-schedule", default=None, choices=("step", "plateau", "none"),
                    help="readout learning-rate schedule (mnist/fashion/emnist default: step, "
                    "x0.3 every 4 epochs)")
    other = parser.add_argument_group("other pipelines")
    other.add_argument("--dataset", default=None, choices=("fashion", "mnist", "nmnist"),
                       help="qcfs: dataset of the conversion curves (default: fashion)")
    other.add_argument("--time-steps", type=int, default=None,
                       help="nmnist/soli: time bins per recording (default: 10 / 20)")
    other.add_argument(
        "--event-transform", default=None, metavar="SPEC",
        help="nmnist: a transform of the optional package tonic applied to each recording "
        "before binning, e.g. 'Denoise(filter_time=10000)' or '[Denoise(filter_time=10000), "
        "RefractoryPeriod(delta=1000)]' (a tonic.transforms class with literal arguments, "
        "parsed without eval; needs: pip install tonic)",
    )
    other.add_argument("--bits", type=int, default=None,
                       help="nmnist --backend convsnn / soli: weight bits of quantisation-aware "
                       "training (0 = float; default 4)")
    other.add_argument("--model", default=None,
                       help="sequences: Table 1 model convsnn, resnet, cnn, cnn_lstm, convlstm, "
                       "c3d (or its backend name, e.g. sts_convsnn; default: convsnn)")
    other.add_argument("--seq", type=int, default=None, choices=(1, 2, 3, 4, 5),
                       help="sequences: synthetic sequence type 1-5 of Samadzadeh et al. "
                       "(default: 1)")
    parser.add_argument(
        "--export-nir", default=None, metavar="PATH",
        help="also write the trained spiking model as a NIR graph (HDF5) to PATH: the "
        "convsnn / s2net / sts_convsnn classifier, else the STDP network (without lateral "
        "inhibition, which NIR cannot express); qcfs: one file per L, PATH-L<L>.nir",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars and no log lines: only warnings, errors and the "
                        "final JSON")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also the log lines of other libraries and TensorFlow's start-up "
                        "messages (CUDA probing, oneDNN notices)")
    return parser


def resolve_options(parser, argv):
    """Parse ``argv``; values from ``--config`` fill in options not given on the command line."""
    args = parser.parse_args(argv)
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            from_file = json.load(fh)
        defaults = vars(parser.parse_args([args.pipeline]))
        for key, value in from_file.items():
            if key not in defaults:
                parser.error(f"unknown option {key!r} in {args.config}")
            if getattr(args, key) == defaults[key]:
                setattr(args, key, value)
    return args


class _QuietLoader(importlib.abc.Loader):
    """Runs a module's import with the standard error stream sent to a temporary file (shown
    if the import fails); everything else is the wrapped loader's."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def __getattr__(self, name: str):
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                self.loader.exec_module(module)
            except BaseException:
                os.dup2(saved, 2)
                captured.seek(0)
                sys.stderr.write(captured.read().decode(errors="replace"))
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` (once) and hands it a :class:`_QuietLoader`, so the lines it writes
    while its libraries load go nowhere -- whenever a pipeline first needs TensorFlow, and not
    at all for pipelines that never do (facebike's SVM readout)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow() -> None:
    """Keep TensorFlow's start-up lines out of the output.

    ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user set it) hides its C++ log lines (the failed
    CUDA initialisation on a machine without a GPU, oneDNN notices); the lines it writes while
    its libraries load, before its logging is set up, are swallowed by running its import with
    the standard error stream sent to a temporary file. The import itself stays lazy.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "tensorflow" not in sys.modules and not any(
            isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())


def configure_output(args: argparse.Namespace) -> None:
    """Log lines of SpykeFlow (INFO; WARNING with ``--quiet``) and warnings of everything else
    (INFO with ``--verbose``); TensorFlow's start-up lines only with ``--verbose``."""
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
    )
    logging.getLogger("spykeflow").setLevel(logging.WARNING if args.quiet else logging.INFO)
    if not args.verbose:
        quiet_tensorflow()


def main(argv=None) -> int:
    parser = build_parser()
    args = resolve_options(parser, argv)
    configure_output(args)
    pipeline = pipelines.PIPELINES[args.pipeline]
    from spykeflow.datasets import DatasetNotFoundError

    config = pipeline.config(vars(args))
    try:
        nir_export.check(config)  # before anything runs: no spiking model, no export
        config.check()  # e.g. nmnist --event-transform: a bad spec or tonic missing
    except (ValueError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        run = Run.open(REPO / "outputs", args.pipeline, out=args.out, run_id=args.run_id,
                       resume=args.resume, progress=not args.quiet)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    fields = config.names()
    unused = sorted(
        k for k, v in vars(args).items()
        if v not in (None, False) and k not in fields and k not in _RUN_OPTIONS
    )
    if unused:
        log.warning("options not used by the %s pipeline: %s", args.pipeline, ", ".join(unused))
    try:
        metrics = pipeline.run(run, config)
    except DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        if not run.state:  # nothing was computed: leave no empty run folder behind
            (run.dir / "config.json").unlink(missing_ok=True)
            try:
                run.dir.rmdir()
            except OSError:
                pass
        return 2
    except nir_export.ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: continue with  python main/main.py {args.pipeline} --resume "
            f"--out {run.dir}",
            file=sys.stderr,
        )
        return 130
    log.info("run folder: %s", run.dir)
    summary = {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}
    print(json.dumps({"run_dir": str(run.dir), **summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
