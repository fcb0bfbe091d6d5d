"""The OpenAPI contract: valid, complete, spelled as the vendor spells it, usable by schemathesis.

The expected lists below are copied from the vendor's API reference on purpose: the test must not
read the spec to learn what the spec should say.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from hypothesis.stateful import RuleBasedStateMachine
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import _resources

SPEC_URI = "urn:journal-runs-spec"

OPERATIONS = {
    ("POST_JournalRun", "post", "/v1/journal-runs"),
    ("GET_JournalRun", "get", "/v1/journal-runs/{jr-number}"),
    ("PUT_JournalRun", "put", "/v1/journal-runs/{jr-number}/cancel"),
    ("DELETE_JournalRun", "delete", "/v1/journal-runs/{jr-number}"),
    ("POST_SummaryJournalEntry", "post", "/v1/journal-entries"),
    ("GET_SummaryJournalEntry", "get", "/v1/journal-entries/{je-number}"),
    ("GET_AllSummaryJournalEntries", "get", "/v1/journal-entries/journal-runs/{jr-number}"),
    ("PUT_BasicSummaryJournalEntry", "put", "/v1/journal-entries/{je-number}/basic-information"),
    ("PUT_SummaryJournalEntry", "put", "/v1/journal-entries/{je-number}/cancel"),
    ("DELETE_SummaryJournalEntry", "delete", "/v1/journal-entries/{je-number}"),
}

TRANSACTION_TYPES = [
    "Invoice Item",
    "Taxation Item",
    "Invoice Item Adjustment (Invoice)",
    "Invoice Item Adjustment (Tax)",
    "Invoice Adjustment",
    "Electronic Payment",
    "External Payment",
    "Electronic Refund",
    "External Refund",
    "Electronic Credit Balance Payment",
    "External Credit Balance Payment",
    "Electronic Credit Balance Refund",
    "External Credit Balance Refund",
    "Credit Balance Adjustment (Applied from Credit Balance)",
    "Credit Balance Adjustment (Transferred to Credit Balance)",
    "Revenue Event Item",
    "Debit Memo Item (Charge)",
    "Debit Memo Item (Tax)",
    "Credit Memo Item (Charge)",
    "Credit Memo Item (Tax)",
    "Credit Memo Application Item",
    "Electronic Payment Application",
    "External Payment Application",
    "Electronic Refund Application",
    "External Refund Application",
    "Electronic Payment Application Item",
    "External Payment Application Item",
    "Electronic Refund Application Item",
    "External Refund Application Item",
]
RUN_STATUSES = [
    "Pending",
    "Processing",
    "Completed",
    "Error",
    "CancelInprogress",
    "Cancelled",
    "DeleteInprogress",
]
ENTRY_STATUSES = ["Created", "Cancelled"]
TRANSFERRED_TO_ACCOUNTING = ["No", "Processing", "Yes", "Error", "Ignore"]
ITEM_TYPES = ["Credit", "Debit"]
ACCOUNTING_CODE_TYPES = [
    "AccountsReceivable",
    "On-Account Receivable",
    "Cash",
    "OtherAssets",
    "CustomerCashOnAccount",
    "DeferredRevenue",
    "SalesTaxPayable",
    "OtherLiabilities",
    "SalesRevenue",
    "SalesDiscounts",
    "OtherRevenue",
    "OtherEquity",
    "BadDebt",
    "OtherExpenses",
]

ERROR_STATUSES_4XX = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "429"]
ERROR_STATUSES_5XX = ["500", "502", "503", "504"]

LEGACY_ERROR = {
    "success": False,
    "processId": "3F7EA3FD706C7E7C",
    "reasons": [{"code": "53100020", "message": "The accounting period is closed."}],
}

BODY_OPERATIONS = {"POST_JournalRun", "POST_SummaryJournalEntry", "PUT_BasicSummaryJournalEntry"}
POST_OPERATIONS = {"POST_JournalRun", "POST_SummaryJournalEntry"}
COMMON_RESPONSE_OPERATIONS = {
    "PUT_JournalRun",
    "DELETE_JournalRun",
    "PUT_BasicSummaryJournalEntry",
    "PUT_SummaryJournalEntry",
    "DELETE_SummaryJournalEntry",
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with _resources.spec_path().open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@pytest.fixture(scope="module")
def registry(spec: dict[str, Any]) -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(*tokens: str) -> str:
    return "/" + "/".join(_escape(token) for token in tokens)


def _validator(registry: Registry[Any], pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` in the spec, its ``$ref``s resolved in the spec."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _component(registry: Registry[Any], name: str) -> Draft202012Validator:
    return _validator(registry, _pointer("components", "schemas", name))


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                yield path, method, operation


def _by_id(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, method, operation in _operations(spec):
        if operation["operationId"] == operation_id:
            return path, method, operation
    raise AssertionError(f"no operation {operation_id}")


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _parameter_names(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    params = (_deref(spec, p) for p in operation.get("parameters", []))
    return {p["name"]: p for p in params}


def _examples(node: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every example in the spec: (pointer of its schema, pointer of the example, value).

    Media types, parameters and headers carry ``example`` / ``examples`` next to ``schema``;
    schemas carry an ``examples`` array.
    """
    if isinstance(node, dict):
        if "schema" in node and isinstance(node["schema"], dict):
            schema_pointer = f"{pointer}/schema"
            if "example" in node:
                yield schema_pointer, f"{pointer}/example", node["example"]
            for name, example in node.get("examples", {}).items():
                if "value" in example:
                    yield schema_pointer, f"{pointer}/examples/{_escape(name)}", example["value"]
        is_schema = any(key in node for key in ("type", "$ref", "oneOf", "anyOf", "allOf"))
        if is_schema and isinstance(node.get("examples"), list):
            for index, value in enumerate(node["examples"]):
                yield pointer, f"{pointer}/examples/{index}", value
        for key, value in node.items():
            yield from _examples(value, f"{pointer}/{_escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{pointer}/{index}")


def _success_schema_pointer(spec: dict[str, Any], operation_id: str) -> str:
    path, method, _ = _by_id(spec, operation_id)
    return _pointer(
        "paths", path, method, "responses", "200", "content", "application/json", "schema"
    )


def _messages(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(instance)]


# --- the document --------------------------------------------------------------------------------


def test_spec_is_a_valid_openapi_3_1_document(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_info_names_its_sources_and_the_catalogue(spec: dict[str, Any]) -> None:
    description = spec["info"]["description"]
    assert "spec/requirements.yaml" in description
    assert "vendor" in description


def test_servers_start_relative_and_show_vendor_hosts(spec: dict[str, Any]) -> None:
    servers = spec["servers"]
    assert servers[0]["url"] == "/"
    hosts = {
        host for s in servers[1:] for host in s.get("variables", {}).get("host", {}).get("enum", [])
    }
    assert {"rest.apisandbox.zuora.com", "rest.zuora.com"} <= hosts


def test_bearer_security_is_global_and_oauth_is_not_an_operation(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "/oauth/token" in scheme["description"]
    assert spec["security"] == [{"bearerAuth": []}]
    assert not any("oauth" in path for path in spec["paths"])


def test_exactly_the_ten_vendor_operations(spec: dict[str, Any]) -> None:
    found = [(op["operationId"], method, path) for path, method, op in _operations(spec)]
    assert len(found) == 10
    assert set(found) == OPERATIONS


# --- enumerations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TransactionTypeName", TRANSACTION_TYPES),
        ("JournalRunStatus", RUN_STATUSES),
        ("JournalEntryStatus", ENTRY_STATUSES),
        ("TransferredToAccounting", TRANSFERRED_TO_ACCOUNTING),
        ("JournalEntryItemType", ITEM_TYPES),
        ("AccountingCodeType", ACCOUNTING_CODE_TYPES),
    ],
)
def test_enumerations_are_spelled_and_ordered_as_the_vendor_does(
    spec: dict[str, Any], name: str, expected: list[str]
) -> None:
    assert spec["components"]["schemas"][name]["enum"] == expected


def test_the_enumerations_are_the_ones_the_bodies_use(registry: Registry[Any]) -> None:
    run = {"journalEntryDate": "2014-11-04", "accountingPeriodName": "Nov-2014"}
    post_run = _component(registry, "POSTJournalRunType")
    for name in TRANSACTION_TYPES:
        assert post_run.is_valid({**run, "transactionTypes": [{"type": name}]}), name
    assert not post_run.is_valid({**run, "transactionTypes": [{"type": "Invoice item"}]})

    get_run = _component(registry, "GETJournalRunType")
    base = {
        "number": "JR-00000075",
        "journalEntryDate": "2014-11-04",
        "transactionTypes": [{"type": "Invoice Item"}],
        "success": True,
    }
    for status in RUN_STATUSES:
        assert get_run.is_valid({**base, "status": status}), status
    for wrong in ("CancelInProgress", "Canceled", "completed"):
        assert not get_run.is_valid({**base, "status": wrong}), wrong

    item = _component(registry, "GETJournalEntryItemType")
    for code_type in ACCOUNTING_CODE_TYPES:
        assert item.is_valid({"amount": 1, "type": "Debit", "accountingCodeType": code_type})
    assert not item.is_valid({"amount": 1, "type": "debit"})


# --- examples ------------------------------------------------------------------------------------


def test_every_example_validates_against_its_schema(
    spec: dict[str, Any], registry: Registry[Any]
) -> None:
    examples = list(_examples(spec))
    assert len(examples) > 60  # the spec is meant to be richly exampled
    problems = []
    for schema_pointer, example_pointer, value in examples:
        for message in _messages(_validator(registry, schema_pointer), value):
            problems.append(f"{example_pointer}: {message}")
    assert problems == []


def test_every_operation_has_request_and_response_examples(spec: dict[str, Any]) -> None:
    for _path, _method, operation in _operations(spec):
        name = operation["operationId"]
        if "requestBody" in operation:
            assert operation["requestBody"]["content"]["application/json"]["examples"], name
        media = operation["responses"]["200"]["content"]["application/json"]
        values = [example["value"] for example in media["examples"].values()]
        assert any(v.get("success") is True for v in values), name
        assert any(v.get("success") is False for v in values), name


def test_every_error_response_has_an_example(spec: dict[str, Any]) -> None:
    for name, response in spec["components"]["responses"].items():
        assert response["content"]["application/json"]["examples"], name


def test_examples_use_the_documents_values(spec: dict[str, Any]) -> None:
    text = yaml.safe_dump(spec)
    for value in ("Nov-2014", "2014-11-04", "JR-00000008", "JR-00000075", "53100020"):
        assert value in text, value
    _, _, get_run = _by_id(spec, "GET_JournalRun")
    completed = get_run["responses"]["200"]["content"]["application/json"]["examples"]["completed"]
    assert completed["value"]["status"] == "Completed"
    assert completed["value"]["totalJournalEntryCount"] == 10


# --- envelopes and status codes ------------------------------------------------------------------


@pytest.mark.parametrize("operation_id", sorted(op for op, _, _ in OPERATIONS))
def test_a_200_answer_is_the_success_body_or_the_legacy_error(
    spec: dict[str, Any], registry: Registry[Any], operation_id: str
) -> None:
    validator = _validator(registry, _success_schema_pointer(spec, operation_id))
    error = _component(registry, "ErrorResponse")
    assert _messages(validator, LEGACY_ERROR) == []
    assert not validator.is_valid({"success": False})  # an error names its reasons
    assert not validator.is_valid({"success": False, "reasons": []})
    assert not validator.is_valid({"reasons": LEGACY_ERROR["reasons"]})  # success is always there
    # A bare success is the whole answer only where the vendor answers CommonResponse.
    assert validator.is_valid({"success": True}) is (operation_id in COMMON_RESPONSE_OPERATIONS)
    _, _, operation = _by_id(spec, operation_id)
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
    successes = [e["value"] for e in examples.values() if e["value"].get("success") is True]
    assert successes
    for body in successes:
        assert validator.is_valid(body)
        assert not error.is_valid(body)


def test_a_success_body_is_not_an_error(registry: Registry[Any]) -> None:
    error = _component(registry, "ErrorResponse")
    assert not error.is_valid({"success": True})
    assert not error.is_valid({"journalRunNumber": "JR-00000008", "success": True})
    assert error.is_valid(LEGACY_ERROR)


@pytest.mark.parametrize("operation_id", sorted(op for op, _, _ in OPERATIONS))
def test_every_operation_declares_the_error_statuses(
    spec: dict[str, Any], operation_id: str
) -> None:
    _, _, operation = _by_id(spec, operation_id)
    responses = operation["responses"]
    assert set(ERROR_STATUSES_4XX + ERROR_STATUSES_5XX + ["200"]) <= set(responses)
    envelope = {"$ref": "#/components/schemas/ErrorResponse"}
    for status in ERROR_STATUSES_4XX:
        schema = _deref(spec, responses[status])["content"]["application/json"]["schema"]
        if status == "401":  # a gateway's 401 may have any body (JR-AUTH-002): envelope if reasons
            assert schema["if"] == {"type": "object", "required": ["reasons"]}
            assert schema["then"] == envelope
        else:
            assert schema == envelope, status
    for status in ERROR_STATUSES_5XX:
        schema = _deref(spec, responses[status])["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ServerErrorResponse"}, status


def test_429_carries_retry_after(spec: dict[str, Any]) -> None:
    headers = spec["components"]["responses"]["TooManyRequests"]["headers"]
    retry_after = _deref(spec, headers["Retry-After"])
    assert retry_after["required"] is True


def test_error_codes_are_eight_digits_as_string_or_integer(registry: Registry[Any]) -> None:
    error = _component(registry, "ErrorResponse")

    def body(code: Any) -> dict[str, Any]:
        return {"success": False, "reasons": [{"code": code, "message": "m"}]}

    assert error.is_valid(body("53100020"))
    assert error.is_valid(body(53100020))
    for wrong in ("5310002", "531000200", "SystemError", 5310002, 100000000, 53100020.5):
        assert not error.is_valid(body(wrong)), wrong


def test_a_5xx_body_may_carry_only_reasons_with_a_textual_code(registry: Registry[Any]) -> None:
    server = _component(registry, "ServerErrorResponse")
    assert server.is_valid({"reasons": [{"code": "SystemError", "message": "boom"}]})
    assert server.is_valid({"success": False, "reasons": [{"code": 50000060}]})
    assert not server.is_valid({"success": False})
    assert not server.is_valid({"success": True, "reasons": [{"code": "SystemError"}]})


# --- the vendor's inconsistencies, each reading accepted ------------------------------------------


def test_amount_is_a_decimal_string_or_a_number(registry: Registry[Any]) -> None:
    amount = _component(registry, "DecimalAmount")
    for ok in ("10.00", "-3", 10, 10.5):
        assert amount.is_valid(ok), ok
    for wrong in ("ten", "1e3", "", None, True):
        assert not amount.is_valid(wrong), wrong


def test_executed_on_takes_both_timestamp_forms(registry: Registry[Any]) -> None:
    executed = _validator(
        registry, _pointer("components", "schemas", "GETJournalRunType", "properties", "executedOn")
    )
    for ok in ("2014-11-15 22:05:12", "2014-11-15T22:05:12Z", "2014-11-15T22:05:12.5-08:00", None):
        assert executed.is_valid(ok), ok
    for wrong in ("2014-11-15", "2014-11-15T22:05:12", "15/11/2014 22:05", "2014-11-15 22:05"):
        assert not executed.is_valid(wrong), wrong


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ("GETJournalEntryDetailTypeWithoutSuccess", "notes"),
        ("GETJournalEntryDetailTypeWithoutSuccess", "transferDateTime"),
        ("GETJournalEntryDetailTypeWithoutSuccess", "transferredBy"),
        ("GETJournalEntryDetailTypeWithoutSuccess", "transferredToAccounting"),
        ("GETJournalEntryItemType", "glAccountName"),
        ("GETJournalEntryItemType", "glAccountNumber"),
    ],
)
def test_fields_the_vendor_shows_null_accept_null(
    registry: Registry[Any], schema: str, field: str
) -> None:
    validator = _validator(registry, _pointer("components", "schemas", schema, "properties", field))
    assert validator.is_valid(None)
    assert not validator.is_valid(12)


def test_organization_labels_accept_object_and_array(registry: Registry[Any]) -> None:
    post_run = _component(registry, "POSTJournalRunType")
    base = {
        "accountingPeriodName": "Nov-2014",
        "journalEntryDate": "2014-11-04",
        "transactionTypes": [{"type": "Invoice Item"}],
    }
    label = {"organizationId": "org-1", "organizationName": "Acme US"}
    assert post_run.is_valid({**base, "organizationLabels": label})
    assert post_run.is_valid({**base, "organizationLabels": [label]})
    assert not post_run.is_valid({**base, "organizationLabels": "Acme US"})


def test_responses_allow_custom_fields(registry: Registry[Any]) -> None:
    entry = _component(registry, "GETJournalEntryDetailType")
    body = {
        "number": "JE-00000001",
        "status": "Created",
        "currency": "USD",
        "journalEntryDate": "2014-11-04",
        "transactionType": "Invoice Item",
        "journalEntryItems": [{"amount": 10, "type": "Debit", "Region__c": "West"}],
        "success": True,
        "Project__c": "P-1",
    }
    assert entry.is_valid(body)


# --- request bodies ------------------------------------------------------------------------------


def test_create_run_requires_date_types_and_a_period_or_range(registry: Registry[Any]) -> None:
    post_run = _component(registry, "POSTJournalRunType")
    types = [{"type": "Invoice Item"}]
    assert post_run.is_valid(
        {
            "accountingPeriodName": "Nov-2014",
            "journalEntryDate": "2014-11-04",
            "transactionTypes": types,
        }
    )
    assert post_run.is_valid(
        {
            "journalEntryDate": "2014-11-04",
            "targetStartDate": "2014-11-01",
            "targetEndDate": "2014-11-30",
            "transactionTypes": types,
        }
    )
    invalid = [
        {"accountingPeriodName": "Nov-2014", "transactionTypes": types},
        {"accountingPeriodName": "Nov-2014", "journalEntryDate": "2014-11-04"},
        {
            "accountingPeriodName": "Nov-2014",
            "journalEntryDate": "2014-11-04",
            "transactionTypes": [],
        },
        {"journalEntryDate": "2014-11-04", "transactionTypes": types},
        {
            "journalEntryDate": "2014-11-04",
            "targetEndDate": "2014-11-30",
            "transactionTypes": types,
        },
        {
            "accountingPeriodName": "Nov-2014",
            "journalEntryDate": "04/11/2014",
            "transactionTypes": types,
        },
        {
            "accountingPeriodName": "x" * 101,
            "journalEntryDate": "2014-11-04",
            "transactionTypes": types,
        },
    ]
    for body in invalid:
        assert not post_run.is_valid(body), body


def test_request_bodies_say_unknown_fields_are_ignored(spec: dict[str, Any]) -> None:
    for name in ("POSTJournalRunType", "POSTJournalEntryType", "PUTBasicSummaryJournalEntryType"):
        schema = spec["components"]["schemas"][name]
        assert "Unknown fields are ignored" in schema["description"], name
        assert schema.get("additionalProperties", True) is not False, name


def test_basic_information_update_requires_nothing(registry: Registry[Any]) -> None:
    update = _component(registry, "PUTBasicSummaryJournalEntryType")
    assert update.is_valid({})
    assert not update.is_valid({"transferredToAccounting": "yes"})
    assert not update.is_valid({"notes": "n" * 2001})


# --- numbers, parameters and headers -------------------------------------------------------------


def test_run_and_entry_numbers_have_patterns_in_paths_and_bodies(
    spec: dict[str, Any], registry: Registry[Any]
) -> None:
    for path, _method, operation in _operations(spec):
        params = _parameter_names(spec, operation)
        for name, pattern in (("jr-number", r"^JR-\d{8}$"), ("je-number", r"^JE-\d{8}$")):
            if "{" + name + "}" in path:
                assert params[name]["in"] == "path"
                assert params[name]["schema"]["pattern"] == pattern, (path, name)
    created = _component(registry, "POSTJournalRunResponseType")
    assert created.is_valid({"journalRunNumber": "JR-00000008", "success": True})
    for wrong in ("JR-8", "JR-000000080", "jr-00000008", "JE-00000008"):
        assert not created.is_valid({"journalRunNumber": wrong, "success": True}), wrong
    entry = _component(registry, "POSTJournalEntryResponseType")
    assert entry.is_valid({"journalEntryNumber": "JE-00000001", "success": True})
    assert not entry.is_valid({"journalEntryNumber": "JR-00000001", "success": True})


def test_entry_list_paging_parameters(spec: dict[str, Any]) -> None:
    _, _, operation = _by_id(spec, "GET_AllSummaryJournalEntries")
    params = _parameter_names(spec, operation)
    assert params["page"]["in"] == "query"
    assert params["page"]["schema"] == {"type": "integer", "minimum": 1, "default": 1}
    assert params["pageSize"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 300,
        "default": 8,
    }
    page = spec["components"]["schemas"]["GETJournalEntriesInJournalRunType"]
    assert "nextPage" in page["properties"]
    assert "nextPage" not in page["required"]


@pytest.mark.parametrize(("operation_id", "method", "path"), sorted(OPERATIONS))
def test_documented_request_headers(
    spec: dict[str, Any], operation_id: str, method: str, path: str
) -> None:
    _, _, operation = _by_id(spec, operation_id)
    params = _parameter_names(spec, operation)
    for name in (
        "Zuora-Track-Id",
        "Zuora-Entity-Ids",
        "Zuora-Org-Ids",
        "Zuora-Version",
        "Accept-Encoding",
    ):
        assert params[name]["in"] == "header", name
        assert params[name].get("required", False) is False, name
    assert ("Idempotency-Key" in params) is (operation_id in POST_OPERATIONS)
    assert ("Content-Encoding" in params) is (operation_id in BODY_OPERATIONS)
    assert ("requestBody" in operation) is (operation_id in BODY_OPERATIONS)
    assert "Authorization" not in params  # the security scheme carries it


def test_header_constraints(spec: dict[str, Any], registry: Registry[Any]) -> None:
    parameters = spec["components"]["parameters"]
    assert parameters["IdempotencyKey"]["schema"]["maxLength"] == 255
    track = _validator(registry, _pointer("components", "parameters", "ZuoraTrackId", "schema"))
    assert track.is_valid("run-42 / step=3 (retry) <x> ~!")
    for wrong in ("a:b", "a;b", 'a"b', "a'b", "é", "x" * 65, "tab\there", " x", "x ", ""):
        assert not track.is_valid(wrong), wrong
    assert track.is_valid("x" * 64)
    headers = spec["components"]["headers"]
    assert headers["Zuora-Request-Id"]["schema"]["minLength"] == 36
    assert headers["Zuora-Request-Id"]["schema"]["maxLength"] == 36
    for name in ("Zuora-Track-Id", "Content-Encoding", "RateLimit-Limit", "RateLimit-Remaining"):
        assert name in headers
    assert "RateLimit-Reset" in headers
    retry = _validator(registry, _pointer("components", "headers", "Retry-After", "schema"))
    assert retry.is_valid("60")
    assert retry.is_valid("Wed, 21 Oct 2015 07:28:00 GMT")
    assert not retry.is_valid("soon")


# --- links and schemathesis ----------------------------------------------------------------------


def test_create_links_to_the_run_operations_and_the_entry_list(spec: dict[str, Any]) -> None:
    _, _, operation = _by_id(spec, "POST_JournalRun")
    links = operation["responses"]["200"]["links"]
    targets = {link["operationId"]: link["parameters"] for link in links.values()}
    for target in (
        "GET_JournalRun",
        "PUT_JournalRun",
        "DELETE_JournalRun",
        "GET_AllSummaryJournalEntries",
    ):
        assert targets[target] == {"jr-number": "$response.body#/journalRunNumber"}, target


def test_entry_operations_are_reachable_by_links(spec: dict[str, Any]) -> None:
    entry_ops = {
        "GET_SummaryJournalEntry",
        "PUT_BasicSummaryJournalEntry",
        "PUT_SummaryJournalEntry",
    }
    entry_ops.add("DELETE_SummaryJournalEntry")
    for source, expression in (
        ("POST_SummaryJournalEntry", "$response.body#/journalEntryNumber"),
        ("GET_AllSummaryJournalEntries", "$response.body#/journalEntries/0/number"),
    ):
        _, _, operation = _by_id(spec, source)
        links = operation["responses"]["200"]["links"].values()
        targets = {link["operationId"] for link in links}
        assert entry_ops - {"GET_SummaryJournalEntry"} <= targets, source
        for link in links:
            assert link["parameters"] == {"je-number": expression}, source


def test_every_link_targets_a_known_operation(spec: dict[str, Any]) -> None:
    ids = {op for op, _, _ in OPERATIONS}
    count = 0
    for _path, _method, operation in _operations(spec):
        for link in operation["responses"]["200"].get("links", {}).values():
            assert link["operationId"] in ids
            count += 1
    assert count >= 20


def test_schemathesis_loads_the_spec_and_builds_its_state_machine() -> None:
    import schemathesis
    from schemathesis.core.result import Ok

    schema = schemathesis.openapi.from_path(str(_resources.spec_path()))
    results = list(schema.get_all_operations())
    errors = [result.err() for result in results if not isinstance(result, Ok)]
    assert errors == []
    assert len(results) == 10
    machine = schema.as_state_machine()
    assert issubclass(machine, RuleBasedStateMachine)
    rules = [name for name in dir(machine) if name.startswith("POST_v1_journal_runs___200_")]
    # One transition per link out of the create response: get, cancel, delete and the entry list.
    assert len(rules) == 4, rules


def test_schemathesis_reads_the_legacy_and_5xx_envelopes_as_the_spec_means() -> None:
    import schemathesis

    schema = schemathesis.openapi.from_path(str(_resources.spec_path()))
    operation = schema.find_operation_by_id("GET_JournalRun")
    request = httpx.Request("GET", "http://127.0.0.1/v1/journal-runs/JR-00000008")

    def answer(status: int, body: dict[str, Any]) -> httpx.Response:
        response = httpx.Response(status, json=body, request=request)
        response.elapsed = datetime.timedelta(0)  # schemathesis reads it; set when a real call ends
        return response

    run = {
        "number": "JR-00000008",
        "status": "Pending",
        "journalEntryDate": "2014-11-04",
        "transactionTypes": [{"type": "Invoice Item"}],
        "executedOn": "2014-11-15 22:05:12",
        "success": True,
    }
    system_error = {"reasons": [{"code": "SystemError", "message": "boom"}]}
    assert operation.is_valid_response(answer(200, run))
    assert operation.is_valid_response(answer(200, LEGACY_ERROR))
    assert operation.is_valid_response(answer(404, LEGACY_ERROR))
    assert operation.is_valid_response(answer(500, system_error))
    assert not operation.is_valid_response(answer(200, {"success": True}))
    assert not operation.is_valid_response(answer(200, {**run, "status": "Canceled"}))
    assert not operation.is_valid_response(answer(404, system_error))
