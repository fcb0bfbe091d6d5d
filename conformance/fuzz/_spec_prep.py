"""From the suite's spec, target and options to a loaded schemathesis schema, ready to run.

Everything schemathesis would otherwise pick up from its surroundings is pinned here, so that two
runs with the same seed send the same requests: no ``schemathesis.toml`` discovery, no example
database, no on-disk cache, one worker, and no constants from whatever code is loaded
(:func:`no_local_constants`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import schemathesis
from hypothesis import strategies as st
from pyrate_limiter import Limiter
from schemathesis.config import ConfigError as SchemathesisConfigError
from schemathesis.config import SchemathesisConfig

from .._exceptions import ConfigError
from .._http import Pacer, track_id
from .._tenant_data import TenantData
from ._builtins import DISABLED, REPLACEMENTS
from ._options import PHASES, FuzzOptions, FuzzTarget
from ._transport import OWN_CREDENTIALS

#: Header parameters the suite sets itself (or leaves out) rather than letting the fuzzer draw
#: them: ``Zuora-Version`` picks the error style the checks judge by; ``Zuora-Track-Id`` must be
#: a known value to check the echo; ``Content-Encoding: gzip`` would promise a compressed body
#: the fuzzer does not send (the spec says so); a drawn ``Idempotency-Key`` (mostly the spec's
#: example value) turns every later POST into a replay or a 422 conflict, hiding the operation
#: from the fuzzer; and ``Zuora-Entity-Ids`` / ``Zuora-Org-Ids`` name tenant-specific entities
#: the fuzzer cannot know (a drawn id names none). The scenarios test these on purpose.
SUITE_HEADERS = frozenset(
    {
        "zuora-version",
        "zuora-track-id",
        "content-encoding",
        "idempotency-key",
        "zuora-entity-ids",
        "zuora-org-ids",
    }
)

#: Bounds the sources give without saying what a server does past them (the catalogue's decisions
#: on JR-ENTRIES-004 and JR-ENTRIES-014): refusing a value past them is a SHOULD; clamping it, or
#: accepting it, is allowed. schemathesis sends such values as negative data and fails an answer
#: that accepts one on JR-ERRORS-009, a MUST, so the fuzzer's copy of the spec leaves them out:
#: JSON pointer -> the keywords dropped there. The limit on notes in answers goes too (a server
#: that accepted longer notes returns them). The scenarios check both sides of each bound
#: (scenarios/README.md, "Boundaries").
UNDECIDED_BOUNDS: Mapping[str, tuple[str, ...]] = {
    "/components/parameters/Page/schema": ("minimum",),
    "/components/parameters/PageSize/schema": ("minimum", "maximum"),
    "/components/schemas/POSTJournalEntryType/properties/notes": ("maxLength",),
    "/components/schemas/PUTBasicSummaryJournalEntryType/properties/notes": ("maxLength",),
    "/components/schemas/GETJournalEntryDetailTypeWithoutSuccess/properties/notes": ("maxLength",),
}


@contextmanager
def no_local_constants() -> Iterator[None]:
    """Keep Hypothesis from drawing values out of the source code of "local" modules.

    Hypothesis also draws strings and numbers it finds in every imported module that lives
    outside site-packages and the standard library. What the fuzzer sends would then depend on
    the caller's own code (a project using the pytest entry point, an editable install of this
    suite) and on which of those modules some thread had imported by then: one seed would not
    send the same requests twice. Its own list of interesting values stays. If a later
    Hypothesis moves this internal, nothing is patched (a test notices the lost determinism).
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original = providers._get_local_constants
        empty = Constants()
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - another Hypothesis
        yield
        return
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original


def prepare_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` without the header parameters in :data:`SUITE_HEADERS` and without the
    bounds in :data:`UNDECIDED_BOUNDS`."""
    prepared = copy.deepcopy(dict(spec))
    for pointer, keywords in UNDECIDED_BOUNDS.items():
        node: Any = prepared
        for part in pointer.strip("/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            for keyword in keywords:
                node.pop(keyword, None)
    components = prepared.get("components", {}).get("parameters", {})
    for path_item in prepared.get("paths", {}).values():
        if not isinstance(path_item, dict):
            continue
        for key, operation in path_item.items():
            if key == "parameters" and isinstance(operation, list):
                path_item[key] = _keep(operation, components)
            elif isinstance(operation, dict) and isinstance(operation.get("parameters"), list):
                operation["parameters"] = _keep(operation["parameters"], components)
    return prepared


def _keep(parameters: list[Any], components: Mapping[str, Any]) -> list[Any]:
    kept = []
    for parameter in parameters:
        resolved = parameter
        ref = parameter.get("$ref") if isinstance(parameter, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
            resolved = components.get(ref.rsplit("/", 1)[1], {})
        if (
            isinstance(resolved, dict)
            and resolved.get("in") == "header"
            and str(resolved.get("name", "")).lower() in SUITE_HEADERS
        ):
            continue
        kept.append(parameter)
    return kept


def in_tenant(spec: Mapping[str, Any], tenant: TenantData) -> dict[str, Any]:
    """A copy of ``spec`` whose request examples use ``tenant``'s periods, not the documents'."""
    moved = copy.deepcopy(dict(spec))
    for path_item in moved.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            if "requestBody" in operation:
                operation["requestBody"] = tenant.translate(operation["requestBody"])
            if "parameters" in operation:
                operation["parameters"] = tenant.translate(operation["parameters"])
    return moved


def reads_only(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with only its GET operations, and no links (they lead to writes)."""
    return _keeping(spec, lambda method, operation: method not in _WRITE_METHODS)


def some_operations(
    spec: Mapping[str, Any], *, only: Iterable[str] = (), without: Iterable[str] = ()
) -> dict[str, Any]:
    """A copy of ``spec`` with only the operations ``only`` names (all when empty), less those
    ``without`` names, and no links (they may lead to an operation left out)."""
    keep, drop = set(only), set(without)

    def kept(method: str, operation: Mapping[str, Any]) -> bool:
        name = operation.get("operationId")
        return (not keep or name in keep) and name not in drop

    return _keeping(spec, kept)


def _keeping(
    spec: Mapping[str, Any], keep: Callable[[str, Mapping[str, Any]], bool]
) -> dict[str, Any]:
    """A copy of ``spec`` with the operations ``keep(method, operation)`` accepts, and no
    links."""
    kept = copy.deepcopy(dict(spec))
    for path_item in kept.get("paths", {}).values():
        if not isinstance(path_item, dict):
            continue
        for method, operation in list(path_item.items()):
            if method.lower() not in _METHODS or not isinstance(operation, dict):
                continue
            if not keep(method.lower(), operation):
                del path_item[method]
                continue
            for response in (operation.get("responses") or {}).values():
                if isinstance(response, dict):
                    response.pop("links", None)
    return kept


_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
#: Methods the coverage phase may try on a URL the spec does not define them for, when the
#: tenant's data is not the suite's own: none of them changes anything.
SAFE_UNEXPECTED_METHODS = ("OPTIONS", "TRACE", "QUERY")


def operation_ids(spec: Mapping[str, Any]) -> list[str]:
    ids = []
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values() if isinstance(path_item, dict) else ():
            if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                ids.append(operation["operationId"])
    return ids


def track_for(target: FuzzTarget, operation_id: str) -> str:
    """The Zuora-Track-Id of every request the fuzzer sends to one operation."""
    return track_id(target.run_id, f"fuzz.{operation_id}")


def build_config(
    spec: Mapping[str, Any],
    target: FuzzTarget,
    options: FuzzOptions,
    *,
    zuora_version: str | None,
    phases: Iterable[str],
    max_examples: int,
    max_time_s: float | None,
    disabled: Iterable[str] = (),
    builtin_only: bool = False,
    auth_header: bool = True,
    workers: int = 1,
) -> SchemathesisConfig:
    """The schemathesis configuration of one pass.

    ``auth_header``: send the target's bearer token as a header of every request (when
    schemathesis sends with its own client; the suite's session authenticates by itself).

    ``builtin_only`` keeps every built-in check schemathesis enables by default (the benchmark's
    plain run); otherwise the checks in :data:`~._builtins.DISABLED` and ``disabled`` are off.
    """
    headers = dict(target.headers)
    if auth_header and target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    elif target.auth is not None:
        headers["Authorization"] = OWN_CREDENTIALS  # the session authenticates: _transport
    if zuora_version is not None:
        headers["Zuora-Version"] = zuora_version
    chosen = set(phases)
    if options.read_only:
        chosen.discard("stateful")  # its links follow creates
    phase_config: dict[str, Any] = {name: {"enabled": name in chosen} for name in PHASES}
    if options.read_only or options.shared_tenant:
        # The coverage phase sends methods the spec does not define (POST, PATCH, DELETE ...)
        # to a URL naming a run or entry that may be someone else's: only methods that change
        # nothing, then.
        phase_config["coverage"]["unexpected-methods"] = list(SAFE_UNEXPECTED_METHODS)
    for name in ("examples", "coverage", "fuzzing"):
        phase_config[name]["extra-data-sources"] = {"responses": False}
    if options.max_steps is not None:
        phase_config["stateful"]["max-steps"] = options.max_steps
    scenarios = max(max_examples, options.min_scenarios)
    if options.shared_tenant:
        # A stateful scenario starts with a create: one per journal run of the stage's budget
        # (its creates are counted, not withheld: withheld, Hypothesis rejects scenario after
        # scenario, which costs more than the runs).
        scenarios = max(1, options.create_budget)
    # The stateful phase draws valid requests only. It is there to follow created runs through
    # their lifecycle (the lifecycle, cancel and delete rules); invalid requests are the other
    # phases' work, and every step that may be negative builds and draws both modes' strategies
    # (over half of the phase's cost, for one request in ten).
    phase_config["stateful"]["generation"] = {
        "max-examples": scenarios,
        "database": "none",
        "mode": "positive",
    }
    # The plain run keeps schemathesis's ignored_auth and unsupported_method, not the suite's
    # replacements of them.
    off = REPLACEMENTS if builtin_only else (*DISABLED, *disabled)
    checks = {name: {"enabled": False} for name in off}
    data: dict[str, Any] = {
        "seed": options.seed,
        "workers": workers,
        # A failure neither stops an operation's exploration nor makes Hypothesis shrink: the
        # budget is spent the same on a broken server as on a conforming one, and the evidence
        # is the failing exchange itself.
        "continue-on-failure": True,
        "cache": {"enabled": False},
        "suppress-health-check": ["all"],
        "base-url": target.base_url,
        "tls-verify": target.verify_tls,
        "request-timeout": target.request_timeout_s,
        "headers": _literal(headers),
        "generation": {"max-examples": max_examples, "database": "none"},
        "phases": phase_config,
        "checks": checks,
        "operations": [
            {
                "include-operation-id": operation_id,
                "headers": _literal({"Zuora-Track-Id": track_for(target, operation_id)}),
            }
            for operation_id in operation_ids(spec)
        ],
    }
    if max_time_s is not None:
        data["max-time"] = max(1, math.ceil(max_time_s))
    try:
        config = SchemathesisConfig.from_dict(data)
    except SchemathesisConfigError as exc:
        raise ConfigError(f"fuzzing configuration refused by schemathesis: {exc}") from None
    if target.pacer is not None and target.pacer.per_min is not None:
        project = config.projects.default
        project.rate_limit = _PacedLimiter(target.pacer)
        project._rate_limit = f"{target.pacer.per_min:g}/m"  # what its repr shows
    return config


class _PacedLimiter(Limiter):
    """The run's :class:`~conformance._http.Pacer` in the shape schemathesis paces with.

    schemathesis asks a ``pyrate_limiter.Limiter`` for a turn (``try_acquire``) before every
    request it sends. Its own limiter from a ``rate-limit`` string would be a second budget
    beside the one the run's sessions spend (and a sliding window that allows the whole
    minute's budget in one burst), so this one waits on the run's pacer instead. It has no
    bucket of its own, hence no ``Limiter.__init__`` (which would start a leak thread).
    """

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer

    def try_acquire(
        self, name: str = "pyrate", weight: int = 1, blocking: bool = True, timeout: float = -1
    ) -> bool:
        for _ in range(weight):
            self._pacer.wait()
        return True


def load_schema(spec: Mapping[str, Any], config: SchemathesisConfig) -> Any:
    """The schemathesis schema of ``spec`` (already prepared) under ``config``."""
    try:
        schema = schemathesis.openapi.from_dict(dict(spec), config=config)
    except Exception as exc:
        raise ConfigError(f"schemathesis cannot load the spec: {exc}") from None
    # schemathesis keeps values from answers (ids, timestamps, processId) in a pool and draws
    # later requests from it. The phases above are told not to; the stateful phase has no
    # setting, so the schema offers it no pool. Otherwise a server's random or time-dependent
    # values would make two runs with one seed send different requests.
    schema.create_extra_data_source = lambda: None  # type: ignore[method-assign]
    return schema


#: The operation whose created resources the lifecycle checks follow.
CREATE_RUN = "POST_JournalRun"


def seed_stateful_creates(schema: Any, spec: Mapping[str, Any]) -> None:
    """In the stateful phase, send the spec's own create examples for part of the creates.

    A random but schema-valid create is nearly always refused by business rules the schema
    cannot express (an existing accounting period, target dates equal to its bounds), so the
    stateful phase would seldom get a run to follow its links from (retrieve, cancel, delete,
    list entries) and the lifecycle checks would have nothing to judge. Hypothesis picks, per
    positive stateful create, the drawn body or one of the documented examples; every other
    phase and every negative case is left alone.
    """
    examples = _create_examples(spec)
    if not examples:
        return
    choices = [None, *range(len(examples))]

    def flatmap_case(context: Any, case: Any) -> Any:
        operation = context.operation
        meta = case.meta
        if (
            operation is None
            or operation.definition.raw.get("operationId") != CREATE_RUN
            or meta is None
            or meta.phase.name != "stateful"
            or not meta.generation.mode.is_positive
        ):
            return st.just(case)
        return st.sampled_from(choices).map(lambda i: _with_body(case, examples, i))

    schema.hooks.register_hook_with_name(flatmap_case, "flatmap_case")


def _with_body(case: Any, examples: list[Any], index: int | None) -> Any:
    if index is not None:
        case.body = copy.deepcopy(examples[index])
    return case


def _create_examples(spec: Mapping[str, Any]) -> list[Any]:
    for path_item in spec.get("paths", {}).values():
        operation = path_item.get("post") if isinstance(path_item, dict) else None
        if not isinstance(operation, dict) or operation.get("operationId") != CREATE_RUN:
            continue
        media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        examples = media.get("examples") or {}
        values = [
            item["value"]
            for item in examples.values()
            if isinstance(item, dict) and "value" in item
        ]
        if "example" in media:
            values.append(media["example"])
        return values
    return []


def _literal(headers: Mapping[str, str]) -> dict[str, str]:
    # schemathesis expands ${NAME} in header values from the environment; escape it so a value
    # (a token, say) is sent exactly as given.
    return {name: value.replace("${", "$${") for name, value in headers.items()}
