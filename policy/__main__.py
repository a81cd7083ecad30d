"""Serves the viberator guardrails to `pulumi preview --policy-pack policy` (see policy/__init__.py)."""

import sys
from pathlib import Path

# Pulumi runs the pack from policy/; the rules import the project's modules (one credential pattern, not two).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
