"""`python -m workers.tooling.sbom`: see `workers.tooling.sbom.command`."""

import sys

from workers.tooling.sbom.command import main

sys.exit(main())
