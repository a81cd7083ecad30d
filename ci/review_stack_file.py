"""Review stacks: the `Pulumi.pr-<number>.yaml` of a pull request, made from the committed template.

The template (`stacks/review.yaml`) is not named `Pulumi.<stack>.yaml`, so nothing takes it for a stack of its
own. CI writes a review stack's file with `python -m ci.review_stacks stack-file` before its `up`; `make plan
STACK=pr-<number>` runs the same command into `build/stacks/` (git-ignored) and plans that file when the project
has none of that name, so a reviewer sees what one would create. The plan engine only plans files.
"""

from __future__ import annotations

import datetime
from typing import Any

import yaml

from components.config import NAMESPACE, REVIEW_ENVIRONMENT, decode_config_value
from components.config.stack_file import stack_file_config
from workers.catalog import PROJECT_DIR

TEMPLATE = PROJECT_DIR / "stacks" / "review.yaml"
LIFETIME = datetime.timedelta(days=7)
"""A review stack expires this long after its last `up` (every push while labelled is one)."""
EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def review_number(stack: str) -> int | None:
    """`pr-123` -> 123; None for any other stack name (an org-qualified name counts by its last part)."""
    name = stack.rsplit("/", 1)[-1]
    return int(name.removeprefix("pr-")) if REVIEW_ENVIRONMENT.match(name) else None


def expiry(now: datetime.datetime) -> str:
    """The expiry of a stack deployed at `now`, to the hour (so a re-plan within the hour changes no tag)."""
    return (now.astimezone(datetime.UTC) + LIFETIME).replace(minute=0, second=0, microsecond=0).strftime(EXPIRES_FORMAT)


def review_config(number: int, expires: str, *, builds_images: bool) -> dict[str, Any]:
    """The `config:` of `Pulumi.pr-<number>.yaml`: the template plus `viberator:review`; `builds_images` builds the
    template's harnesses into the stack's own repositories instead of taking dev's digests."""
    text_config, _secret_keys = stack_file_config(TEMPLATE)  # the template holds no secure values
    config = {key: decode_config_value(text) for key, text in text_config.items()}
    config[f"{NAMESPACE}:review"] = {"pullRequest": number, "expires": expires}
    if builds_images:
        source = config.pop(f"{NAMESPACE}:images")
        config[f"{NAMESPACE}:harnesses"] = source["harnesses"]
        # Its own repositories hold its images: the destroy deletes them with the images (docs/review-stacks.md).
        config[f"{NAMESPACE}:forceDelete"] = True
    return config


def review_stack_yaml(number: int, expires: str, *, builds_images: bool) -> str:
    header = f"# Review stack of pull request #{number}, made from {TEMPLATE.relative_to(PROJECT_DIR)}: do not edit.\n"
    document = {"config": review_config(number, expires, builds_images=builds_images)}
    return header + yaml.safe_dump(document, sort_keys=False, width=120)
