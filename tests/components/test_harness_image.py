"""HarnessImage under recording mocks: the exact inputs of the repository, lifecycle policy and image."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pulumi

from components.harness_image import HarnessImage, HarnessImageArgs
from offline_plan.engine import run_program
from tests.builders import claude_image_args
from tests.conftest import Recorder
from workers.labels import BASES_LABEL, HARNESS_LABEL, REVISION_LABEL, SOURCE_DATE_EPOCH_LABEL
from workers.revision import BuildRevision
from workers.tooling.build import BuildRequest, build_options

REGISTRY = "000000000000.dkr.ecr.us-east-1.amazonaws.com"
ARGS = claude_image_args(resource_tags={"Project": "viberator-workers", "Environment": "dev"})


def build(args: HarnessImageArgs = ARGS):
    return lambda: HarnessImage(args.harness.name, args)


def with_repository(args: HarnessImageArgs = ARGS, **settings: Any) -> HarnessImageArgs:
    """`args` whose repository is created with `settings` changed."""
    return replace(args, repository=replace(args.repository, **settings))


def test_children_are_parented_and_named_after_the_component(record: Recorder) -> None:
    plan = record(build())
    component = "viberator:workers:HarnessImage::claude"
    # Each registration reaches the engine once its inputs resolve: the arrival order is not the program's.
    assert sorted((r.type, r.name, r.parent) for r in plan.resources) == sorted(
        [
            ("viberator:workers:HarnessImage", "claude", None),
            ("aws:ecr/repository:Repository", "claude-repository", component),
            ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "claude-lifecycle", component),
            ("aws:ecr/repositoryPolicy:RepositoryPolicy", "claude-pull-policy", component),
            ("aws:ecr/repository:Repository", "claude-cache-repository", component),
            ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "claude-cache-lifecycle", component),
            ("docker-build:index:Image", "claude-image", component),
        ]
    )


def test_repository_is_immutable_scanned_and_encrypted(record: Recorder) -> None:
    repository = record(build()).named("claude-repository")
    assert repository.inputs == {
        "name": "viberator-worker-claude",
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [
            {"filter": "latest", "filterType": "WILDCARD"},
            {"filter": "*-latest", "filterType": "WILDCARD"},
            # Signatures, SBOMs and the referrers index: rewritten when a signature or referrer is added.
            {"filter": "sha256-*", "filterType": "WILDCARD"},
        ],
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS"}],
        "forceDelete": False,
        "tags": {"Project": "viberator-workers", "Environment": "dev", "Harness": "claude"},
    }
    assert (repository.protect, repository.retain_on_delete) == (False, False)


def test_production_repository_is_protected_and_retained(record: Recorder) -> None:
    repository = record(build(with_repository(protect=True))).named("claude-repository")
    assert (repository.protect, repository.retain_on_delete) == (True, True)
    assert repository.inputs["forceDelete"] is False


def test_lifecycle_keeps_n_images_per_environment_and_expires_untagged(record: Recorder) -> None:
    # Priority follows the order passed: the program passes the promoted environment (prod) before the owner
    # (dev), so a digest tagged both is judged only by prod's count.
    args = with_repository(keep_images=12, lifecycle_environments=("prod", "dev"))
    policy = json.loads(record(build(args)).named("claude-lifecycle").inputs["policy"])
    assert policy["rules"] == [
        {
            "rulePriority": 1,
            "description": "Keep every image a floating tag names",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["*latest"],
                "countType": "imageCountMoreThan",
                "countNumber": 9999,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep every signature and SBOM (tags named after their image's digest)",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["sha256-*"],
                "countType": "imageCountMoreThan",
                "countNumber": 9999,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 3,
            "description": "Keep the newest 12 prod builds",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["prod-"],
                "countType": "imageCountMoreThan",
                "countNumber": 12,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 4,
            "description": "Keep the newest 12 dev builds",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["dev-"],
                "countType": "imageCountMoreThan",
                "countNumber": 12,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 5,
            "description": "Expire the retired build cache (buildcache: caches are in <repository>-buildcache)",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["buildcache"],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 6,
            "description": "Expire untagged manifests after 7 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
    ]


def test_image_build_inputs(record: Recorder) -> None:
    image = record(build()).named("claude-image")
    repository = f"{REGISTRY}/viberator-worker-claude"
    assert image.retain_on_delete is True
    inputs = image.inputs
    assert inputs["context"] == {"location": "workers/image"}
    assert inputs["dockerfile"] == {"location": "workers/image/Dockerfile"}
    assert inputs["target"] == "claude"
    assert inputs["platforms"] == ["linux/amd64"]
    assert inputs["push"] is True
    assert inputs["buildOnPreview"] is False
    assert inputs["buildArgs"] == {"SOURCE_DATE_EPOCH": "1700000000"}
    assert inputs["labels"] == {
        REVISION_LABEL: "0123456789ab",
        SOURCE_DATE_EPOCH_LABEL: "1700000000",
        HARNESS_LABEL: "claude",
        BASES_LABEL: "official",
    }
    immutable, *floating = inputs["tags"]
    assert re.fullmatch(rf"{repository}:dev-0123456789ab-[0-9a-f]{{8}}", immutable)
    assert floating == [f"{repository}:dev-latest", f"{repository}:latest"]
    assert inputs["cacheFrom"] == [{"registry": {"ref": f"{repository}-buildcache:buildcache-amd64"}}]
    (cache_to,) = inputs["cacheTo"]
    assert {k: cache_to["registry"][k] for k in ("ref", "mode", "imageManifest", "ociMediaTypes")} == {
        "ref": f"{repository}-buildcache:buildcache-amd64",
        "mode": "max",
        "imageManifest": True,
        "ociMediaTypes": True,
    }
    # Credentials come from the ECR token invoke; the password makes the whole registries input a secret.
    assert inputs["registries"] == "[secret]"
    assert "exports" not in inputs  # push=True exports to the registry; nothing adds an attestation index


def test_the_image_is_labelled_as_the_tooling_labels_its_build(record: Recorder) -> None:
    inputs = record(build()).named("claude-image").inputs
    revision = BuildRevision(ARGS.revision, ARGS.source_date_epoch)
    options = build_options(BuildRequest(harnesses=("claude",), revision=revision), "claude", None, ())
    pairs = list(zip(options[::2], options[1::2], strict=True))
    assert inputs["labels"] == dict(value.split("=", 1) for flag, value in pairs if flag == "--label")
    assert inputs["buildArgs"] == dict(value.split("=", 1) for flag, value in pairs if flag == "--build-arg")


def immutable_tag(record: Recorder, args: HarnessImageArgs, image: str = "claude-image") -> str:
    return str(record(build(args)).named(image).inputs["tags"][0]).rsplit(":", 1)[1]


def test_latest_can_be_switched_off_and_platform_overridden(record: Recorder) -> None:
    inputs = record(build(replace(ARGS, push_latest=False, platforms=("linux/arm64",)))).named("claude-image").inputs
    immutable, floating = (tag.rsplit(":", 1)[1] for tag in inputs["tags"])
    assert immutable.startswith("dev-0123456789ab-") and immutable != immutable_tag(record, ARGS)
    assert floating == "dev-latest"
    assert inputs["platforms"] == ["linux/arm64"]


def test_existing_repositories_are_looked_up_not_created(record: Recorder) -> None:
    plan = record(build(replace(ARGS, create_repository=False, push_latest=False)))
    assert sorted(r.type for r in plan.resources) == ["docker-build:index:Image", "viberator:workers:HarnessImage"]
    assert (
        plan.named("claude-image").inputs["tags"][0].startswith(f"{REGISTRY}/viberator-worker-claude:dev-0123456789ab-")
    )


def test_lambda_may_pull_for_this_accounts_clanker_functions(record: Recorder) -> None:
    policy = json.loads(record(build()).named("claude-pull-policy").inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "LambdaPull",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Condition": {"StringLike": {"aws:sourceARN": ["arn:aws:lambda:*:000000000000:function:viberator-*"]}},
        }
    ]


def test_consumer_accounts_may_pull_and_so_may_their_lambda_service(record: Recorder) -> None:
    plan = record(build(with_repository(consumer_accounts=("111122223333",))))
    service, account = json.loads(plan.named("claude-pull-policy").inputs["policy"])["Statement"]
    assert service["Condition"] == {
        "StringLike": {
            "aws:sourceARN": [
                "arn:aws:lambda:*:000000000000:function:viberator-*",
                "arn:aws:lambda:*:111122223333:function:viberator-*",
            ]
        }
    }
    assert account == {
        "Sid": "ConsumerAccountsPull",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"],
    }


def test_pull_policy_names_the_stacks_partition(record: Recorder) -> None:
    """A GovCloud stack's policy names `arn:aws-us-gov:` ARNs, or it would never match (issue 12)."""
    args = with_repository(partition="aws-us-gov", consumer_accounts=("111122223333",))
    policy = record(build(args)).named("claude-pull-policy").inputs["policy"]
    arns = re.findall(r"arn:[a-z-]+:", policy)
    assert arns and set(arns) == {"arn:aws-us-gov:"}


def test_outputs_pin_the_digest(record: Recorder) -> None:
    outputs: dict[str, object] = {}

    def program() -> None:
        image = HarnessImage("claude", ARGS).platforms["linux/amd64"]
        pulumi.Output.from_input(image.image_uri).apply(lambda uri: outputs.setdefault("uri", uri))
        pulumi.Output.from_input(image.digest).apply(lambda digest: outputs.setdefault("digest", digest))

    record(program)
    assert outputs["uri"] == f"{REGISTRY}/viberator-worker-claude@{outputs['digest']}"
    assert str(outputs["digest"]).startswith("sha256:") and len(str(outputs["digest"])) == 71


def test_a_named_builder_builds_the_image_and_is_part_of_its_tag(record: Recorder) -> None:
    remote = replace(ARGS, builder="buildkitd-remote")
    inputs = record(build(remote)).named("claude-image").inputs
    assert inputs["builder"] == {"name": "buildkitd-remote"}
    assert "exec" not in inputs, "docker-build's in-process build, which turns provenance off (client.go)"
    assert immutable_tag(record, remote) != immutable_tag(record, ARGS), "a new builder is a new immutable tag"
    # The default (the machine's own builder) adds no input.
    assert "builder" not in record(build()).named("claude-image").inputs


def test_the_stack_setting_reaches_every_image() -> None:
    config = {"aws:region": "us-east-1", "viberator:harnesses": '["claude", "kimi"]'}
    remote = run_program("scratch", {**config, "viberator:builder": '{"name": "buildkitd"}'})
    default = run_program("scratch", config)
    assert [r.inputs["builder"] for r in remote.of_type("docker-build:index:Image")] == [{"name": "buildkitd"}] * 2
    assert all("builder" not in r.inputs for r in default.of_type("docker-build:index:Image"))


def test_each_platform_writes_its_own_cache_and_reads_its_own_first(record: Recorder) -> None:
    plan = record(build(replace(ARGS, platforms=("linux/amd64", "linux/arm64"))))
    cache = f"{REGISTRY}/viberator-worker-claude-buildcache"
    amd64, arm64 = plan.named("claude-image").inputs, plan.named("claude-image-arm64").inputs
    assert [c["registry"]["ref"] for c in amd64["cacheTo"]] == [f"{cache}:buildcache-amd64"]
    assert [c["registry"]["ref"] for c in arm64["cacheTo"]] == [f"{cache}:buildcache-arm64"]
    assert [c["registry"]["ref"] for c in amd64["cacheFrom"]] == [
        f"{cache}:buildcache-amd64",
        f"{cache}:buildcache-arm64",
    ]
    assert [c["registry"]["ref"] for c in arm64["cacheFrom"]] == [
        f"{cache}:buildcache-arm64",
        f"{cache}:buildcache-amd64",
    ]


def test_the_cache_repository_keeps_only_cache_tags_movable_and_expires_superseded_manifests(record: Recorder) -> None:
    plan = record(build())
    repository = plan.named("claude-cache-repository").inputs
    assert repository["name"] == "viberator-worker-claude-buildcache"
    assert repository["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repository["imageTagMutabilityExclusionFilters"] == [{"filter": "buildcache-*", "filterType": "WILDCARD"}]
    assert repository["forceDelete"] is False, "protected and force-deleted as the image repository is"
    (rule,) = json.loads(plan.named("claude-cache-lifecycle").inputs["policy"])["rules"]
    assert rule["selection"]["tagStatus"] == "untagged"
    assert "claude-cache-policy" not in {r.name for r in plan.resources}, "no writer configured: IAM decides"


def test_only_the_build_role_may_write_the_cache(record: Recorder) -> None:
    writer = "arn:aws:iam::000000000000:role/viberator-ci-deploy"
    policy = json.loads(
        record(build(replace(ARGS, cache_writer_role=writer))).named("claude-cache-policy").inputs["policy"]
    )
    assert policy["Statement"] == [
        {
            "Sid": "OnlyTheBuildRoleWrites",
            "Effect": "Deny",
            "Principal": "*",
            "Action": [
                "ecr:BatchDeleteImage",
                "ecr:CompleteLayerUpload",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": writer}},
        }
    ]


def test_keep_images_counts_builds_whatever_the_number_of_platforms(record: Recorder) -> None:
    """Each build of two platforms tags three `<env>-*` manifests (two images and their index), and ECR's
    imageCountMoreThan counts manifests (ECR User Guide, "Lifecycle policy properties in Amazon ECR"): the rule
    counts 3 x keepImages, so keepImages builds are kept, not a third of them."""
    two_platforms = replace(ARGS, platforms=("linux/amd64", "linux/arm64"))
    args = with_repository(two_platforms, keep_images=12, lifecycle_environments=("prod", "dev"))
    rules = json.loads(record(build(args)).named("claude-lifecycle").inputs["policy"])["rules"]
    counted = {
        rule["selection"]["tagPrefixList"][0]: (rule["selection"]["countNumber"], rule["description"])
        for rule in rules
        if "tagPrefixList" in rule["selection"]
    }
    assert counted == {
        "prod-": (36, "Keep the newest 12 prod builds (3 manifests each)"),
        "dev-": (36, "Keep the newest 12 dev builds (3 manifests each)"),
    }
