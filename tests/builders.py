"""Values tests build their subjects from, one home each, so a new field of an args class is added in one place."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from components.harness_image import HarnessImageArgs
from components.repository import RepositorySettings
from workers.catalog import HARNESSES
from workers.naming import repository_name
from workers.revision import BuildRevision

REVISION = BuildRevision(revision="0123abcd4567", source_date_epoch=1_700_000_000)
"""A checkout's revision as `workers build` reads it from git: what the tooling's tests build and tag at."""


def claude_image_args(**changes: Any) -> HarnessImageArgs:
    """The claude image of the dev stack at a fixed revision and build context, with `changes` applied."""
    args = HarnessImageArgs(
        harness=HARNESSES["claude"],
        repository_name=repository_name("claude"),
        environment="dev",
        revision="0123456789ab",
        source_date_epoch=1_700_000_000,
        context_digest="c0ffee",
        repository=RepositorySettings(lifecycle_environments=("dev",), keep_images=30),
    )
    return replace(args, **changes)


def qa_clankers_config(
    region: str, account: str, harnesses: Sequence[str], clankers: Sequence[Mapping[str, Any]], **settings: Any
) -> dict[str, str]:
    """The Pulumi config of the qa stack in one pinned account, building `harnesses` and deploying `clankers`, with
    more `viberator:` `settings` (camelCase keys): what a program-level test of clankers runs."""
    return {
        "aws:region": region,
        "aws:allowedAccountIds": json.dumps([account]),
        "viberator:environment": "qa",
        "viberator:harnesses": json.dumps(list(harnesses)),
        "viberator:clankers": json.dumps(list(clankers)),
        **{f"viberator:{key}": json.dumps(value) for key, value in settings.items()},
    }
