"""Wait until the digests a promoting stack will run exist in its own region, before its `pulumi up`.

ECR replication is asynchronous: the image stack's `up` returns once its push is done in its own region, and
each replica region receives the digest some time later (usually minutes). A promoting stack in another region
runs its replica (components/promotion_replicas.py), and Lambda's CreateFunction/UpdateFunctionCode fails on an
image that is not there yet. So the deploy job polls `DescribeImages` for each digest its clankers run, in the
registry and region the program would pick (the same `repository_url_in`), until all are present or the
timeout passes; a digest the stack takes from its own region needs no wait.

    pulumi stack output --json --stack "$source" > image-stack.json
    python -m ci.wait_for_replicas --stack prod image-stack.json

Only images pushed after the replication configuration existed are ever replicated: a digest pushed before
`viberator:replicas` was set never arrives, and the timeout says so (push a new revision).

Exit codes: 0 every digest is present; 1 a digest was not within the timeout (region, repository and digest
named); 2 unusable input or a registry error.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from ci.script import add_stack_argument, read_stack_outputs, script_parser, unusable
from components.config import ConfigError, parse_pulumi_config
from components.config.stack_file import stack_file_config
from components.promotion_replicas import replicas_of, repository_url_in
from viberator_contract import Image
from workers.catalog import stack_config_file
from workers.ecr_url import REPOSITORY_URL

EXIT_MISSING = 1
NOT_YET = ("ImageNotFoundException", "RepositoryNotFoundException")
"""What DescribeImages answers before replication arrived: the replica repository may not exist yet either."""


class UnusableInput(ValueError):
    pass


@dataclass(frozen=True)
class Expected:
    """One digest that must be in one registry of one region."""

    harness: str
    region: str
    registry_id: str
    repository_name: str
    digest: str

    def __str__(self) -> str:
        return f"{self.harness} {self.digest} in {self.region} ({self.registry_id}/{self.repository_name})"


def expected_images(stack_file: Path, image_stack_outputs: Mapping[str, Any]) -> list[Expected]:
    """The replicated digests the stack's clankers will run: those whose copy is in another region than the
    image stack's own."""
    config, secret_keys = stack_file_config(stack_file)
    try:
        parsed = parse_pulumi_config(config, stack=stack_file.name.split(".")[1], secret_keys=secret_keys)
        allowed = json.loads(config.get("aws:allowedAccountIds", "[]"))
    except (ConfigError, ValueError) as error:
        raise UnusableInput(f"{stack_file.name}: {error}") from None
    account = str(allowed[0]) if isinstance(allowed, list) and allowed else ""
    images = image_stack_outputs.get("images")
    if parsed.images is None or not isinstance(images, Mapping):
        raise UnusableInput("not a promoting stack over these outputs: nothing is replicated for it")
    try:
        replicas = replicas_of(image_stack_outputs.get("replicas"))
        exported = {agent: Image.model_validate(images[agent]) for agent in {c.agent for c in parsed.clankers}}
    except (KeyError, ValidationError) as error:
        raise UnusableInput(f"the image stack's outputs don't hold what this stack runs: {error}") from None
    expected = []
    for harness, image in sorted(exported.items()):
        url = repository_url_in(image.repository_url, replicas, parsed.region, account)
        if url is None or url == image.repository_url:
            continue  # in the image stack's own region (or pulled from there, which the plan warned about)
        match = REPOSITORY_URL.match(url)
        assert match is not None
        expected.append(Expected(harness, parsed.region, match["account"], match["name"], image.digest))
    return expected


def _present(client: Any, image: Expected) -> bool:
    try:
        client.describe_images(
            registryId=image.registry_id,
            repositoryName=image.repository_name,
            imageIds=[{"imageDigest": image.digest}],
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_YET:
            return False
        raise
    return True


def wait_for(
    images: list[Expected],
    client_for: Callable[[str], Any],
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Expected]:
    """Poll until every image is present or `timeout` seconds passed; the images still missing."""
    deadline = clock() + timeout
    missing = list(images)
    while True:
        missing = [image for image in missing if not _present(client_for(image.region), image)]
        if not missing or clock() >= deadline:
            return missing
        sleep(interval)


def _ecr_client(region: str) -> Any:
    return botocore.session.get_session().create_client("ecr", region_name=region)


def main(argv: list[str] | None = None, client_for: Callable[[str], Any] = _ecr_client) -> int:
    parser = script_parser(__name__, __doc__)
    add_stack_argument(parser, "the promoting stack about to be deployed (Pulumi.<stack>.yaml)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait in all (default 1200)")
    parser.add_argument("--interval", type=float, default=15, help="seconds between polls (default 15)")
    parser.add_argument("image_stack_outputs", type=Path, help="`pulumi stack output --json` of the image stack")
    args = parser.parse_args(argv)
    try:
        outputs = read_stack_outputs(args.image_stack_outputs)
        images = expected_images(stack_config_file(args.stack), outputs)
        missing = wait_for(images, client_for, timeout=args.timeout, interval=args.interval)
    except (OSError, ValueError, ConfigError) as error:  # ConfigError: the stack's config is invalid
        return unusable(error)
    except (BotoCoreError, ClientError) as error:
        return unusable(f"the registry refused: {error}")
    for image in images:
        if image not in missing:
            print(f"present: {image}")
    for image in missing:
        print(
            f"error: {image} not present after {args.timeout:.0f} s: replication is asynchronous, and only "
            "images pushed after the replication configuration existed are replicated (push a new revision)",
            file=sys.stderr,
        )
    return EXIT_MISSING if missing else 0


if __name__ == "__main__":
    sys.exit(main())
