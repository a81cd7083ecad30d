"""Run the real `__main__.py` under Pulumi mocks and record what it registers.

The program runs the way the Python language host runs it (`run_in_stack` around the module), so async
entrypoints (`pulumi.run`), stack references and exports behave as under `pulumi up`. The recording monitor
keeps what the mock monitor drops: parent, options (protect, retainOnDelete), reads and the stack's outputs,
and it refuses a duplicate URN, which the real engine rejects but the mock monitor silently accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import runpy
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack

from components.config import allowed_accounts
from components.config.stack_file import SECRET_TEXT
from offline_plan.placeholders import PlaceholderMocks
from workers.catalog import PROJECT_DIR, PROJECT_NAME

UNKNOWN_TEXT = "(known after apply)"


class DuplicateUrnError(Exception):
    def __init__(self, urns: list[str]):
        super().__init__(f"duplicate URN (two resources share a type and name): {', '.join(urns)}")


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str | None
    """`type::name` of the parent, or None for a resource at the stack's root."""
    custom: bool
    inputs: dict[str, Any]
    """As the engine receives them: camelCase, secrets and unknowns shown as placeholders."""
    protect: bool
    retain_on_delete: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "options": {"protect": self.protect, "retainOnDelete": self.retain_on_delete},
        }


@dataclass
class Plan:
    project: str
    stack: str
    preview: bool
    first_preview: bool = False
    """A stack's first preview: nothing exists yet, so every computed value is unknown."""
    account: str = ""
    resources: list[Registration] = field(default_factory=list)
    reads: list[Registration] = field(default_factory=list)
    """Resources read rather than managed (stack references)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    """What the plan took for granted that `pulumi up` may find otherwise (a default VPC, an unpinned account)."""
    harnesses: list[str] = field(default_factory=list)
    clankers: list[str] = field(default_factory=list)
    """The harnesses and clankers in the order the stack config lists them (registrations arrive in any order),
    for the text plan; empty for a program run without a stack file."""

    @property
    def mode(self) -> str:
        return "first-preview" if self.first_preview else "preview" if self.preview else "up"

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "mode": self.mode,
            "account": self.account,
            "assumptions": self.assumptions,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "warnings": self.warnings,
        }

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registration:
        (match,) = [r for r in self.resources if r.name == name]
        return match


def _plain(value: Any) -> Any:
    """Deserialized RPC values with unknowns and secrets replaced by readable placeholders."""
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if rpc.is_rpc_secret(value):
        return SECRET_TEXT
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    return value


def _type_and_name(urn: str) -> str:
    qualified_type, name = urn.split("::")[2:4]
    return f"{qualified_type.split('$')[-1]}::{name}"


def _own_event_loop(rpc: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Run a mock RPC with an event loop of its own, closed when it returns.

    The SDK calls the monitor on executor threads, where the mock monitor's `_sync_await` would give each thread
    an event loop that nothing closes: when the threads end, the garbage collector may finalize a loop's
    self-pipe before the loop and print `Exception ignored in BaseEventLoop.__del__ … Invalid file descriptor`.
    """

    @functools.wraps(rpc)
    def call(self: Any, request: Any) -> Any:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return rpc(self, request)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    return call


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, placeholders: PlaceholderMocks, plan: Plan):
        super().__init__(placeholders)
        self.plan = plan
        self.stack_urn: str | None = None
        self.seen_urns: set[str] = set()
        self.duplicate_urns: list[str] = []

    def _registration(self, request: Any, urn: str, custom: bool) -> Registration:
        return Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=_type_and_name(request.parent) if request.parent and request.parent != self.stack_urn else None,
            custom=custom,
            inputs=_plain(rpc.deserialize_properties(request.object, keep_unknowns=True)),
            protect=bool(getattr(request, "protect", False)),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
        )

    @_own_event_loop
    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return super().RegisterResource(request)
        if urn in self.seen_urns:
            # The real engine rejects this; the mock monitor would silently overwrite. Reported after the run,
            # because raising inside the RPC thread leaves the program's event loop half-finished.
            self.duplicate_urns.append(urn)
        self.seen_urns.add(urn)
        self.plan.resources.append(self._registration(request, urn, bool(request.custom)))
        return super().RegisterResource(request)

    @_own_event_loop
    def ReadResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        self.plan.reads.append(
            Registration(urn, request.type, request.name, None, True, {"id": request.id}, False, False)
        )
        return super().ReadResource(request)

    @_own_event_loop
    def Invoke(self, request: Any) -> Any:
        return super().Invoke(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.stack_urn:
            self.plan.outputs = _plain(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
        return super().RegisterResourceOutputs(request)


class PulumiLogCapture(mocks.MockEngine):
    """Keeps the program's warnings (e.g. a dirty build context) for the plan to show."""

    def __init__(self, plan: Plan):
        super().__init__(None)
        self.plan = plan

    def Log(self, request: Any) -> None:
        from pulumi.runtime.proto import engine_pb2

        if request.severity in (engine_pb2.WARNING, engine_pb2.ERROR):
            self.plan.warnings.append(request.message)


SOURCE_POSITION_HOOK = "_get_stack_trace"
"""The SDK function (pulumi/runtime/resource.py) that `register_resource` and `read_resource` call for every
resource to walk the Python stack (`traceback.extract_stack`) and send the engine where the program declared it
(the request's `sourcePosition` and `stackTrace`, for the engine's diagnostics)."""


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """Send no source positions while planning: the mock monitor discards them, and the stack walks were a fifth
    of a plan's CPU (`make bench-plan`). The SDK sends the same empty trace itself when it finds no user frame.
    An SDK without the hook plans as before; tests/program/test_offline_engine.py checks the locked one has it."""
    original = getattr(resource_runtime, SOURCE_POSITION_HOOK, None)
    if original is None:
        yield
        return
    setattr(resource_runtime, SOURCE_POSITION_HOOK, source_pb2.StackTrace)
    try:
        yield
    finally:
        setattr(resource_runtime, SOURCE_POSITION_HOOK, original)


@contextlib.contextmanager
def _project_dir() -> Iterator[None]:
    # Pulumi runs programs from the project directory; relative build-context paths depend on it.
    previous = Path.cwd()
    os.chdir(PROJECT_DIR)
    try:
        yield
    finally:
        os.chdir(previous)


def _main_module() -> None:
    runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")


def run_program(
    stack: str,
    config: Mapping[str, str],
    *,
    secret_keys: list[str] | None = None,
    preview: bool = False,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    project: str = PROJECT_NAME,
    program: Callable[[], Awaitable[None] | None] | None = None,
    first_preview: bool = False,
    stale_registry_credentials: bool = False,
) -> Plan:
    """Run `program` (default: the project's `__main__.py`) for `stack` with `config` (Pulumi's string form)
    and return what it registered. `preview`: an update's preview (what exists is known, digests are not);
    `first_preview`: the stack's first preview, where nothing computed is known; `stale_registry_credentials`:
    the run after a `pulumi refresh` that read the registry with an expired password (offline_plan/placeholders.py).

    Raises ConfigError for invalid config, before any resource is registered.
    """
    preview = preview or first_preview
    region = str(config.get("aws:region", "us-east-1"))
    placeholders = PlaceholderMocks(
        region,
        preview=preview,
        first_preview=first_preview,
        stack_outputs=stack_outputs or {},
        account=_pinned_account(config),
        stale_registry_credentials=stale_registry_credentials,
    )
    plan = Plan(
        project=project,
        stack=stack,
        preview=preview,
        first_preview=first_preview,
        account=placeholders.account,
        assumptions=placeholders.assumptions,
    )
    monitor = RecordingMonitor(placeholders, plan)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime_config.set_all_config(dict(config), secret_keys or [])
    settings.set_root_resource(None)  # type: ignore[arg-type]
    mocks.set_mocks(placeholders, project=project, stack=stack, preview=preview, monitor=monitor)
    settings.SETTINGS.engine = PulumiLogCapture(plan)
    # set_mocks registers and finishes a root stack of its own; the program gets a fresh one, as under `up`.
    settings.set_root_resource(None)  # type: ignore[arg-type]
    try:
        with _project_dir(), _without_source_positions():
            loop.run_until_complete(run_in_stack(program or _main_module))
    finally:
        # The mock monitor answers RPCs on executor threads, each with an event loop of its own; ending the
        # threads now lets those loops close while the interpreter is alive, not noisily at exit.
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
        runtime_config.set_all_config({}, [])
    if monitor.duplicate_urns:
        raise DuplicateUrnError(monitor.duplicate_urns)
    # The SDK sends registrations from executor threads, so they arrive in whatever order the threads run:
    # ordered by URN, two plans of the same inputs are the same document (and a diff of them is empty).
    plan.resources.sort(key=lambda registration: registration.urn)
    plan.reads.sort(key=lambda registration: registration.urn)
    return plan


def _pinned_account(config: Mapping[str, str]) -> str | None:
    """The first of `aws:allowedAccountIds` (`allowed_accounts`), where the stack's resources can be."""
    allowed = allowed_accounts(config)
    return allowed[0] if allowed else None
