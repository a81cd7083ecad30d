"""viberator-access: CI's authority (OIDC trust, roles, boundaries, GitHub environments); see docs/ci.md "CI/CD"."""

import sys
from pathlib import Path

# The project shares the repository's packages and lockfile (pyproject.toml one level up): Pulumi runs this file
# from access/, which Python alone would not look above.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from access.config import load_access_config
from access.program import deploy

config = load_access_config()  # raises before anything is registered when the stack config is invalid
pulumi.run(lambda: deploy(config))
