"""The reference against the OpenAPI contract, fuzzed by schemathesis 4: no 5xx, and every answer
(status, headers, content type, body) conforms to spec/journal-runs.openapi.yaml.

Kept small (a few examples per operation) so it runs in well under a minute; the suite's fuzz
stage does the thorough version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from reference_support import MODERN, fetch_token

from conformance import _resources
from conformance.reference import ReferenceServer, ReferenceSettings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.config import SchemathesisConfig  # noqa: E402

#: Off, as in the suite's fuzz stage: a schema-valid create is refused by business rules the
#: schema cannot say (an existing period, its dates, one run at a time), so "positive data
#: acceptance" would read every such refusal as a failure.
_OFF = ("positive_data_acceptance", "ensure_resource_availability", "use_after_free")

_CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20140104,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": 12, "database": "none"},
        "checks": {name: {"enabled": False} for name in _OFF},
    }
)
schema = schemathesis.openapi.from_path(str(_resources.spec_path()), config=_CONFIG)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[str, dict[str, str]]]:
    """A reference of its own (the fuzzer's creates would block other tests' tenants)."""
    with ReferenceServer(ReferenceSettings(rate_limit=1_000_000)) as server:
        token = fetch_token(server.url, "schemathesis")
        yield server.url, {**MODERN, "Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_reference_conforms_to_the_contract(
    case: Any, fuzzed: tuple[str, dict[str, str]]
) -> None:
    url, headers = fuzzed
    response = case.call_and_validate(base_url=url, headers=headers)
    assert response.status_code < 500
