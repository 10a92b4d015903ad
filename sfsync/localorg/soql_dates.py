"""Date and datetime keys for SOQL comparisons, and relative date literal ranges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "RELATIVE_LITERALS",
    "date_key",
    "datetime_key",
    "datetime_literal_key",
    "day_bounds_as_datetime",
    "relative_range",
]

# Datetimes are compared as "YYYY-MM-DDTHH:MM:SS.mmm" strings in UTC: the
# fixed width makes string order equal time order, and the stored wire form
# ("...mmm+0000") already starts with that key, so most rows need a slice only.
_WIRE_UTC_LENGTH = 28

_Period = tuple[Callable[[date], date], Callable[[date, int], date]]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _week_start(day: date) -> date:
    # Weeks start on Sunday, as in an org with the default en_US locale.
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _year_start(day: date) -> date:
    return date(day.year, 1, 1)


_PERIODS: dict[str, _Period] = {
    "WEEK": (_week_start, lambda start, n: start + timedelta(weeks=n)),
    "MONTH": (_month_start, _add_months),
    "QUARTER": (_quarter_start, lambda start, n: _add_months(start, 3 * n)),
    "YEAR": (_year_start, lambda start, n: _add_months(start, 12 * n)),
}
# The local org has no fiscal year setup; like a new org, its fiscal year is
# the calendar year, so the FISCAL literals mean the calendar ones.
_FISCAL = {"FISCAL_QUARTER": "QUARTER", "FISCAL_YEAR": "YEAR"}

# Relative date literal name -> whether it takes ":n".
RELATIVE_LITERALS: dict[str, bool] = {
    "YESTERDAY": False,
    "TODAY": False,
    "TOMORROW": False,
    "LAST_90_DAYS": False,
    "NEXT_90_DAYS": False,
    "LAST_N_DAYS": True,
    "NEXT_N_DAYS": True,
    "N_DAYS_AGO": True,
}
for _unit in [*_PERIODS, *_FISCAL]:
    RELATIVE_LITERALS.update(
        {
            f"LAST_{_unit}": False,
            f"THIS_{_unit}": False,
            f"NEXT_{_unit}": False,
            f"LAST_N_{_unit}S": True,
            f"NEXT_N_{_unit}S": True,
            f"N_{_unit}S_AGO": True,
        }
    )


def relative_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """Return the first and last day (inclusive) a relative literal covers.

    ``today`` is the UTC date: the local org's integration user lives in UTC,
    where a real org would use the running user's time zone.
    """
    one = timedelta(days=1)
    count = n or 0
    if name == "TODAY":
        return today, today
    if name == "YESTERDAY":
        return today - one, today - one
    if name == "TOMORROW":
        return today + one, today + one
    if name in ("LAST_90_DAYS", "LAST_N_DAYS"):
        # Salesforce counts today in: LAST_N_DAYS:1 is yesterday and today.
        days = 90 if name == "LAST_90_DAYS" else count
        return today - timedelta(days=days), today
    if name in ("NEXT_90_DAYS", "NEXT_N_DAYS"):
        days = 90 if name == "NEXT_90_DAYS" else count
        return today + one, today + timedelta(days=days)
    if name == "N_DAYS_AGO":
        return today - timedelta(days=count), today - timedelta(days=count)
    return _period_range(name, count, today)


def _period_range(name: str, n: int, today: date) -> tuple[date, date]:
    # "first" counts periods from the current one; "length" is how many.
    if name.startswith("THIS_"):
        unit, first, length = name[5:], 0, 1
    elif name.startswith("LAST_N_"):
        unit, first, length = name[7:-1], -n, n
    elif name.startswith("NEXT_N_"):
        unit, first, length = name[7:-1], 1, n
    elif name.startswith("LAST_"):
        unit, first, length = name[5:], -1, 1
    elif name.startswith("NEXT_"):
        unit, first, length = name[5:], 1, 1
    else:  # N_<UNIT>S_AGO
        unit, first, length = name[2:-5], -n, 1
    start_of, shift = _PERIODS[_FISCAL.get(unit, unit)]
    start = start_of(today)
    return shift(start, first), shift(start, first + length) - timedelta(days=1)


def date_key(value: object) -> str | None:
    """Key of a stored date value, or None when it is not a wire date."""
    if isinstance(value, str) and len(value) == 10:
        return value
    return None


def datetime_key(value: object) -> str | None:
    """Key of a stored datetime value, or None when it cannot be read."""
    if not isinstance(value, str):
        return None
    if len(value) == _WIRE_UTC_LENGTH and value[23:] == "+0000":
        return value[:23]
    return datetime_literal_key(value)


def datetime_literal_key(text: str) -> str | None:
    """Key of an ISO datetime with an offset or Z, or None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return None
        return _format_key(moment.astimezone(UTC))
    except (ValueError, OverflowError):
        return None


def _format_key(moment: datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}"
    )


def day_bounds_as_datetime(first: date, last: date) -> tuple[str, str]:
    """The datetime keys from the first instant of ``first`` to the last of ``last``."""
    return f"{first.isoformat()}T00:00:00.000", f"{last.isoformat()}T23:59:59.999"
