"""`python -m workers`: the local image tooling (build, push, ensure); see `workers.tooling.cli`."""

from workers.tooling.cli import main

raise SystemExit(main())
