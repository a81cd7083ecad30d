"""`python -m workers run-job`: the job request from the arguments and the stack outputs, and the result
document on stdout; running it is `workers.tooling.run_job`'s.
"""

from __future__ import annotations

import argparse
import json
import sys

from workers.catalog import PROJECT_DIR
from workers.tooling import ecr, run_job, signature, stack_outputs
from workers.tooling.cli.common import engine_skopeo, progress_console
from workers.tooling.engine import Engine


def run_run_job(args: argparse.Namespace, engine: Engine, aws: ecr.Aws) -> int:
    console = progress_console()

    def say(text: str) -> None:
        console.print(text, markup=False)

    try:
        outputs = (
            stack_outputs.from_file(args.outputs)
            if args.outputs
            else stack_outputs.from_stack(args.stack, say, project_dir=PROJECT_DIR)
        )
        request = run_job.JobRequest(
            clanker=args.clanker,
            deployment=outputs.clanker(args.clanker),
            job=run_job.load_job(args.job),
            placeholder=outputs.placeholder,
            local=args.local,
            fake_agent=args.fake_agent,
            network=args.network,
            verify=signature.verifier(args.public_key, outputs.document.signing, outputs.source, engine_skopeo(engine)),
        )
    except (stack_outputs.OutputsError, run_job.RunJobError, signature.VerifierFailed) as bad:
        print(f"error: {bad}", file=sys.stderr)
        return run_job.EXIT_USAGE
    result = run_job.run_job(request, engine, run_job.botocore_clients, say, aws)
    print(json.dumps(result, indent=2, sort_keys=True))
    return run_job.EXIT_SUCCEEDED if result["status"] == "succeeded" else run_job.EXIT_JOB_FAILED
