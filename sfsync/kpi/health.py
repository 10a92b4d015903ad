"""Project health: Green, Amber or Red per configured factor, each with its reason."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from sfsync.errors import ConfigError
from sfsync.kpi.facts import BusinessCalendar, ProjectFacts
from sfsync.kpi.forecast import Forecast
from sfsync.kpi.progress import OverdueTasks
from sfsync.yamlfile import LocatedYaml, load_located_yaml

__all__ = [
    "DEFAULT_HEALTH_RULES",
    "SUMMARY_LIMIT",
    "FactorResult",
    "HealthResult",
    "HealthRules",
    "HealthStatus",
    "evaluate_health",
    "load_health_rules",
]

HealthStatus = Literal["Green", "Amber", "Red"]
Percentile = Literal["p50", "p80", "p90"]

# Salesforce text fields hold 255 characters; the summary must fit one.
SUMMARY_LIMIT = 255

_RANK: dict[HealthStatus, int] = {"Green": 0, "Amber": 1, "Red": 2}


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


class OverdueShareRule(_Rule):
    """Share of due tasks (planned end before today) that are not finished."""

    amber_from: float = Field(0.20, ge=0, le=1)
    red_from: float = Field(0.60, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> OverdueShareRule:
        if self.red_from < self.amber_from:
            raise ValueError("red_from must not be below amber_from")
        return self


class _AfterDaysRule(_Rule):
    amber_after: int = Field(ge=0)
    red_after: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> _AfterDaysRule:
        if self.red_after < self.amber_after:
            raise ValueError("red_after must not be below amber_after")
        return self


class StaleProgressRule(_AfterDaysRule):
    """Business days since the last progress event (or the handoff)."""

    amber_after: int = Field(5, ge=0)
    red_after: int = Field(10, ge=0)


class BlockedCriticalTaskRule(_AfterDaysRule):
    """Business days the longest-blocked critical-path task has been blocked."""

    amber_after: int = Field(3, ge=0)
    red_after: int = Field(7, ge=0)


class ForecastVsTargetRule(_Rule):
    """Which forecast percentile, once after the target date, turns Amber or Red."""

    amber_when_after_target: Percentile = "p80"
    red_when_after_target: Percentile = "p50"

    @model_validator(mode="after")
    def _ordered(self) -> ForecastVsTargetRule:
        # Red must be the stronger signal: a lower percentile after the target
        # means lateness is more likely, so it may not be above Amber's.
        if self.red_when_after_target > self.amber_when_after_target:
            raise ValueError(
                "red_when_after_target must be the same or a lower percentile "
                "than amber_when_after_target"
            )
        return self


class CustomerSentimentRule(_Rule):
    """The latest customer sentiment, from 1 (unhappy) to 5 (delighted)."""

    red_at_or_below: float = Field(2, ge=1, le=5)
    amber_at_or_below: float = Field(3, ge=1, le=5)

    @model_validator(mode="after")
    def _ordered(self) -> CustomerSentimentRule:
        if self.amber_at_or_below < self.red_at_or_below:
            raise ValueError("amber_at_or_below must not be below red_at_or_below")
        return self


class HealthFactors(BaseModel):
    """One rule per factor; a factor left out of the file keeps its defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    overdue_share: OverdueShareRule = OverdueShareRule()
    stale_progress: StaleProgressRule = StaleProgressRule()
    forecast_vs_target: ForecastVsTargetRule = ForecastVsTargetRule()
    blocked_critical_task: BlockedCriticalTaskRule = BlockedCriticalTaskRule()
    customer_sentiment: CustomerSentimentRule = CustomerSentimentRule()


class HealthRules(BaseModel):
    """The health rules file (``config/health.yaml``), validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    factors: HealthFactors = HealthFactors()


DEFAULT_HEALTH_RULES = HealthRules()


def load_health_rules(path: Path | str) -> HealthRules:
    """Read and validate a health rules file.

    Raises ConfigError naming the file, the line and the offending key when
    the file is missing, is not YAML, repeats a key or breaks a rule.
    """
    path = Path(path)
    doc = load_located_yaml(path)
    raw: Any = {} if doc.data is None else doc.data
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{doc.where()}: the top level must be a mapping with `factors`"
        )
    try:
        return HealthRules.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(doc, error) for error in exc.errors())
        raise ConfigError(
            problems, hint="see docs/kpis.md for the health factors and their keys"
        ) from None


def _describe(doc: LocatedYaml, error: ErrorDetails) -> str:
    """One pydantic error as ``file:line: key: what is wrong``."""
    loc = error["loc"]
    label = ".".join(str(part) for part in loc) or "(top level)"
    if error["type"] == "extra_forbidden" and loc:
        key = str(loc[-1])
        allowed = list(_model_at(loc[:-1]).model_fields)
        close = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"unknown key {key!r}{suggestion}; the keys here are " + ", ".join(
            allowed
        )
    else:
        message = error["msg"].removeprefix("Value error, ")
    return f"{doc.where(*loc)}: {label}: {message}"


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel]:
    """The model that validates the mapping at ``loc`` (all are nested models)."""
    model: type[BaseModel] = HealthRules
    for part in loc:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return model


@dataclass(frozen=True, slots=True)
class FactorResult:
    """One factor's verdict: its name, status, the measured value and why."""

    name: str
    status: HealthStatus
    value: float | int | str | None
    reason: str


@dataclass(frozen=True, slots=True)
class HealthResult:
    """The overall status (the worst factor), every factor, and a short summary."""

    status: HealthStatus
    factors: tuple[FactorResult, ...]
    summary: str


def _days(n: int) -> str:
    return f"{n} business day" if n == 1 else f"{n} business days"


def _overdue_share(overdue: OverdueTasks, rule: OverdueShareRule) -> FactorResult:
    if overdue.due == 0:
        return FactorResult("overdue_share", "Green", 0.0, "no tasks due yet")
    share = overdue.total / overdue.due
    status: HealthStatus = "Green"
    if share >= rule.red_from:
        status = "Red"
    elif share >= rule.amber_from:
        status = "Amber"
    reason = f"{overdue.total} of {overdue.due} due tasks overdue ({share:.0%})"
    return FactorResult("overdue_share", status, round(share, 4), reason)


def _stale_progress(
    project: ProjectFacts,
    today: date,
    calendar: BusinessCalendar,
    rule: StaleProgressRule,
    finished: bool,
) -> FactorResult:
    if finished:
        return FactorResult("stale_progress", "Green", None, "project is live")
    if project.status == "on_hold":
        return FactorResult("stale_progress", "Green", None, "project is on hold")
    dates = [e.occurred_on for e in project.events if e.kind == "progress"]
    last = max((d for d in dates if d <= today), default=None)
    since = project.handoff_date if last is None else last
    days = max(0, calendar.business_days_between(since, today))
    status: HealthStatus = "Green"
    if days > rule.red_after:
        status = "Red"
    elif days > rule.amber_after:
        status = "Amber"
    if last is None:
        reason = f"no progress recorded since handoff {_days(days)} ago"
    else:
        reason = f"last progress {_days(days)} ago ({last.isoformat()})"
    return FactorResult("stale_progress", status, days, reason)


def _forecast_vs_target(
    project: ProjectFacts, forecast: Forecast, rule: ForecastVsTargetRule
) -> FactorResult:
    target = project.target_go_live
    if target is None:
        return FactorResult("forecast_vs_target", "Green", None, "no target go-live")
    dates = {"p50": forecast.p50, "p80": forecast.p80, "p90": forecast.p90}
    if forecast.method == "finished":
        live = forecast.likely
        status: HealthStatus = "Red" if live > target else "Green"
        word = "after" if live > target else "on or before"
        reason = f"went live {live.isoformat()} {word} target {target.isoformat()}"
        return FactorResult("forecast_vs_target", status, live.isoformat(), reason)
    for status, name in (
        ("Red", rule.red_when_after_target),
        ("Amber", rule.amber_when_after_target),
    ):
        if dates[name] > target:
            reason = (
                f"{name.upper()} go-live {dates[name].isoformat()} "
                f"after target {target.isoformat()}"
            )
            return FactorResult(
                "forecast_vs_target", status, dates[name].isoformat(), reason
            )
    name = rule.amber_when_after_target
    reason = (
        f"{name.upper()} go-live {dates[name].isoformat()} "
        f"on or before target {target.isoformat()}"
    )
    return FactorResult("forecast_vs_target", "Green", dates[name].isoformat(), reason)


def _blocked_critical_task(
    project: ProjectFacts,
    today: date,
    calendar: BusinessCalendar,
    rule: BlockedCriticalTaskRule,
) -> FactorResult:
    worst_days = -1
    worst_id = ""
    for task in project.tasks:
        if not (task.is_critical and task.status == "blocked"):
            continue
        # A block with no start date cannot be aged; it counts from today so
        # that it shows in the reason without raising the status.
        since = task.blocked_since or today
        days = max(0, calendar.business_days_between(since, today))
        if days > worst_days:
            worst_days, worst_id = days, task.id
    if worst_days < 0:
        return FactorResult(
            "blocked_critical_task", "Green", 0, "no critical task blocked"
        )
    status: HealthStatus = "Green"
    if worst_days > rule.red_after:
        status = "Red"
    elif worst_days > rule.amber_after:
        status = "Amber"
    reason = f"critical task {worst_id} blocked for {_days(worst_days)}"
    return FactorResult("blocked_critical_task", status, worst_days, reason)


def _customer_sentiment(
    project: ProjectFacts, today: date, rule: CustomerSentimentRule
) -> FactorResult:
    latest = None
    for event in project.events:
        if (
            event.kind != "sentiment"
            or event.value is None
            or event.occurred_on > today
        ):
            continue
        # Ties on the same day go to the later event in the tuple.
        if latest is None or event.occurred_on >= latest.occurred_on:
            latest = event
    if latest is None or latest.value is None:
        return FactorResult(
            "customer_sentiment", "Green", None, "no customer sentiment recorded"
        )
    value = latest.value
    status: HealthStatus = "Green"
    if value <= rule.red_at_or_below:
        status = "Red"
    elif value <= rule.amber_at_or_below:
        status = "Amber"
    reason = f"customer sentiment {value:g}/5 ({latest.occurred_on.isoformat()})"
    return FactorResult("customer_sentiment", status, value, reason)


def _summary(status: HealthStatus, factors: tuple[FactorResult, ...]) -> str:
    flagged = sorted(
        (f for f in factors if f.status != "Green"), key=lambda f: -_RANK[f.status]
    )
    if not flagged:
        text = f"Green: all {len(factors)} health checks pass"
    else:
        text = f"{status}: " + "; ".join(f.reason for f in flagged)
    if len(text) > SUMMARY_LIMIT:
        text = text[: SUMMARY_LIMIT - 3].rstrip() + "..."
    return text


def evaluate_health(
    project: ProjectFacts,
    *,
    today: date,
    calendar: BusinessCalendar,
    forecast: Forecast,
    overdue: OverdueTasks,
    rules: HealthRules = DEFAULT_HEALTH_RULES,
) -> HealthResult:
    """Rate every enabled factor and take the worst as the project's health.

    ``forecast`` and ``overdue`` are the project's own, computed for ``today``;
    they are passed in so that one KPI run computes each once.
    """
    config = rules.factors
    finished = forecast.method == "finished"
    factors: list[FactorResult] = []
    if config.overdue_share.enabled:
        factors.append(_overdue_share(overdue, config.overdue_share))
    if config.stale_progress.enabled:
        factors.append(
            _stale_progress(project, today, calendar, config.stale_progress, finished)
        )
    if config.forecast_vs_target.enabled:
        factors.append(
            _forecast_vs_target(project, forecast, config.forecast_vs_target)
        )
    if config.blocked_critical_task.enabled:
        factors.append(
            _blocked_critical_task(
                project, today, calendar, config.blocked_critical_task
            )
        )
    if config.customer_sentiment.enabled:
        factors.append(_customer_sentiment(project, today, config.customer_sentiment))
    result = tuple(factors)
    status: HealthStatus = max(
        (f.status for f in result), key=_RANK.__getitem__, default="Green"
    )
    return HealthResult(status, result, _summary(status, result))
