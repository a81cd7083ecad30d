"""The image stack's lifecycle protects what prod promoted: `prod-*` is judged before `dev-*`.

prod pins digests dev built; the deploy workflow tags them `prod-<revision>` (ci/record_promotion.py). ECR
evaluates lifecycle rules by priority, and an image matched by a rule's tags cannot be expired by a
lower-priority rule, so prod's rule must come first or newer dev builds would expire the image prod runs.
"""

from __future__ import annotations

import json

from tests.conftest import committed_plan, inputs_of, of_image_repositories


def test_the_dev_plan_keeps_prod_images_before_counting_dev_images():
    plan = committed_plan("Pulumi.dev.yaml")
    policies = {r.name: r.inputs for r in of_image_repositories(plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")}

    assert len(policies) == len(plan.outputs["images"]), "one lifecycle policy per repository dev owns"
    for name, inputs in policies.items():
        tagged = {
            rule["rulePriority"]: rule["selection"].get("tagPrefixList") or rule["selection"]["tagPatternList"]
            for rule in json.loads(inputs["policy"])["rules"]
            if rule["selection"]["tagStatus"] == "tagged"
        }
        # The floating tags' images first: a floating clanker runs what `<env>-latest` names (issue 12); then the
        # signatures and SBOMs, which no count may expire while their image lives (issue 17); last, the retired
        # in-repository build cache, which no other rule selects.
        assert tagged == {1: ["*latest"], 2: ["sha256-*"], 3: ["prod-"], 4: ["dev-"], 5: ["buildcache"]}, name


def test_prod_builds_nothing_and_owns_no_lifecycle():
    # The promoted images' lifetime is decided in dev's account alone.
    assert inputs_of(committed_plan("Pulumi.prod.yaml"), "aws:ecr/lifecyclePolicy:LifecyclePolicy") == {}
