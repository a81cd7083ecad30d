"""Record a promotion on the registry: tag every digest a promoting stack runs `<env>-<revision>`.

A promoting stack (prod, `viberator:images: {from: …/dev}`) pins digests the image stack built, which carry only
the image stack's tags (`dev-<revision>`), so only the image stack's lifecycle rule keeps them alive. Tagging the
same digest `prod-<revision>` records the promotion where the registry can see it, and the image stack's
lifecycle policy (`viberator:sharedEnvironments: [prod]`, prod's rule first) then never expires it. Nothing is
rebuilt: ECR adds a tag to an existing manifest only through BatchGetImage + PutImage of the same manifest bytes,
which keeps the digest (no Pulumi resource does this, hence a deploy-workflow step). A multi-platform harness's
platforms are tagged each under its own (`prod-<rev>-<hash>-arm64`), and its index too (ci/promotion_plan.py says
why).

    pulumi stack output --json --stack viberator/prod > outputs.json
    python -m ci.record_promotion outputs.json --environment prod >> "$GITHUB_STEP_SUMMARY"

Idempotent: a tag already naming the digest is success. A tag naming another digest (tags are immutable) fails
with both digests named: the registry then disagrees with what prod runs, which a person must look at.
Exit codes: 0 recorded; 1 a registry call failed or a tag conflicts; 2 unusable outputs (nothing was written).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from ci.promotion_plan import Promotion, PromotionError, plan_promotions
from ci.script import read_stack_outputs, script_parser, unusable

EXIT_REGISTRY = 1


class TagConflictError(RuntimeError):
    """The promotion tag exists and names another digest."""


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _digest_of_tag(client: Any, promotion: Promotion) -> str:
    """The digest the existing tag names, for the conflict message (best effort: it is only reported)."""
    try:
        response = client.batch_get_image(
            repositoryName=promotion.repository_name,
            registryId=promotion.registry_id,
            imageIds=[{"imageTag": promotion.tag}],
            acceptedMediaTypes=promotion.media_types,
        )
        return str(response["images"][0]["imageId"]["imageDigest"])
    except (ClientError, BotoCoreError, LookupError):
        return "(unknown)"


def record(client: Any, promotion: Promotion) -> str:
    """Tag the digest; returns `tagged` or `already tagged`. Raises TagConflictError, ClientError."""
    where = {"repositoryName": promotion.repository_name, "registryId": promotion.registry_id}
    response = client.batch_get_image(
        **where, imageIds=[{"imageDigest": promotion.digest}], acceptedMediaTypes=promotion.media_types
    )
    if not response.get("images"):
        failures = "; ".join(f"{f.get('failureCode')}: {f.get('failureReason')}" for f in response.get("failures", []))
        raise PromotionError(f"{promotion.repository_name}@{promotion.digest}: not retrievable ({failures})")
    manifest = response["images"][0]
    try:
        # Same manifest bytes, so the same digest; imageDigest makes ECR check that.
        client.put_image(
            **where,
            imageManifest=manifest["imageManifest"],
            imageManifestMediaType=manifest["imageManifestMediaType"],
            imageTag=promotion.tag,
            imageDigest=promotion.digest,
        )
    except ClientError as error:
        if _error_code(error) == "ImageAlreadyExistsException":
            return "already tagged"  # this tag already names this digest: a rerun
        if _error_code(error) == "ImageTagAlreadyExistsException":
            raise TagConflictError(
                f"{promotion.repository_name}: tag {promotion.tag} already names {_digest_of_tag(client, promotion)}, "
                f"not the promoted {promotion.digest} (tags are immutable; the registry disagrees with what "
                f"{', '.join(promotion.clankers)} run)"
            ) from error
        raise
    return "tagged"


def _summary_line(promotion: Promotion, outcome: str) -> str:
    return (
        f"- {promotion.label}: `{promotion.repository_name}@{promotion.digest}` "
        f"(`{promotion.source_tag}`) {outcome} `{promotion.tag}`; run by {', '.join(promotion.clankers)}"
    )


def _ecr_client(region: str) -> Any:
    return botocore.session.get_session().create_client("ecr", region_name=region)


def main(argv: list[str] | None = None, client_for: Callable[[str], Any] = _ecr_client) -> int:
    parser = script_parser(__name__, __doc__)
    parser.add_argument("outputs", type=Path, help="the promoting stack's `pulumi stack output --json`, saved")
    parser.add_argument("--environment", required=True, help="the promoting stack's environment (tag prefix)")
    args = parser.parse_args(argv)
    try:
        promotions = plan_promotions(read_stack_outputs(args.outputs), args.environment)
    except (OSError, ValueError) as error:
        return unusable(error)

    print(f"### Promotion recorded: `{args.environment}-<revision>` tags", end="\n\n")
    failed = False
    clients: dict[str, Any] = {}
    for promotion in promotions:
        client = clients.setdefault(promotion.region, client_for(promotion.region))
        try:
            outcome = record(client, promotion)
        except (TagConflictError, PromotionError, ClientError, BotoCoreError) as error:
            # Keep going: the other images' tags are independent, and the summary should show them all.
            print(f"error: {error}", file=sys.stderr)
            outcome, failed = f"**failed** ({error}) to tag", True
        print(_summary_line(promotion, outcome))
    if not promotions:
        print("- no clanker runs a promoted image: nothing to record")
    return EXIT_REGISTRY if failed else 0


if __name__ == "__main__":
    sys.exit(main())
