"""Deterministic stand-ins for what AWS and the registry would compute, keyed by resource type and invoke token.

They mirror the real shapes (ECR URLs, ARNs, `sha256:` digests) so the outputs schema and the backend's parsers
can be exercised offline. Any invoke without a placeholder fails loudly: a new data source must be added here
rather than silently answered with nothing.

No kinder than the engine:
- ARNs and endpoints carry the partition of the stack's region, and the account is the stack's own
  (`aws:allowedAccountIds`, which the provider enforces), so dev and prod plans show their own accounts.
- A stack's first preview (`first_preview`) knows nothing any provider computes: every output that is not an
  input is unknown, ids included, as the engine reports a resource it has yet to create.
- The account's default VPC is an assumption, never a fact: looking it up is recorded in `assumptions`, which
  the plan shows, because an account without one fails the real lookup. So is the order of a cross-account
  replication's two sides: ECR copies into another account only what is pushed after that account's registry
  policy exists, which no plan of either stack can see.
- Registry reads answer what was pushed in this run (`pushed`), and `stale_registry_credentials` answers what
  docker-build's resources hold after a `pulumi refresh` read them with the ECR password saved in state, which
  expires after 12 hours: an Index's `ref` is its bare tag (pulumi/pulumi-docker-build,
  provider/internal/index.go, `Index.Read`: on `errs.ErrHTTPUnauthorized` it logs "invalid credentials, skipping"
  and returns `state.Ref = input.Tag`), while an Image keeps its state (image.go, `Image.Read`: any error but
  not-found is "unable to verify image tags, leaving state unchanged").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pulumi
from pulumi.runtime import rpc

from offline_plan import limits
from offline_plan.placeholder_values import (
    PLACEHOLDER_PUBLIC_KEY_PEM,
    SUBNET_IDS,
    UNKNOWN_ACCOUNT,
    VPC_ID,
    auto_name,
    image_digest,
    index_digest,
    placeholder_hash,
)
from workers.ecr_url import dns_suffix, partition_of_region

REPLICATION_ROLLOUT = (
    "ECR never copies an image pushed before the replication rule and the destination's registry policy existed, so "
    "the image stack pushes a new revision after the destination's registry side is up (docs/promotion.md "
    "'Multi-region', rollout order)"
)
"""What both sides of a replication assume of the order they are deployed in."""


class PlaceholderMocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        region: str,
        *,
        preview: bool,
        stack_outputs: Mapping[str, Mapping[str, Any]],
        account: str | None = None,
        first_preview: bool = False,
        stale_registry_credentials: bool = False,
    ):
        self.region = region
        self.stale_registry_credentials = stale_registry_credentials
        self.pushed: dict[tuple[str, str], str] = {}
        """`(repository name, tag)` -> digest of every manifest pushed in this run: what ECR's DescribeImages finds."""
        self.partition = partition_of_region(region)
        self.dns_suffix = dns_suffix(self.partition)
        self.account = account or UNKNOWN_ACCOUNT
        self.preview = preview or first_preview
        self.first_preview = first_preview
        self.stack_outputs = stack_outputs
        self.assumptions: list[str] = []
        if account is None:
            self.assumptions.append(
                f"no aws:allowedAccountIds: the plan shows account {UNKNOWN_ACCOUNT}, and `pulumi up` deploys into "
                "whatever account the credentials are in"
            )

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def _repository(self, name: str, region: str | None = None) -> dict[str, Any]:
        """A repository in the provider's region, or in the one a resource names (pulumi-aws's `region`)."""
        region = region or self.region
        return {
            "name": name,
            "repositoryUrl": f"{self.account}.dkr.ecr.{region}.{self.dns_suffix}/{name}",
            "arn": f"arn:{self.partition}:ecr:{region}:{self.account}:repository/{name}",
            "registryId": self.account,
        }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        limits.check(args.typ, args.name, inputs)
        computed = self._outputs.get(args.typ)
        outputs = computed(self, args.name, inputs) if computed else {}
        state = {**inputs, **outputs}
        physical_id = state.pop("__id", f"{args.name}-id")
        if self.first_preview and args.typ != "pulumi:pulumi:StackReference":
            # What the engine answers for a resource it has yet to create: the inputs, and nothing else known.
            return "", {**{key: rpc.UNKNOWN for key in outputs if key != "__id"}, **inputs}
        return physical_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        answer = self._invokes.get(args.token)
        if answer is None:
            raise NotImplementedError(f"offline plan has no placeholder for invoke {args.token}")
        return answer(self, dict(args.args)), []  # no check failures

    # Resource outputs by type token.
    def _ecr_repository(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"__id": inputs["name"], **self._repository(inputs["name"], inputs.get("region"))}

    def _push(self, reference: str, digest: str) -> None:
        repository, tag = reference.split("/", 1)[1].rsplit(":", 1)
        self.pushed[(repository, tag)] = digest

    def _image(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.preview:
            return {}  # build_on_preview=False: the digest is unknown until `up`
        digest = image_digest(inputs)
        for tag in inputs["tags"]:
            self._push(tag, digest)
        return {"__id": digest, "digest": digest, "ref": f"{inputs['tags'][0]}@{digest}"}

    def _index(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.preview:
            return {}
        digest = index_digest(inputs)
        self._push(inputs["tag"], digest)
        if self.stale_registry_credentials:
            return {"__id": inputs["tag"], "ref": inputs["tag"]}
        return {"__id": inputs["tag"], "ref": f"{inputs['tag']}@{digest}"}

    def _role(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        physical = inputs.get("name") or auto_name(name)
        path = inputs.get("path") or "/"  # IAM's default path; a role's ARN carries its path (`role/a/b/<name>`)
        arn = self._arn("iam", f"role{path}{physical}", region=False)
        return {"__id": physical, "name": physical, "path": path, "arn": arn}

    def _managed_policy(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        physical = inputs.get("name") or auto_name(name)
        arn = self._arn("iam", f"policy/{physical}", region=False)
        return {"__id": arn, "name": physical, "arn": arn, "policyId": f"ANPA{placeholder_hash(arn)[:17].upper()}"}

    def _oidc_provider(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("iam", f"oidc-provider/{str(inputs['url']).removeprefix('https://')}", region=False)
        return {"__id": arn, "arn": arn}

    def _log_group(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        group = inputs.get("name") or auto_name(name)
        return {
            "__id": group,
            "name": group,
            "arn": self._arn("logs", f"log-group:{group}"),
        }

    def _function(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn("lambda", f"function:{inputs['name']}")
        return {"__id": inputs["name"], "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}

    def _cluster(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "__id": inputs["name"],
            "arn": self._arn("ecs", f"cluster/{inputs['name']}"),
        }

    def _task_definition(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        family = inputs["family"]
        arn = self._arn("ecs", f"task-definition/{family}:1")
        return {"__id": family, "arn": arn, "arnWithoutRevision": arn.rsplit(":", 1)[0], "revision": 1}

    def _security_group(self, name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
        group = f"sg-{placeholder_hash(name)[:17]}"
        return {"__id": group, "arn": self._arn("ec2", f"security-group/{group}")}

    def _per_registry(self) -> dict[str, Any]:
        """A registry-wide setting (replication, registry policy): ECR keeps one per registry, so its id is the
        account's."""
        return {"__id": self.account, "registryId": self.account}

    def _replication_configuration(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        rules = inputs.get("replicationConfiguration", {}).get("rules", [])
        for destination in (d for rule in rules for d in rule.get("destinations", [])):
            if destination.get("registryId") not in (self.account, None):
                self.assumptions.append(
                    f"account {destination['registryId']}'s registry in {destination['region']} lets this account "
                    "replicate into it before this stack pushes the images clankers there run (its promoting stack "
                    f"there creates that registry policy and the replica repositories): {REPLICATION_ROLLOUT}"
                )
        return self._per_registry()

    def _registry_policy(self, _name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
        self.assumptions.append(
            f"this registry policy exists in account {self.account}'s registry in {self.region} before the image "
            f"stack pushes the images this stack's clankers run: {REPLICATION_ROLLOUT}"
        )
        return self._per_registry()

    def _kms_key(self, name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
        key_id = str(uuid.UUID(placeholder_hash(self.account, self.region, name)[:32]))
        return {"__id": key_id, "keyId": key_id, "arn": self._arn("kms", f"key/{key_id}")}

    def _kms_alias(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"__id": inputs["name"], "arn": self._arn("kms", inputs["name"])}

    def _stack_reference(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        stack = inputs["name"]
        if stack not in self.stack_outputs:
            raise LookupError(
                f"no outputs for the referenced stack {stack}: pass --stack-outputs {stack}=outputs.json "
                "(or STACK_OUTPUTS to make plan)"
            )
        return {"__id": stack, "outputs": dict(self.stack_outputs[stack]), "secretOutputNames": []}

    _outputs: ClassVar[dict[str, Callable[[PlaceholderMocks, str, dict[str, Any]], dict[str, Any]]]] = {
        "aws:ecr/repository:Repository": _ecr_repository,
        "docker-build:index:Image": _image,
        "docker-build:index:Index": _index,
        "aws:iam/role:Role": _role,
        "aws:iam/policy:Policy": _managed_policy,
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
        "aws:cloudwatch/logGroup:LogGroup": _log_group,
        "aws:lambda/function:Function": _function,
        "aws:ecs/cluster:Cluster": _cluster,
        "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
        "aws:ec2/securityGroup:SecurityGroup": _security_group,
        "aws:ecr/replicationConfiguration:ReplicationConfiguration": _replication_configuration,
        "aws:ecr/registryPolicy:RegistryPolicy": _registry_policy,
        "aws:kms/key:Key": _kms_key,
        "aws:kms/alias:Alias": _kms_alias,
        "pulumi:pulumi:StackReference": _stack_reference,
    }

    # Invoke results by token.
    def _authorization_token(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.region,
            "userName": "AWS",
            "password": "offline-plan-placeholder",
            "authorizationToken": "offline-plan-placeholder",
            "proxyEndpoint": (
                f"https://{args.get('registryId') or self.account}.dkr.ecr.{self.region}.{self.dns_suffix}"
            ),
            "expiresAt": "2099-01-01T00:00:00Z",
        }

    def _get_repository(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": args["name"],
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            **self._repository(args["name"]),
        }

    def _get_image(self, args: dict[str, Any]) -> dict[str, Any]:
        """ECR's DescribeImages of one tag (pulumi-aws `ecr.getImage`): the digest pushed under it, or ECR's
        ImageNotFoundException, as the real data source fails."""
        repository, tag = args["repositoryName"], args["imageTag"]
        digest = self.pushed.get((repository, tag))
        if digest is None:
            raise LookupError(f"ImageNotFoundException: no image tagged {tag} in repository {repository}")
        return {
            "id": digest,
            "imageDigest": digest,
            "imageTags": [tag],
            "registryId": args.get("registryId") or self.account,
            "repositoryName": repository,
            "imageUri": f"{self._repository(repository)['repositoryUrl']}@{digest}",
        }

    def _get_vpc(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("default"):
            self.assumptions.append(
                f"ecs clankers run in the default VPC of account {self.account} in {self.region} ({VPC_ID} here): an "
                "account without one (Control Tower, Organizations baselines) fails `pulumi up`; set viberator:network"
            )
        return {"id": VPC_ID, "default": bool(args.get("default")), "cidrBlock": "172.31.0.0/16"}

    def _caller_identity(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.account,
            "accountId": self.account,
            "arn": self._arn("sts", "assumed-role/offline-plan/session", region=False),
            "userId": "AROAOFFLINEPLAN:session",
        }

    def _partition(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.partition,
            "partition": self.partition,
            "dnsSuffix": self.dns_suffix,
            "reverseDnsPrefix": ".".join(reversed(self.dns_suffix.split("."))),
        }

    def _session_context(self, args: dict[str, Any]) -> dict[str, Any]:
        # What IAM answers for an assumed-role session ARN: the role behind it (`…:role/<name>`).
        arn = str(args["arn"])
        prefix, _, session = arn.partition(":assumed-role/")
        if not session:
            return {"id": arn, "arn": arn, "issuerArn": arn}
        role = session.rsplit("/", 1)[0]
        issuer = f"{prefix.replace(':sts:', ':iam:')}:role/{role}"
        return {
            "id": arn,
            "arn": arn,
            "issuerArn": issuer,
            "issuerName": role,
            "sessionName": session.rsplit("/", 1)[1],
        }

    def _public_key(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": args["keyId"],
            "arn": args["keyId"],
            "keyId": args["keyId"],
            "customerMasterKeySpec": "ECC_NIST_P256",
            "keyUsage": "SIGN_VERIFY",
            "signingAlgorithms": ["ECDSA_SHA_256"],
            "publicKeyPem": PLACEHOLDER_PUBLIC_KEY_PEM,
        }

    def _get_subnets(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.region, "ids": list(SUBNET_IDS)}

    _invokes: ClassVar[dict[str, Callable[[PlaceholderMocks, dict[str, Any]], dict[str, Any]]]] = {
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": _authorization_token,
        "aws:ecr/getRepository:getRepository": _get_repository,
        "aws:ecr/getImage:getImage": _get_image,
        "aws:ec2/getVpc:getVpc": _get_vpc,
        "aws:ec2/getSubnets:getSubnets": _get_subnets,
        "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
        "aws:index/getPartition:getPartition": _partition,
        "aws:iam/getSessionContext:getSessionContext": _session_context,
        "aws:kms/getPublicKey:getPublicKey": _public_key,
    }
