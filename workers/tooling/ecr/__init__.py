"""ECR as the tooling reaches it on its own, the way the design's build script does: no registry host typed by
hand, no `docker login` beforehand.

- `locate`: the account from STS GetCallerIdentity and the region from the usual AWS settings, through
  botocore's standard credential chain (environment, profiles, SSO, web identity, instance roles); the host
  from both, in the region's partition (`amazonaws.com.cn` in China).
- `DockerLogin`: a GetAuthorizationToken login in a private Docker config directory (0700, removed
  afterwards) that only this command's registry calls see (`DOCKER_CONFIG`); renewed before it expires. The
  user's own Docker config is never written, and the token is never printed.
- `PushGuard`: repositories stay Pulumi's (a missing one names the stack that creates it, nothing is created
  here), and an immutable tag that holds another image is never pushed over.

Modules: `aws` (clients, errors, where the registry is), `login` (DockerLogin, EcrConnection), `push_guard`
(the repository and image queries); this package's names are the ones the tooling and its tests use.
"""

from workers.tooling.ecr.aws import (
    ECR_REGISTRY,
    NO_CREDENTIALS,
    NO_REGION,
    REGION_ENV_VAR,
    Aws,
    EcrError,
    EcrTarget,
    locate,
    registry_host,
    stack_target,
)
from workers.tooling.ecr.login import DockerLogin, EcrConnection, user_docker_config
from workers.tooling.ecr.push_guard import MANIFEST_MEDIA_TYPES, PushGuard, is_immutable

__all__ = [
    "ECR_REGISTRY",
    "MANIFEST_MEDIA_TYPES",
    "NO_CREDENTIALS",
    "NO_REGION",
    "REGION_ENV_VAR",
    "Aws",
    "DockerLogin",
    "EcrConnection",
    "EcrError",
    "EcrTarget",
    "PushGuard",
    "is_immutable",
    "locate",
    "registry_host",
    "stack_target",
    "user_docker_config",
]
