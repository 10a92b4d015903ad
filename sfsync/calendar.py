"""Business-day arithmetic over weekends, public holidays and extra closures."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import date

import holidays

from sfsync.errors import ConfigError

__all__ = ["BusinessCalendar"]

_SATURDAY = 5
# How many years around a requested date are prepared at once; most projects
# span a few months, so one year either side avoids rebuilding at year ends.
_YEAR_MARGIN = 1


class BusinessCalendar:
    """Working days: Monday to Friday, minus public holidays and extra closures.

    The days of every prepared year are held in flat arrays (one flag and one
    running count per day, plus the list of business days), so every query is
    a couple of list look-ups. Years are prepared on first use and kept.
    """

    def __init__(
        self,
        country: str | None = "US",
        subdivision: str | None = None,
        extra_holidays: Iterable[date] = (),
    ) -> None:
        self.country = country
        self.subdivision = subdivision
        self._extra = frozenset(extra_holidays)
        self._names_by_year: dict[int, dict[date, str]] = {}
        if country is None and subdivision is not None:
            raise ConfigError(
                f"holiday subdivision {subdivision!r} given without a country",
                hint="set the country as well, for example US with subdivision CA",
            )
        if country is not None:
            # Ask for no year at all: this only checks that the country and
            # subdivision exist, so a typo fails here rather than mid-run.
            self._holidays_for(country, subdivision, years=[])
        self._first_year = 0
        self._last_year = -1
        self._base = 0
        self._is_business = bytearray()
        self._rank: list[int] = []
        self._days: list[date] = []
        self._day_ordinals: list[int] = []

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(country={self.country!r}, "
            f"subdivision={self.subdivision!r}, extra_holidays={len(self._extra)})"
        )

    def is_business_day(self, d: date) -> bool:
        """Whether work is planned on ``d``."""
        self._cover(d.year, d.year)
        return bool(self._is_business[d.toordinal() - self._base])

    def next_business_day(self, d: date) -> date:
        """``d`` itself when it is a business day, else the first one after it."""
        return self.add_business_days(d, 0)

    def add_business_days(self, d: date, n: int) -> date:
        """The ``n``-th business day after ``d`` (before it when ``n`` < 0).

        ``d`` itself is not counted. With ``n`` == 0 the answer is
        ``next_business_day(d)``, so the result is always a business day.
        """
        self._cover(d.year, d.year)
        while True:
            offset = d.toordinal() - self._base
            on_or_before = self._rank[offset]
            if n > 0:
                index = on_or_before - 1 + n
            else:
                before = on_or_before - self._is_business[offset]
                index = before + n
            if index < 0:
                self._cover(self._first_year - 1, self._last_year)
            elif index >= len(self._days):
                self._cover(self._first_year, self._last_year + 1)
            else:
                return self._days[index]

    def business_days_from(self, d: date, count: int) -> list[date]:
        """The first ``count`` business days on or after ``d``, in order."""
        first = self.next_business_day(d)
        while True:
            start = bisect_left(self._day_ordinals, first.toordinal())
            if start + count <= len(self._days):
                return self._days[start : start + count]
            self._cover(self._first_year, self._last_year + 1)

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in (start, end]; negative, counted back, if end < start."""
        self._cover(min(start.year, end.year), max(start.year, end.year))
        return (
            self._rank[end.toordinal() - self._base]
            - self._rank[start.toordinal() - self._base]
        )

    def holiday_name(self, d: date) -> str | None:
        """The public holiday's name on ``d``, "extra holiday" for a listed closure."""
        names = self._holiday_names(d.year)
        if d in names:
            return names[d]
        if d in self._extra:
            return "extra holiday"
        return None

    def _holiday_names(self, year: int) -> dict[date, str]:
        names = self._names_by_year.get(year)
        if names is None:
            names = {}
            if self.country is not None:
                found = self._holidays_for(self.country, self.subdivision, [year])
                for day in found:
                    names[day] = "; ".join(found.get_list(day))
            self._names_by_year[year] = names
        return names

    @staticmethod
    def _holidays_for(
        country: str, subdivision: str | None, years: list[int]
    ) -> holidays.HolidayBase:
        try:
            return holidays.country_holidays(country, subdiv=subdivision, years=years)
        except NotImplementedError as exc:
            if subdivision is None:
                raise ConfigError(
                    f"unknown holiday country {country!r}",
                    hint="use an ISO 3166-1 alpha-2 code such as US, GB or DE",
                ) from exc
            raise ConfigError(
                f"unknown holiday country {country!r} or subdivision {subdivision!r}",
                hint="check both codes against the holidays package's list",
            ) from exc

    def _cover(self, first_year: int, last_year: int) -> None:
        if self._first_year <= first_year and last_year <= self._last_year:
            return
        if self._last_year >= self._first_year:
            first_year = min(first_year, self._first_year)
            last_year = max(last_year, self._last_year)
        else:
            first_year -= _YEAR_MARGIN
            last_year += _YEAR_MARGIN
        base = date(first_year, 1, 1).toordinal()
        stop = date(last_year, 12, 31).toordinal()
        closed: set[date] = set(self._extra)
        for year in range(first_year, last_year + 1):
            closed.update(self._holiday_names(year))
        flags = bytearray()
        rank: list[int] = []
        days: list[date] = []
        count = 0
        for ordinal in range(base, stop + 1):
            day = date.fromordinal(ordinal)
            open_ = day.weekday() < _SATURDAY and day not in closed
            flags.append(open_)
            if open_:
                count += 1
                days.append(day)
            rank.append(count)
        self._first_year, self._last_year, self._base = first_year, last_year, base
        self._is_business, self._rank, self._days = flags, rank, days
        self._day_ordinals = [day.toordinal() for day in days]
