"""Tests for business-day arithmetic over weekends and public holidays."""

from __future__ import annotations

from datetime import date

import pytest

from sfsync.calendar import BusinessCalendar
from sfsync.errors import ConfigError

GB = BusinessCalendar("GB")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 12, 24), True, id="thursday-before-christmas"),
        pytest.param(date(2026, 12, 25), False, id="christmas-day"),
        pytest.param(date(2026, 12, 26), False, id="boxing-day-on-saturday"),
        pytest.param(date(2026, 12, 27), False, id="sunday"),
        pytest.param(date(2026, 12, 28), False, id="boxing-day-observed-monday"),
        pytest.param(date(2026, 12, 29), True, id="tuesday-after"),
    ],
)
def test_is_business_day_skips_weekends_and_gb_holidays(
    day: date, expected: bool
) -> None:
    assert GB.is_business_day(day) is expected


def test_next_business_day_is_the_day_itself_when_it_is_one() -> None:
    assert GB.next_business_day(date(2026, 12, 24)) == date(2026, 12, 24)


def test_next_business_day_jumps_over_christmas_and_the_weekend() -> None:
    assert GB.next_business_day(date(2026, 12, 25)) == date(2026, 12, 29)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(
            date(2026, 12, 23), 0, date(2026, 12, 23), id="zero-on-business-day"
        ),
        pytest.param(
            date(2026, 12, 26), 0, date(2026, 12, 29), id="zero-rolls-forward"
        ),
        pytest.param(date(2026, 12, 23), 1, date(2026, 12, 24), id="one"),
        pytest.param(date(2026, 12, 23), 2, date(2026, 12, 29), id="over-christmas"),
        pytest.param(date(2026, 12, 23), 5, date(2027, 1, 4), id="over-new-year"),
        pytest.param(date(2026, 12, 29), -1, date(2026, 12, 24), id="back-one"),
        pytest.param(
            date(2026, 12, 26), -1, date(2026, 12, 24), id="back-from-holiday"
        ),
        pytest.param(date(2026, 1, 2), -5, date(2025, 12, 23), id="back-across-year"),
    ],
)
def test_add_business_days_counts_only_business_days(
    start: date, n: int, expected: date
) -> None:
    assert GB.add_business_days(start, n) == expected


def test_business_days_between_counts_the_end_but_not_the_start() -> None:
    start, end = date(2026, 12, 23), date(2027, 1, 5)

    forward = GB.business_days_between(start, end)
    backward = GB.business_days_between(end, start)

    # 24, 29, 30, 31 December, then 4 and 5 January (1 January is a holiday).
    assert (forward, backward) == (6, -6)


def test_add_and_between_agree_far_into_the_future() -> None:
    calendar = BusinessCalendar("US")
    start = date(2026, 6, 1)

    end = calendar.add_business_days(start, 800)

    assert calendar.business_days_between(start, end) == 800


def test_holiday_name_names_public_holidays_and_extra_closures() -> None:
    calendar = BusinessCalendar("GB", extra_holidays=[date(2026, 12, 24)])

    names = [calendar.holiday_name(date(2026, 12, d)) for d in (24, 25, 23)]

    assert names == ["extra holiday", "Christmas Day", None]


def test_extra_holidays_are_not_business_days() -> None:
    calendar = BusinessCalendar("GB", extra_holidays=[date(2026, 12, 24)])

    assert calendar.next_business_day(date(2026, 12, 24)) == date(2026, 12, 29)


def test_no_country_means_weekends_only() -> None:
    calendar = BusinessCalendar(None)

    assert calendar.is_business_day(date(2026, 12, 25))


def test_subdivision_adds_its_own_holidays() -> None:
    scotland = BusinessCalendar("GB", subdivision="SCT")

    assert not scotland.is_business_day(date(2026, 1, 2))
    assert GB.is_business_day(date(2026, 1, 2))


@pytest.mark.parametrize(
    ("country", "subdivision", "named"),
    [
        pytest.param("XX", None, "'XX'", id="country"),
        pytest.param("US", "ZZ", "'ZZ'", id="subdivision"),
    ],
)
def test_unknown_country_or_subdivision_is_a_config_error_naming_it(
    country: str, subdivision: str | None, named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        BusinessCalendar(country, subdivision)
