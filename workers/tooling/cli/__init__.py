"""`python -m workers build|ensure|run-job`: the command line; the work is in `build`, `ensure` and `run_job`.

Exit codes: 0 done; 1 an image could not be built, pushed or found; 2 a usage error; 3 `ensure` refused an
image whose job contract this checkout cannot talk to, or a pulled digest without a valid signature by the image
stack's key (workers/tooling/signature.py). Progress and messages go to stderr; `ensure` prints
only the reference to run on stdout, so scripts can write `image=$(python -m workers ensure kimi)`.

Modules: `arguments` (the parser), `common` (exit codes, consoles, the registry choice and ECR connections every
command shares), one runner per command (`build_command`, `ensure_command`, `run_job_command`); here, `main`:
the dispatch and the exit code of each failure.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from workers.tooling import build, ecr, ensure, run_job
from workers.tooling.cli.arguments import parser
from workers.tooling.cli.build_command import run_build
from workers.tooling.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from workers.tooling.cli.ensure_command import run_ensure
from workers.tooling.cli.run_job_command import run_run_job
from workers.tooling.engine import Engine
from workers.tooling.lock import LockTimeout
from workers.tooling.platforms import PlatformError
from workers.tooling.process import EngineError
from workers.tooling.references import InvalidReference

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main", "parser"]


def main(argv: Sequence[str] | None = None, *, aws: ecr.Aws | None = None) -> int:
    """`aws`: where AWS clients come from (tests hand in Stubber-backed ones); default botocore's session."""
    args = parser().parse_args(argv)
    engine = Engine()
    try:
        if args.command == "build":
            return run_build(args, engine, aws or ecr.Aws())
        if args.command == "run-job":
            return run_run_job(args, engine, aws or ecr.Aws())
        return run_ensure(args, engine, aws or ecr.Aws())
    except run_job.RunJobError as failed:
        print(f"error: {failed}", file=sys.stderr)
        return failed.exit_code
    except ensure.EnsureFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return failed.exit_code
    except (build.BuildError, PlatformError, InvalidReference) as bad:
        print(f"error: {bad}", file=sys.stderr)
        return EXIT_USAGE
    except (EngineError, LockTimeout) as failed:
        print(f"error: {failed}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
