"""Writing onboarding status and health back to Salesforce, only where it changed."""

from __future__ import annotations

from sfsync.push.job import PushReport, plan_push, run_push
from sfsync.push.mapping import PushField, PushMapping, load_push_mapping

__all__ = [
    "PushField",
    "PushMapping",
    "PushReport",
    "load_push_mapping",
    "plan_push",
    "run_push",
]
