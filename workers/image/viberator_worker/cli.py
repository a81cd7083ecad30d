"""The `viberator-worker` command: the image's ENTRYPOINT (after tini).

    viberator-worker job      one job from the bootstrap directory or VIBERATOR_JOB (ECS, Docker; default)
    viberator-worker lambda   the Lambda runtime loop (Lambda functions set image_config.commands)

Lambda is also detected from AWS_LAMBDA_RUNTIME_API, so a function that kept the image's default CMD still
serves invocations instead of failing to find a bootstrap directory.
"""

from __future__ import annotations

import argparse
import os

from viberator_worker import JOB_CONTRACT_VERSION, job_mode, lambda_mode
from viberator_worker.processes import become_undumpable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="viberator-worker", description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=("job", "lambda"), default="job")
    parser.add_argument("--version", action="version", version=f"job-contract {JOB_CONTRACT_VERSION}")
    args = parser.parse_args(argv)
    become_undumpable()  # before any secret is resolved into this process (viberator_worker/processes.py)
    if args.mode == "lambda" or os.environ.get(lambda_mode.RUNTIME_API_VAR):
        return lambda_mode.run()
    return job_mode.run()
