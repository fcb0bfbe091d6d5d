"""The passes of the fuzz stage (stateful first, then the other phases, then a small legacy
pass) and how each becomes a configured, seeded, guarded schemathesis schema."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .._envelope import error_style
from .._http import Session
from .._paths import CREATE_RUN
from . import _builtins, _spec_prep, _transport
from ._budget import CreateBudget
from ._guard import Guard
from ._options import LEGACY_VERSION, FuzzOptions, FuzzTarget

#: Phases of the legacy pass: the examples and a little random fuzzing are enough to draw the
#: errors whose status the pass is about.
LEGACY_PHASES = ("examples", "fuzzing")

#: Fraction of the remaining ``max_time_s`` the stateful pass may use (it comes first).
_STATEFUL_SHARE = 0.4
#: Fraction of ``max_time_s`` the main pass may use when a legacy pass follows.
_MAIN_SHARE = 0.85
#: On a shared tenant: fraction of the remaining time a pass over the create operation alone
#: may use (the same pass over the other operations follows).
_CREATE_SHARE = 0.3


@dataclass(frozen=True)
class Pass:
    """One schemathesis run of the stage."""

    name: str
    zuora_version: str | None
    phases: tuple[str, ...]
    max_examples: int
    #: Built-in checks turned off on top of ``_builtins.DISABLED``.
    disabled: tuple[str, ...] = ()
    #: Share of the remaining time budget this pass may use.
    share: float = 1.0
    #: schemathesis workers (more than one only on a shared tenant, after the stateful pass).
    workers: int = 1
    #: The operations the pass sends (their ids); empty: every operation of the spec.
    only: tuple[str, ...] = ()
    #: Operations the pass leaves out.
    without: tuple[str, ...] = ()

    @property
    def creates_nothing(self) -> bool:
        """Whether the pass never sends a create of a journal run, so it may run while others
        use the tenant (a shared tenant's scenarios)."""
        if self.only:
            return CREATE_RUN not in self.only
        return CREATE_RUN in self.without


def passes(target: FuzzTarget, options: FuzzOptions) -> list[Pass]:
    """The passes of the stage, in order: the stateful phase, the other phases (both with the
    target's Zuora-Version) and, unless turned off, the legacy pass.

    The stateful phase goes first, while the tenant is idle. Only one journal run executes at a
    time per tenant, so on a target whose runs take seconds (any real sandbox) a run created by
    an earlier phase would make every create of the stateful phase a refusal, and the lifecycle
    checks, which follow the runs it creates, would have nothing to judge.
    """
    # The method check sends other methods to the URL of a case that passed the guard as a read
    # (a run that may be someone else's): not against data the suite does not own.
    careful: tuple[str, ...] = ()
    if options.read_only or options.shared_tenant:
        careful = (_builtins.METHOD_CHECK,)
    if options.read_only:  # the spec it is given lists the GET operations only
        careful += ("allow_header_conformance",)
    if error_style(target.zuora_version) != "modern":
        # Errors may come as HTTP 200 (a legacy version, or the tenant's default): the built-in
        # checks that expect a 4xx refusal would call every legacy refusal an acceptance.
        careful += tuple(name for name in _builtins.DISABLED_IN_LEGACY if name not in careful)
    workers = options.workers if options.shared_tenant else 1
    main = Pass(
        "main", target.zuora_version, options.phases, options.max_examples, careful, workers=workers
    )
    found = [main]
    others = tuple(phase for phase in options.phases if phase != "stateful")
    if others != options.phases and others and not options.read_only:
        stateful = dataclasses.replace(
            main, name="stateful", phases=("stateful",), share=_STATEFUL_SHARE, workers=1
        )
        found = [stateful, dataclasses.replace(main, phases=others)]
    if options.legacy_examples:
        legacy_phases = tuple(p for p in LEGACY_PHASES if p in options.phases) or LEGACY_PHASES
        found[-1] = dataclasses.replace(found[-1], share=_MAIN_SHARE)
        found.append(
            Pass(
                "legacy",
                LEGACY_VERSION,
                legacy_phases,
                options.legacy_examples,
                disabled=tuple(_builtins.DISABLED_IN_LEGACY),
                workers=workers,
            )
        )
    if not options.shared_tenant:
        return found
    if options.read_only:  # no create at all
        return [dataclasses.replace(p, without=(CREATE_RUN,)) for p in found]
    # On a shared tenant the passes after the stateful one are split: the create operation's
    # part first, while the stage still has the tenant alone, then every other operation's,
    # which creates no run and may go on while the scenarios use the tenant.
    first = [p for p in found if "stateful" in p.phases]
    later = [p for p in found if "stateful" not in p.phases]
    creating = [
        dataclasses.replace(p, name=f"{p.name}-create", only=(CREATE_RUN,), share=_CREATE_SHARE)
        for p in later
    ]
    rest = [dataclasses.replace(p, without=(CREATE_RUN,)) for p in later]
    return [*first, *creating, *(part for p in rest for part in _by_phase(p))]


def _by_phase(run: Pass) -> list[Pass]:
    """``run`` as two passes that may go side by side: the fuzzing phase, and the others (one
    operation's cases are sent one after another, so each half's slowest operation waits for
    only its own)."""
    if "fuzzing" not in run.phases or len(run.phases) == 1:
        return [run]
    others = tuple(phase for phase in run.phases if phase != "fuzzing")
    return [
        dataclasses.replace(run, phases=others),
        dataclasses.replace(run, name=f"{run.name}-fuzzing", phases=("fuzzing",)),
    ]


def load_pass(
    spec: dict[str, Any],
    target: FuzzTarget,
    options: FuzzOptions,
    run: Pass,
    guard: Guard,
    *,
    max_time_s: float | None = None,
    session: Session | None = None,
    budget: CreateBudget | None = None,
) -> Any:
    """The schemathesis schema of one pass, configured, seeded and guarded, ready to execute.

    With ``session``, schemathesis sends through it (:mod:`._transport`); without, through its
    own ``requests`` client with the target's bearer token in a header (the benchmark's plain
    run)."""
    if options.read_only:
        spec = _spec_prep.reads_only(spec)
    if run.only or run.without:
        spec = _spec_prep.some_operations(spec, only=run.only, without=run.without)
    config = _spec_prep.build_config(
        spec,
        target,
        options,
        zuora_version=run.zuora_version,
        phases=run.phases,
        max_examples=run.max_examples,
        max_time_s=max_time_s,
        disabled=run.disabled,
        auth_header=session is None,
        workers=run.workers,
    )
    schema = _spec_prep.load_schema(spec, config)
    if session is not None:
        _transport.install(schema, session)
    _spec_prep.seed_stateful_creates(schema, spec)
    guard.install(schema)
    if budget is not None:
        budget.install(schema, withhold="stateful" not in run.phases)
    return schema
