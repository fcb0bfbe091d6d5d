"""Reading the envelope (conformance._envelope): one set of rules for every module."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import _envelope as envelope


def refusal(*codes: Any) -> dict[str, Any]:
    return {"success": False, "reasons": [{"code": code, "message": "m"} for code in codes]}


@pytest.mark.parametrize(
    ("status", "body", "accepted", "succeeded", "refused"),
    [
        (200, {"success": True}, True, True, False),
        (200, {}, True, False, False),
        (204, None, True, False, False),
        (200, refusal("50000040"), False, False, True),  # the legacy style
        (404, refusal("50000040"), False, False, True),
        (500, None, False, False, True),
        (None, None, False, False, False),  # no answer
    ],
)
def test_accepted_succeeded_refused(
    status: int | None, body: Any, accepted: bool, succeeded: bool, refused: bool
) -> None:
    assert envelope.is_accepted(status, body) is accepted
    assert envelope.is_succeeded(status, body) is succeeded
    assert envelope.is_refused(status, body) is refused


def test_codes_and_categories() -> None:
    body = refusal("50000040", 50000030, "5000020", "SystemError", True)
    assert envelope.codes(body) == ["50000040", 50000030, "5000020", "SystemError", True]
    # Read from the last two digits, whatever the length: length and category are judged apart.
    assert envelope.categories(body) == [40, 30, 20]
    assert envelope.first_reason(body) == ("50000040", "m")
    assert envelope.first_reason({"success": False}) is None
    assert envelope.has_reasons(body) and not envelope.has_reasons({"reasons": []})
    assert envelope.parse_code(50000040) == (500000, 40)
    assert envelope.parse_code("5000040") is None


def test_not_found_and_auth_refusals() -> None:
    assert envelope.is_not_found(404, None)
    assert envelope.is_not_found(200, refusal("50000040"))
    assert not envelope.is_not_found(200, {"success": True})
    assert envelope.is_auth_refusal(401, None)
    assert envelope.is_auth_refusal(200, refusal(50000011))
    assert not envelope.is_auth_refusal(200, refusal("5000011"))
    assert not envelope.is_auth_refusal(400, refusal("50000011"))
