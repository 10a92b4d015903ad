"""The running application's parts, made once from settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sfsync.errors import ConfigError
from sfsync.logs import get_logger
from sfsync.mapping import ObjectMapping, check_against_describe, load_mappings
from sfsync.pull import PullPlan
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import Settings, mask_url
from sfsync.store.db import Store, open_store

__all__ = ["App"]

log = get_logger(__name__)

PULL_ORDER = ("Account", "Opportunity")


@dataclass
class App:
    """Settings, store, Salesforce client and mappings of one process."""

    settings: Settings
    _plans: list[PullPlan] | None = field(default=None, init=False)
    _describes: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings.database_url)

    @cached_property
    def client(self) -> SalesforceClient:
        log.info(
            "salesforce_client",
            login_url=self.settings.login_url,
            api_version=self.settings.api_version,
            flow=self.settings.auth_flow,
        )
        return SalesforceClient(self.settings)

    @cached_property
    def mappings(self) -> dict[str, ObjectMapping]:
        return load_mappings(self.settings.mappings_dir)

    def pushed_fields(self, sobject: str) -> tuple[str, ...]:
        """Fields the push writes on ``sobject``; the pull reads them back."""
        path = self.settings.mappings_dir / "push.yaml"
        if not path.is_file():
            return ()
        from sfsync.push.mapping import load_push_mapping

        return load_push_mapping(path).fields_for(sobject)

    def describe(self, sobject: str) -> dict[str, Any]:
        """The org's describe of ``sobject``, fetched once per process."""
        if sobject not in self._describes:
            self._describes[sobject] = self.client.describe(sobject)
        return self._describes[sobject]

    def check_files(self) -> None:
        """Load every configuration file a cycle needs; the first problem raises.

        Playbooks, handoff rules, health rules and the push mapping are read
        here so that `sfsync check` (and every service start) fails on them
        before a cycle does.
        """
        from sfsync.handoff import HandoffConfig
        from sfsync.kpi import load_health_rules
        from sfsync.push.mapping import load_push_mapping

        config_dir = self.settings.config_dir
        if not config_dir.is_dir():
            raise ConfigError(
                f"config folder {config_dir} does not exist",
                hint="point SFSYNC_CONFIG_DIR at a folder with playbooks/ and "
                "health.yaml, or run from the project folder",
            )
        HandoffConfig.load(
            config_dir=config_dir,
            mappings_dir=self.settings.mappings_dir,
            mappings=self.mappings,
            country=self.settings.holiday_country,
        )
        health = config_dir / "health.yaml"
        if health.is_file():
            load_health_rules(health)
        push = self.settings.mappings_dir / "push.yaml"
        if push.is_file():
            load_push_mapping(push)

    def check(self) -> list[PullPlan]:
        """Describe each pulled object and check the mappings against it.

        Runs once per process (at start-up of a service, or a one-shot
        command); a mismatch raises before anything is written. The pushed
        fields are checked against the same describe: exist, updateable, of
        a fitting type.
        """
        plans: list[PullPlan] = []
        push_path = self.settings.mappings_dir / "push.yaml"
        push_mapping = None
        if push_path.is_file():
            from sfsync.push.mapping import load_push_mapping

            push_mapping = load_push_mapping(push_path)
        for sobject in PULL_ORDER:
            mapping = self.mappings[sobject]
            describe = self.describe(sobject)
            pushed = self.pushed_fields(sobject)
            missing = check_against_describe(mapping, describe, pushed=pushed)
            if missing:
                log.warning("mapping_fields_absent", sobject=sobject, fields=missing)
            plans.append(
                PullPlan(mapping=mapping, skip=frozenset(missing), pushed_fields=pushed)
            )
            if push_mapping is not None and sobject in push_mapping.objects:
                from sfsync.push.mapping import check_push_describe

                check_push_describe(push_mapping.objects[sobject], describe)
        self._plans = plans
        log.info(
            "mappings_checked",
            objects=len(plans),
            database=mask_url(self.settings.database_url),
        )
        return plans

    def plans(self) -> list[PullPlan]:
        return self._plans if self._plans is not None else self.check()

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.dispose()
