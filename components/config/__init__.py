"""Stack configuration: the `viberator:*` keys of `Pulumi.<stack>.yaml`, parsed once into typed models.

This package is the only place that reads Pulumi config. Every error names its key path and the bad value
(`viberator:clankers[1].memoryMb = 99999: ...`) and all errors are reported together, before any resource is
registered, so a config mistake never half-deploys a stack.

Its modules, by job: `rules/` (the rules that span keys, one function each), `validation_errors` (pydantic's
errors in the user's words), `parsing` (the `viberator:` values to a StackConfig) and `pulumi_config` (a stack's
whole Pulumi config: decoding, other namespaces, the AWS provider's keys in `aws_provider`). The models, the
issues and what a rule sees are one floor down, in components/config_model/, which the targets build on; each
target's own clanker model is in its module (components/targets/), whose registry this package asks. The names
below are the package's API; import them from here.

The YAML shape (every key optional unless noted; README.md documents each with an example):

    viberator:environment: dev            # default: the stack name; tag prefix and name prefix
    viberator:harnesses: [claude, ...]    # default: all nine
    viberator:platform: linux/amd64       # default platform of every image
    viberator:harnessPlatforms: {claude: [linux/amd64, linux/arm64]}   # default: its clankers' architectures
    viberator:pushLatest: true            # push the global `latest` tag (default: true if this stack owns the repos)
    viberator:keepImages: 30              # builds (or promotions) of each environment each repository keeps
    viberator:repositories: create        # create | existing (another stack in this account owns them)
    viberator:sharedEnvironments: []      # other environments that push into repositories this stack owns
    viberator:protect: true               # default: true when environment is prod
    viberator:forceDelete: false          # delete repositories with images in them (never in prod)
    viberator:imageRevision: abc123       # override the `<sha>` of the image tags
    viberator:logRetentionDays: 30
    viberator:network: {subnetIds: [...], vpcId: vpc-..., assignPublicIp: false}
    viberator:images: {from: org/project/stack, harnesses: [...]}   # take images from another stack
    viberator:builder: {name: buildkitd}                            # a named BuildKit builder (never cloud-*)
    viberator:buildCache: {writerRole: arn:aws:iam::123456789012:role/viberator-ci-deploy}  # the cache's only writer
    viberator:secretKeys: {<secret ARN>: <KMS key ARN>}             # roles reading the secret may decrypt it
    viberator:consumerAccounts: ["111122223333"]                    # accounts allowed to pull this stack's images
    viberator:secretAccounts: ["111122223333"]                      # other accounts whose secrets clankers read
    viberator:replicas: [{region: us-west-2}, {region: eu-west-1, account: "111122223333"}]  # copies elsewhere
    viberator:review: {pullRequest: 123, expires: "2026-12-08T00:00:00Z"}   # a pull request's review stack pr-123
    viberator:clankers: [{name, agent, target, ...}]
"""

from components.config.parsing import parse_stack_config
from components.config.pulumi_config import (
    allowed_accounts,
    decode_config_value,
    load_stack_config,
    parse_pulumi_config,
)
from components.config_model.clankers import ClankerBase
from components.config_model.fields import (
    ARCHITECTURE_OF_PLATFORM,
    NAMESPACE,
    PLATFORM_OF_ARCHITECTURE,
    REGION_PATTERN,
    Architecture,
    Platform,
)
from components.config_model.issues import ConfigError, ConfigIssue
from components.config_model.stack import (
    REVIEW_ENVIRONMENT,
    BuilderConfig,
    ImageSourceConfig,
    NetworkConfig,
    ReplicaConfig,
    ReviewConfig,
    StackConfig,
)

__all__ = [
    "ARCHITECTURE_OF_PLATFORM",
    "NAMESPACE",
    "PLATFORM_OF_ARCHITECTURE",
    "REGION_PATTERN",
    "REVIEW_ENVIRONMENT",
    "Architecture",
    "BuilderConfig",
    "ClankerBase",
    "ConfigError",
    "ConfigIssue",
    "ImageSourceConfig",
    "NetworkConfig",
    "Platform",
    "ReplicaConfig",
    "ReviewConfig",
    "StackConfig",
    "allowed_accounts",
    "decode_config_value",
    "load_stack_config",
    "parse_pulumi_config",
    "parse_stack_config",
]
