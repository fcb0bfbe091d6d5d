"""The fault and variant tables agree with the catalogue (checked before anything runs)."""

from __future__ import annotations

from .._catalogue import Catalogue
from .._exceptions import CatalogueError


def check_fault_table(catalogue: Catalogue) -> None:
    """Every fault declares at least one requirement, and only ones the catalogue has."""
    from ..reference import FAULTS

    problems = []
    for fault in FAULTS.values():
        unknown = [r for r in fault.breaks if r not in catalogue.requirements]
        if not fault.breaks:
            problems.append(f"fault {fault.name} declares no requirement")
        elif unknown:
            problems.append(f"fault {fault.name} declares unknown requirements {unknown}")
    if problems:
        raise CatalogueError("; ".join(problems))


def check_variant_table(catalogue: Catalogue) -> None:
    """The variants and the catalogue agree: a variant's readings are requirements with a
    decision, each of which names the variant back, and every variant a requirement names exists
    and declares it. A variant without readings gives the HTTP ``basis`` that allows it."""
    from ..reference import VARIANTS

    problems = []
    for variant in VARIANTS.values():
        if not variant.readings and not variant.basis:
            problems.append(f"variant {variant.name} declares no reading and no basis")
        for rid in variant.readings:
            requirement = catalogue.requirements.get(rid)
            if requirement is None:
                problems.append(f"variant {variant.name} declares unknown requirement {rid}")
            elif not requirement.decision:
                problems.append(f"variant {variant.name} reads {rid}, which has no decision")
            elif variant.name not in requirement.variants:
                problems.append(f"variant {variant.name} reads {rid}, which does not name it")
    for requirement in catalogue.requirements.values():
        for name in requirement.variants:
            if name not in VARIANTS:
                problems.append(f"{requirement.id} names unknown variant {name}")
            elif requirement.id not in VARIANTS[name].readings:
                problems.append(f"{requirement.id} names variant {name}, which does not declare it")
        named = requirement.variants or requirement.variants_reason
        if requirement.decision and requirement.testable and not named:
            problems.append(f"{requirement.id} has a decision but names no variant")
    if problems:
        raise CatalogueError("; ".join(problems))
