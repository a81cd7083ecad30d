"""What a clanker target is: everything the program, the config and the CI scripts need to know about one place
clankers run, in one value each target module defines (`TARGET`) and `components/targets/__init__.py` lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pulumi

from components.aws_ids import whole_secret
from components.config_model.bedrock import bedrock_use
from components.config_model.clankers import ClankerBase, CloudClanker
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import Rule
from components.config_model.stack import NetworkConfig
from components.execution_role import ClankerRoles, CloudSettings
from components.images import ImageRef
from viberator_contract import ClankerEntry
from viberator_contract.base import ContractModel
from workers.catalog import HARNESSES

C = TypeVar("C", bound=ClankerBase)


@dataclass(frozen=True)
class ClankerStack:
    """What a target reads of the stack it deploys clankers into (never the whole StackConfig)."""

    environment: str
    region: str
    log_retention_days: int
    protect: bool
    """Protect what outlives a deploy (`viberator:protect`, default in prod); each component says what that is."""
    tags: Mapping[str, str]
    network: NetworkConfig | None
    roles: ClankerRoles | None = None
    """The clanker roles' boundary, and in a review stack their names (components/review_iam.py)."""
    secret_keys: Mapping[str, str] = field(default_factory=dict)
    """`viberator:secretKeys`: whole secret ARN -> the customer-managed KMS key encrypting it."""

    def settings_of(self, clanker: CloudClanker) -> CloudSettings:
        """What a cloud clanker's component is given besides its own sizes: one way for every target."""
        return CloudSettings(
            environment=clanker.worker_environment,
            secrets=dict(clanker.secrets),
            # Only the keys of this clanker's own secrets: its role may decrypt nothing else.
            secret_keys={
                whole_secret(arn): self.secret_keys[whole_secret(arn)]
                for arn in clanker.secrets.values()
                if whole_secret(arn) in self.secret_keys
            },
            log_retention_days=self.log_retention_days,
            resource_tags=self.tags,
            protect=self.protect,
            roles=self.roles,
            bedrock=bedrock_use(clanker, self.region),
        )


E = TypeVar("E", bound=ClankerEntry)


@dataclass(frozen=True)
class Placement(Generic[C]):
    """One clanker's config and the images of its agent: what it runs, on which architecture."""

    clanker: C
    image: ImageRef

    @property
    def architecture(self) -> str:
        return self.image.architecture_for(self.clanker.architecture)

    @property
    def platform(self) -> str:
        return self.image.platform_for(self.architecture)

    def image_reference(self) -> pulumi.Output[str]:
        """Its platform's digest, or the floating tag, as the clanker's `image` asks."""
        return self.image.reference(self.clanker.image, self.architecture)

    def entry(self, model: type[E], deployment: ContractModel, region: str | None) -> E:
        """Its `clankers.<name>` outputs entry, unvalidated (the values are Outputs: components/outputs.py), for a
        clanker running in `region` (None: on a local daemon)."""
        harness = self.clanker.agent
        return model.model_construct(
            agent=harness,  # the name the entry gave the harness before `harness`: kept for readers of then
            harness=harness,
            agents=list(HARNESSES[harness].agents),
            target=self.clanker.target,
            region=region,
            image_region=self.image.region,
            deployment_config=deployment,
        )


@dataclass(frozen=True)
class NameLimit:
    """A limit a target puts on clanker names beyond the physical name's (`viberator-<env>-<name>`, 64)."""

    longest: int
    why: str


def no_cross_region_issue(clanker: Any, key: str, region: str, image_region: str, setting: str) -> list[ConfigIssue]:
    """A target that runs wherever its image is (a local daemon)."""
    return []


@dataclass(frozen=True)
class ClankerTarget(Generic[C]):
    name: str
    """The `target` of `viberator:clankers[]` and of the outputs' clanker entries."""
    config_model: type[C]
    deploy: Callable[[ClankerStack, Sequence[Placement[C]]], Mapping[str, ClankerEntry]]
    """Registers the clankers (with whatever they share) and returns each one's outputs entry by name."""
    component_types: frozenset[str] = frozenset()
    """The component types a single-harness deploy targets for a clanker of this target (ci/deploy_targets.py);
    none for a target that registers no resources."""
    rules: tuple[Rule, ...] = ()
    """Config rules over this target's clankers only (components/config/rules/per_clanker.py runs them)."""
    name_limit: NameLimit | None = None
    runs_image_index: bool = True
    """Whether it runs an image index (a multi-platform floating tag); Lambda runs one platform's image only."""
    runs_in_network: bool = False
    """Whether its clankers run in the stack's `viberator:network` (a protected stack must name a private one)."""
    cross_region: Callable[[Any, str, str, str, str], list[ConfigIssue]] = no_cross_region_issue
    """What a promoting stack says of a clanker whose image has no replica in its region:
    `(clanker, key, region, image_region, setting)` -> issues (components/promotion.py)."""
