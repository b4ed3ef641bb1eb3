#!/usr/bin/env python
"""SpykeFlow pipelines: ``python main/main.py [pipeline] [options]``.

With no arguments it runs the ``digits`` pipeline on scikit-learn's embedded 8x8 digits (no
download) and writes ``outputs/digits/<run-id>/``. Every run folder holds the exact
configuration (``config.json``), ``metrics.json``, the saved models and all figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import pipelines  # noqa: E402  (main/pipelines.py, next to this file)

log = logging.getLogger("spykeflow.main")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main/main.py",
        description=__doc__.split("\n\n")[0]
        + " Pipelines: "
        + ", ".join(f"{name} ({p.summary})" for name, p in pipelines.PIPELINES.items())
        + ".",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
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
    parser.add_argument("--run-id", default=None, help="name of the run folder (default: time stamp)")
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
    parser.add_argument("--seed", type=int, default=None, help="seed for every random choice")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
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


def main(argv=None) -> int:
    parser = build_parser()
    args = resolve_options(parser, argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    pipeline = pipelines.PIPELINES[args.pipeline]
    from spykeflow.datasets import DatasetNotFoundError

    try:
        run = pipelines.Run.open(
            REPO / "outputs", args.pipeline, out=args.out, run_id=args.run_id, resume=args.resume
        )
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = pipeline.config(vars(args))
    try:
        metrics = pipeline.run(run, config)
    except DatasetNotFoundError as err:
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
