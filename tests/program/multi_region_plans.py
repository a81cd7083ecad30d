"""What the multi-region test modules share: the committed stacks' accounts, the repository type token, and what
a promoting stack's Lambdas pin.
"""

from __future__ import annotations

from offline_plan.engine import Plan

REPOSITORY = "aws:ecr/repository:Repository"
DEV_ACCOUNT, PROD_ACCOUNT = "123456789012", "210987654321"


def assert_lambdas_pin_the_copy(promoting: Plan, image_stack: Plan, account: str, region: str) -> list[str]:
    """Every Lambda function of the promoting plan (it has some) runs its agent's digest from the image stack's
    plan, from the copy in `account`'s registry in `region`; returns those functions' clankers."""
    functions = promoting.of_type("aws:lambda/function:Function")
    assert functions
    clankers = [function.name.removesuffix("-function") for function in functions]
    for clanker, function in zip(clankers, functions, strict=True):
        agent = promoting.outputs["clankers"][clanker]["agent"]
        digest = image_stack.outputs["images"][agent]["digest"]
        assert function.inputs["imageUri"] == (
            f"{account}.dkr.ecr.{region}.amazonaws.com/viberator-worker-{agent}@{digest}"
        )
    return clankers
