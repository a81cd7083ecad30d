"""The repository and image queries around a push (`PushGuard`): the repositories are the Pulumi stack's (a
missing one names the stack that creates it, nothing is created here), an immutable tag that holds another
image is never pushed over, and the movable tags are pointed at a pushed digest with PutImage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from fnmatch import fnmatch
from functools import partial
from typing import Any

from workers.naming import MUTABLE_TAG_PATTERNS, repository_name
from workers.tooling.ecr.aws import EcrError, EcrTarget, aws_call

# Single images and the multi-platform indexes `build --platform a,b` pushes.
MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
]


def is_immutable(tag: str) -> bool:
    """Tags the repositories refuse to move (`components/harness_image.py`: IMMUTABLE_WITH_EXCLUSION)."""
    return not any(fnmatch(tag, pattern) for pattern in MUTABLE_TAG_PATTERNS)


class PushGuard:
    """The ECR checks around a push: the repository is Pulumi's to create, an immutable tag never moves."""

    def __init__(self, ecr: Any, target: EcrTarget, environment: str) -> None:
        self._ecr = ecr
        self._target = target
        self._environment = environment

    def check_repositories(self, harnesses: Iterable[str]) -> None:
        """Before any build: every repository exists; else EcrError naming them and the stack that creates them."""
        missing = [name for name in map(repository_name, harnesses) if not self._repository_exists(name)]
        if missing:
            raise EcrError(
                f"ECR repository {', '.join(missing)} does not exist in account {self._target.account} "
                f"({self._target.region}); repositories are the Pulumi stack's, never created here: "
                f"create {'them' if len(missing) > 1 else 'it'} with `make up STACK={self._environment}` "
                f"(the image stack of environment {self._environment})"
            )

    def _repository_exists(self, name: str) -> bool:
        found = aws_call(
            "ecr:DescribeRepositories",
            lambda: self._ecr.describe_repositories(registryId=self._target.account, repositoryNames=[name]),
            tolerated="RepositoryNotFoundException",
        )
        return found is not None

    def held(self, harness: str, tags: Sequence[str], image_id: str) -> str | None:
        """The digest the immutable `tags` already hold this image at (nothing to push), else None (push).

        EcrError when one holds another image: the tag would have to move, which the repository refuses and
        which would change what a tag a clanker was deployed from means.
        """
        held = [self._holding(harness, tag, image_id) for tag in tags if is_immutable(tag)]
        return next((digest for digest in held if digest is not None), None)

    def _holding(self, harness: str, tag: str, image_id: str) -> str | None:
        name = repository_name(harness)
        response = aws_call(
            "ecr:BatchGetImage",
            lambda: self._ecr.batch_get_image(
                registryId=self._target.account,
                repositoryName=name,
                imageIds=[{"imageTag": tag}],
                acceptedMediaTypes=MANIFEST_MEDIA_TYPES,
            ),
        )
        if not response.get("images"):
            return None
        image = response["images"][0]
        digest = str(image["imageId"]["imageDigest"])
        config = json.loads(image["imageManifest"]).get("config", {}).get("digest")
        if config == image_id:
            return digest
        held = f"image {config}" if config else "a multi-platform index"
        raise EcrError(
            f"{name}:{tag} is immutable and already holds {digest} ({held}); this build is image {image_id}: "
            "refusing to move it (build a new revision, or delete the old image in ECR if nothing runs it)"
        )

    def point(self, harness: str, tags: Sequence[str], digest: str) -> None:
        """Make the movable `tags` name the manifest `digest` the repository holds: ECR adds a tag only through
        PutImage of the same manifest bytes, which keeps the digest."""
        where = {"registryId": self._target.account, "repositoryName": repository_name(harness)}
        response = aws_call(
            "ecr:BatchGetImage",
            lambda: self._ecr.batch_get_image(
                **where, imageIds=[{"imageDigest": digest}], acceptedMediaTypes=MANIFEST_MEDIA_TYPES
            ),
        )
        image = response["images"][0]

        def put(tag: str) -> Any:
            return self._ecr.put_image(
                **where,
                imageManifest=image["imageManifest"],
                imageManifestMediaType=image["imageManifestMediaType"],
                imageTag=tag,
                imageDigest=digest,
            )

        for tag in (tag for tag in tags if not is_immutable(tag)):
            # ImageAlreadyExistsException: the tag names this digest already.
            aws_call("ecr:PutImage", partial(put, tag), tolerated="ImageAlreadyExistsException")
