"""Serves the viberator guardrails to `pulumi preview --policy-pack policy` (see policy/__init__.py)."""

import sys
from pathlib import Path

# Pulumi runs the pack from policy/, in the project's uv environment (PulumiPolicy.yaml); the rules import the
# project's components/credentials.py (one credential pattern, not two), so the project directory goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
