"""The reference tenant's fixed world: accounting periods, a chart of accounts, currencies, and
the billing activity a journal run summarises. Everything is computed, never random, so the same
run always produces the same journal entries.

Accounting periods: one per month, Jan-2014 to Dec-2027 unless ``ReferenceSettings.periods`` says
otherwise, named like the documents' "Nov-2014", all Open. Billing activity exists in every period
and every day; what a run produces depends only on the transaction types it selects (amounts also
depend on the dates):

======================================================  =====================================
Transaction type                                        summary journal entries per run
======================================================  =====================================
Invoice Item                                            4 (USD Americas, USD/EUR/GBP EMEA)
Taxation Item, Electronic Payment                       3 each (USD Americas, EUR and GBP EMEA)
Revenue Event Item                                      2 (USD Americas, EUR EMEA)
the four "... Application Item" types                   0 (no activity: a run completes empty)
every other type                                        1 (USD Americas)
======================================================  =====================================

So Invoice Item + Electronic Payment + Taxation Item gives 10 entries (the cancel document's
JR-00000075 has ten), and all 29 types give 4 + 3 + 3 + 2 + 21 = 33.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

TRANSACTION_TYPES: tuple[str, ...] = (
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
)

#: Only with the accounting-period option of a journal run.
PERIOD_ONLY_TYPES = frozenset({"Revenue Event Item"})

ACCOUNTING_CODE_TYPES: tuple[str, ...] = (
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
)

HOME_CURRENCY = "USD"
#: Active currencies and their (fixed) rate to the home currency.
CURRENCIES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.10"),
    "GBP": Decimal("1.25"),
    "CAD": Decimal("0.74"),
    "AUD": Decimal("0.66"),
    "JPY": Decimal("0.0068"),
    "CHF": Decimal("1.12"),
}

SEGMENT_NAME = "Region"
SEGMENTATION_RULE_NAME = "Region Rule"


@dataclass(frozen=True)
class AccountingCode:
    name: str
    type: str
    gl_account_number: str
    gl_account_name: str


#: One accounting code of each type, keyed by type. Manual entries may name other codes too.
CHART: dict[str, AccountingCode] = {
    code.type: code
    for code in (
        AccountingCode("Accounts Receivable", "AccountsReceivable", "1200", "Receivables"),
        AccountingCode("On-Account Receivable", "On-Account Receivable", "1210", "On Account"),
        AccountingCode("Cash", "Cash", "1000", "Cash at bank"),
        AccountingCode("Undeposited Funds", "OtherAssets", "1300", "Undeposited Funds"),
        AccountingCode(
            "Customer Cash On Account", "CustomerCashOnAccount", "2300", "Customer Credit"
        ),
        AccountingCode("Deferred Revenue", "DeferredRevenue", "2500", "Deferred Revenue"),
        AccountingCode("Sales Tax Payable", "SalesTaxPayable", "2200", "Sales Tax Payable"),
        AccountingCode("Unapplied Payments", "OtherLiabilities", "2400", "Unapplied Payments"),
        AccountingCode("Sales Revenue", "SalesRevenue", "4000", "Subscription Revenue"),
        AccountingCode("Discounts", "SalesDiscounts", "4100", "Sales Discounts"),
        AccountingCode("Other Revenue", "OtherRevenue", "4900", "Other Revenue"),
        AccountingCode("Retained Earnings", "OtherEquity", "3000", "Retained Earnings"),
        AccountingCode("Bad Debt", "BadDebt", "6100", "Bad Debt Expense"),
        AccountingCode("Gateway Fees", "OtherExpenses", "6200", "Payment Gateway Fees"),
    )
}


@dataclass(frozen=True)
class AccountingPeriod:
    name: str
    start: dt.date
    end: dt.date
    status: str = "Open"


#: The first and last month of the default periods, as ``ReferenceSettings.periods`` names them.
DEFAULT_PERIODS: tuple[str, str] = ("2014-01", "2027-12")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_PERIOD_NAME = re.compile(r"([A-Z][a-z]{2})-(\d{4})")
_MONTH_NUMBERS = {calendar.month_abbr[month]: month for month in range(1, 13)}


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month); ValueError on anything else."""
    found = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        raise ValueError(f"not a month in the format YYYY-MM: {text!r}")
    return int(found[1]), int(found[2])


def _period(year: int, month: int) -> AccountingPeriod:
    last_day = calendar.monthrange(year, month)[1]
    name = f"{calendar.month_abbr[month]}-{year}"
    return AccountingPeriod(name, dt.date(year, month, 1), dt.date(year, month, last_day))


@functools.lru_cache(maxsize=32)
def monthly_periods(first: str, last: str) -> tuple[AccountingPeriod, ...]:
    """One period per month from ``first`` to ``last`` (``YYYY-MM``, both included)."""
    year, month = parse_month(first)
    end = parse_month(last)
    periods = []
    while (year, month) <= end:
        periods.append(_period(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(periods)


PERIODS: tuple[AccountingPeriod, ...] = monthly_periods(*DEFAULT_PERIODS)


def period_named(
    name: str, within: tuple[str, str] | None = DEFAULT_PERIODS
) -> AccountingPeriod | None:
    """The monthly period called ``name`` ("Nov-2014"), or None when there is none.

    ``within`` (first, last month) is the tenant's range (``ReferenceSettings.periods``); None
    accepts any month.
    """
    found = _PERIOD_NAME.fullmatch(name)
    if found is None or found[1] not in _MONTH_NUMBERS or int(found[2]) < 1:
        return None
    year, month = int(found[2]), _MONTH_NUMBERS[found[1]]
    if within is not None and not parse_month(within[0]) <= (year, month) <= parse_month(within[1]):
        return None
    return _period(year, month)


def period_containing(
    start: dt.date, end: dt.date, within: tuple[str, str] = DEFAULT_PERIODS
) -> AccountingPeriod | None:
    """The one period holding the whole range, or None when the range spans or leaves them."""
    period = period_named(_period(start.year, start.month).name, within)
    if period is not None and period.start <= start and end <= period.end:
        return period
    return None


def period_id(name: str) -> str:
    """A stable 32-hex id for a period, like the vendor's ids."""
    return hashlib.sha256(f"accounting-period|{name}".encode()).hexdigest()[:32]


# --- billing activity ----------------------------------------------------------------------------

_AMERICAS_USD = (("USD", "Americas"),)
#: Where each type has activity: (currency, region) pairs, one summary entry each.
_ACTIVITY: dict[str, tuple[tuple[str, str], ...]] = {
    "Invoice Item": (("USD", "Americas"), ("USD", "EMEA"), ("EUR", "EMEA"), ("GBP", "EMEA")),
    "Taxation Item": (("USD", "Americas"), ("EUR", "EMEA"), ("GBP", "EMEA")),
    "Electronic Payment": (("USD", "Americas"), ("EUR", "EMEA"), ("GBP", "EMEA")),
    "Revenue Event Item": (("USD", "Americas"), ("EUR", "EMEA")),
    "Electronic Payment Application Item": (),
    "External Payment Application Item": (),
    "Electronic Refund Application Item": (),
    "External Refund Application Item": (),
}

#: How each type posts: debited code types, credited code types, each with its share of the
#: amount (the shares of each side add up to 1, so every entry balances).
_Side = tuple[tuple[str, Decimal], ...]
_ALL = Decimal("1")
_POSTINGS: dict[str, tuple[_Side, _Side]] = {
    "Invoice Item": (
        (("AccountsReceivable", _ALL),),
        (("SalesRevenue", Decimal("0.8")), ("DeferredRevenue", Decimal("0.2"))),
    ),
    "Taxation Item": ((("AccountsReceivable", _ALL),), (("SalesTaxPayable", _ALL),)),
    "Invoice Item Adjustment (Invoice)": (
        (("SalesDiscounts", _ALL),),
        (("AccountsReceivable", _ALL),),
    ),
    "Invoice Item Adjustment (Tax)": (
        (("SalesTaxPayable", _ALL),),
        (("AccountsReceivable", _ALL),),
    ),
    "Invoice Adjustment": ((("BadDebt", _ALL),), (("AccountsReceivable", _ALL),)),
    "Electronic Payment": (
        (("Cash", Decimal("0.97")), ("OtherExpenses", Decimal("0.03"))),
        (("AccountsReceivable", _ALL),),
    ),
    "External Payment": ((("OtherAssets", _ALL),), (("AccountsReceivable", _ALL),)),
    "Electronic Refund": ((("AccountsReceivable", _ALL),), (("Cash", _ALL),)),
    "External Refund": ((("AccountsReceivable", _ALL),), (("OtherAssets", _ALL),)),
    "Electronic Credit Balance Payment": ((("Cash", _ALL),), (("CustomerCashOnAccount", _ALL),)),
    "External Credit Balance Payment": (
        (("OtherAssets", _ALL),),
        (("CustomerCashOnAccount", _ALL),),
    ),
    "Electronic Credit Balance Refund": ((("CustomerCashOnAccount", _ALL),), (("Cash", _ALL),)),
    "External Credit Balance Refund": (
        (("CustomerCashOnAccount", _ALL),),
        (("OtherAssets", _ALL),),
    ),
    "Credit Balance Adjustment (Applied from Credit Balance)": (
        (("CustomerCashOnAccount", _ALL),),
        (("AccountsReceivable", _ALL),),
    ),
    "Credit Balance Adjustment (Transferred to Credit Balance)": (
        (("AccountsReceivable", _ALL),),
        (("CustomerCashOnAccount", _ALL),),
    ),
    "Revenue Event Item": ((("DeferredRevenue", _ALL),), (("SalesRevenue", _ALL),)),
    "Debit Memo Item (Charge)": ((("AccountsReceivable", _ALL),), (("OtherRevenue", _ALL),)),
    "Debit Memo Item (Tax)": ((("AccountsReceivable", _ALL),), (("SalesTaxPayable", _ALL),)),
    "Credit Memo Item (Charge)": ((("SalesDiscounts", _ALL),), (("On-Account Receivable", _ALL),)),
    "Credit Memo Item (Tax)": ((("SalesTaxPayable", _ALL),), (("On-Account Receivable", _ALL),)),
    "Credit Memo Application Item": (
        (("On-Account Receivable", _ALL),),
        (("AccountsReceivable", _ALL),),
    ),
    "Electronic Payment Application": ((("Cash", _ALL),), (("OtherLiabilities", _ALL),)),
    "External Payment Application": ((("OtherAssets", _ALL),), (("OtherLiabilities", _ALL),)),
    "Electronic Refund Application": ((("OtherLiabilities", _ALL),), (("Cash", _ALL),)),
    "External Refund Application": ((("OtherLiabilities", _ALL),), (("OtherAssets", _ALL),)),
    "Electronic Payment Application Item": (
        (("OtherLiabilities", _ALL),),
        (("AccountsReceivable", _ALL),),
    ),
    "External Payment Application Item": (
        (("OtherLiabilities", _ALL),),
        (("AccountsReceivable", _ALL),),
    ),
    "Electronic Refund Application Item": (
        (("AccountsReceivable", _ALL),),
        (("OtherLiabilities", _ALL),),
    ),
    "External Refund Application Item": (
        (("AccountsReceivable", _ALL),),
        (("OtherLiabilities", _ALL),),
    ),
}

_CENT = Decimal("0.01")


def accounting_code(name: str) -> AccountingCode | None:
    return next((code for code in CHART.values() if code.name == name), None)


def entries_per_type(transaction_type: str) -> int:
    return len(_ACTIVITY.get(transaction_type, _AMERICAS_USD))


def to_home(amount: Decimal, currency: str) -> Decimal:
    return (amount * CURRENCIES.get(currency, _ALL)).quantize(_CENT)


def _amount(*parts: object) -> Decimal:
    """A stable pseudo-random amount between 100.00 and 99,999.99 for the given key."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    cents = 10_000 + int.from_bytes(digest[:8], "big") % 9_990_000
    return Decimal(cents) / 100


def _split(total: Decimal, side: _Side) -> list[tuple[str, Decimal]]:
    """Shares of ``total`` per code type; the last share takes the rounding so the side adds up."""
    parts: list[tuple[str, Decimal]] = []
    for code_type, share in side[:-1]:
        parts.append((code_type, (total * share).quantize(_CENT)))
    parts.append((side[-1][0], total - sum((amount for _, amount in parts), Decimal(0))))
    return parts


def _items(transaction_type: str, total: Decimal, currency: str) -> list[dict[str, Any]]:
    debits, credits = _POSTINGS[transaction_type]
    home_total = to_home(total, currency)
    items = []
    for item_type, side in (("Debit", debits), ("Credit", credits)):
        for (code_type, amount), (_, home) in zip(
            _split(total, side), _split(home_total, side), strict=True
        ):
            code = CHART[code_type]
            items.append(
                {
                    "accountingCodeName": code.name,
                    "accountingCodeType": code.type,
                    "amount": str(amount),
                    "homeCurrencyAmount": str(home),
                    "glAccountName": code.gl_account_name,
                    "glAccountNumber": code.gl_account_number,
                    "type": item_type,
                }
            )
    return items


def summary_entries(
    *,
    period: AccountingPeriod,
    start: dt.date,
    end: dt.date,
    journal_entry_date: dt.date,
    transaction_types: Iterable[str],
) -> list[dict[str, Any]]:
    """The summary journal entries (without numbers) a completed run over these dates produces."""
    entries = []
    for transaction_type in transaction_types:
        for currency, region in _ACTIVITY.get(transaction_type, _AMERICAS_USD):
            total = _amount(start, end, transaction_type, currency, region)
            entries.append(
                {
                    "accountingPeriodName": period.name,
                    "aggregateCurrency": False,
                    "currency": currency,
                    "homeCurrency": HOME_CURRENCY,
                    "journalEntryDate": journal_entry_date.isoformat(),
                    "journalEntryItems": _items(transaction_type, total, currency),
                    "notes": None,
                    "organizationLabel": None,
                    "segments": [{"segmentName": SEGMENT_NAME, "segmentValue": region}],
                    "status": "Created",
                    "timePeriodStart": start.isoformat(),
                    "timePeriodEnd": end.isoformat(),
                    "transactionType": transaction_type,
                    "transferDateTime": None,
                    "transferredBy": None,
                    "transferredToAccounting": "No",
                }
            )
    return entries


def expected_entry_count(transaction_types: Sequence[str]) -> int:
    """How many entries a completed run with these (distinct) types holds."""
    return sum(entries_per_type(name) for name in transaction_types)
