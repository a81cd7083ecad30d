"""Review stacks (issue 18): `pr-<number>` from stacks/review.yaml, planned offline, and nothing left behind.

The destroy path is checked on the plan: `pulumi destroy` deletes every resource that is neither protected nor
retained, so a review stack may have neither, except the docker-build Images (retained by design: a replaced
Image must never delete a digest a function runs), whose digests go with the repository they were pushed to,
which must then be this stack's own and force-deleted.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci.review_stack_file import TEMPLATE, expiry, review_number, review_stack_yaml
from components.config import ConfigError, parse_stack_config
from components.tags import REVIEW_TAG_KEYS
from offline_plan.__main__ import main as plan_main
from offline_plan.engine import Plan
from offline_plan.stacks import plan_stack_file
from policy.rules import TAGGABLE
from tests.conftest import COMMITTED_STACKS
from workers.catalog import PROJECT_DIR

EXPIRES = "2026-12-08T00:00:00Z"
IMAGE = "docker-build:index:Image"
REPOSITORY = "aws:ecr/repository:Repository"


def _template() -> dict[str, Any]:
    """The template's config (stacks/review.yaml): what these tests expect a review stack to hold."""
    return dict(yaml.safe_load(TEMPLATE.read_text())["config"])


def _targets() -> list[str]:
    return sorted(c["target"] for c in _template()["viberator:clankers"])


def _plan(tmp_path: Path, *, builds_images: bool, number: int = 123) -> Plan:
    path = tmp_path / f"Pulumi.pr-{number}.yaml"
    path.write_text(review_stack_yaml(number, EXPIRES, builds_images=builds_images))
    return plan_stack_file(path)


@pytest.fixture(scope="module", params=[False, True], ids=["promoted", "built"])
def review_plan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return _plan(tmp_path_factory.mktemp("review"), builds_images=request.param)


def test_the_template_is_not_taken_for_a_committed_stack():
    assert TEMPLATE.exists()
    assert not any("review" in name or name.startswith("Pulumi.pr-") for name in COMMITTED_STACKS)


def test_nothing_in_a_review_stack_is_protected(review_plan: Plan):
    assert [r.urn for r in review_plan.resources if r.protect] == []


def test_destroy_leaves_nothing_behind(review_plan: Plan):
    retained = [r for r in review_plan.resources if r.retain_on_delete]
    repositories = {r.parent: r for r in review_plan.of_type(REPOSITORY)}

    assert {r.type for r in retained} <= {IMAGE}
    for image in retained:
        # The image's digests live in its harness's repository, which the destroy force-deletes with them.
        repository = repositories[image.parent]
        assert repository.inputs["forceDelete"] is True
        assert repository.inputs["name"].startswith("viberator-worker-pr-123-")
        assert not repository.retain_on_delete


def test_every_taggable_resource_is_marked_with_the_pull_request_and_its_expiry(review_plan: Plan):
    tagged = [r for r in review_plan.resources if r.type in TAGGABLE]

    assert tagged
    for resource in tagged:
        tags = resource.inputs["tags"]
        assert {key: tags.get(key) for key in REVIEW_TAG_KEYS} == {
            "Ephemeral": "true",
            "PullRequest": "123",
            "Expires": EXPIRES,
        }, resource.urn
        assert tags["Environment"] == "pr-123"


def test_the_templates_clankers_and_its_reduced_set_of_harnesses(review_plan: Plan):
    clankers = review_plan.outputs["clankers"]

    assert sorted(c["target"] for c in clankers.values()) == _targets()
    assert sorted(review_plan.outputs["images"]) == sorted(_template()["viberator:images"]["harnesses"])
    assert all(
        c["deploymentConfig"].get("functionName", "viberator-pr-123-").startswith("viberator-pr-123-")
        for c in clankers.values()
    )


def test_without_image_changes_it_builds_nothing_and_runs_devs_digests(tmp_path: Path):
    plan = _plan(tmp_path, builds_images=False)

    assert plan.of_type(IMAGE) == [] and plan.of_type(REPOSITORY) == []
    assert [r.inputs["id"] for r in plan.reads] == ["viberator/viberator-workers/dev"]


def test_with_image_changes_it_builds_into_repositories_of_its_own(tmp_path: Path):
    plan = _plan(tmp_path, builds_images=True)

    names = sorted(r.inputs["name"] for r in plan.of_type(REPOSITORY))
    harnesses = _template()["viberator:images"]["harnesses"]
    assert names == sorted(f"viberator-worker-pr-123-{h}{cache}" for h in harnesses for cache in ("", "-buildcache"))
    assert len(plan.of_type(IMAGE)) == sum(len(image["platforms"]) for image in plan.outputs["images"].values())
    assert sorted(plan.outputs["images"]) == sorted(harnesses)


def test_make_plan_of_pr_123_works_from_the_template() -> None:
    """`make plan STACK=pr-123`: the review tooling writes the file CI would, the engine plans it."""
    made = subprocess.run(
        ["make", "--no-print-directory", "-s", "plan", "STACK=pr-123", "FORMAT=json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(made.stdout)

    assert document["stack"] == "pr-123"
    assert not any(r["options"]["protect"] for r in document["resources"])
    for resource in document["resources"]:
        if resource["type"] in TAGGABLE:
            assert resource["inputs"]["tags"]["PullRequest"] == "123"
    assert sorted(c["target"] for c in document["outputs"]["clankers"].values()) == _targets()


def test_the_engine_plans_files_and_names_the_command_that_makes_a_review_stack_s(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert plan_main(["--stack", "pr-7", "--format", "json"]) == 2
    assert "python -m ci.review_stacks stack-file --pr 7 --output build/stacks/Pulumi.pr-7.yaml" in (
        capsys.readouterr().err
    )


def test_expiry_is_a_week_later_to_the_hour():
    now = datetime.datetime(2026, 12, 1, 10, 42, 7, tzinfo=datetime.UTC)

    assert expiry(now) == "2026-12-08T10:00:00Z"


@pytest.mark.parametrize(
    ("stack", "number"), [("pr-12", 12), ("viberator/pr-12", 12), ("dev", None), ("pr-x", None), ("apr-1", None)]
)
def test_review_numbers(stack: str, number: int | None):
    assert review_number(stack) == number


# The config rules of a review stack ---------------------------------------------------------------------------

REVIEW = {"pullRequest": 123, "expires": EXPIRES}
BUILDS = {"review": REVIEW, "harnesses": ["claude"], "forceDelete": "true"}


def _issues(values: dict[str, Any], stack: str = "pr-123") -> dict[str, str]:
    with pytest.raises(ConfigError) as error:
        parse_stack_config(values, stack=stack, region="us-east-1")
    return {issue.path: issue.message for issue in error.value.issues}


def test_a_valid_review_config_parses():
    config = parse_stack_config(BUILDS, stack="pr-123", region="us-east-1")

    assert config.review is not None and config.review.pull_request == 123
    assert config.repository_name_of("claude") == "viberator-worker-pr-123-claude"
    assert not config.protect_repositories and not config.protect_resources


@pytest.mark.parametrize(
    ("values", "stack", "path", "message"),
    [
        ({"harnesses": ["claude"]}, "pr-5", "viberator:environment", "names a pull request's review stack"),
        (BUILDS, "pr-124", "viberator:environment", "pr-<viberator:review.pullRequest>: pr-123"),
        ({**BUILDS, "protect": "true"}, "pr-123", "viberator:protect", "nothing in it is protected"),
        ({**BUILDS, "sharedEnvironments": ["dev"]}, "pr-123", "viberator:sharedEnvironments", "live and die"),
        ({**BUILDS, "consumerAccounts": ["210987654321"]}, "pr-123", "viberator:consumerAccounts", "live and die"),
        ({**BUILDS, "replicas": [{"region": "us-west-2"}]}, "pr-123", "viberator:replicas", "live and die"),
        ({"review": REVIEW, "harnesses": ["claude"]}, "pr-123", "viberator:forceDelete", "forceDelete: true"),
        (
            {"review": REVIEW, "harnesses": ["claude"], "repositories": "existing"},
            "pr-123",
            "viberator:repositories",
            "repositories of its own",
        ),
        ({**BUILDS, "review": {**REVIEW, "pullRequest": 0}}, "pr-0", "viberator:review.pullRequest", "greater than"),
        ({**BUILDS, "review": {**REVIEW, "expires": "2026-12-08"}}, "pr-123", "viberator:review.expires", "UTC time"),
        (
            {**BUILDS, "review": {**REVIEW, "expires": "2026-13-08T00:00:00Z"}},
            "pr-123",
            "viberator:review.expires",
            "not a time",
        ),
        ({**BUILDS, "review": {**REVIEW, "expiry": EXPIRES}}, "pr-123", "viberator:review.expiry", "did you mean"),
        ({**BUILDS, "review": {"pullRequest": 123}}, "pr-123", "viberator:review.expires", "Field required"),
    ],
)
def test_review_config_rules(values: dict[str, Any], stack: str, path: str, message: str):
    issues = _issues(values, stack)

    assert path in issues, issues
    assert message in issues[path]


def test_a_promoting_review_stack_needs_no_force_delete():
    values = {"review": REVIEW, "images": {"from": "viberator/viberator-workers/dev"}}

    assert parse_stack_config(values, stack="pr-123", region="us-east-1").review is not None
