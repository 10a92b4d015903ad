"""A local Salesforce org: the REST API over HTTPS for demos, tests and benchmarks."""

from __future__ import annotations

from sfsync.localorg.server import API_VERSION, LocalOrg

__all__ = ["API_VERSION", "LocalOrg"]
