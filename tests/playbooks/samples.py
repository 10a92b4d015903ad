"""A small valid playbook and the type of the file-writing fixture, shared by tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

MINIMAL_PLAYBOOK = """\
key: tiny
name: Tiny
version: "1"
roles:
  onboarding_manager: {from_field: Onboarding_Manager__c}
  customer_admin: {customer: true}
phases:
  - id: start
    name: Start
    before_milestone: go_live
    checklist:
      - {id: ready, text: "Ready?"}
    tasks:
      - id: kickoff_call
        title: Kick-off call
        owner_role: onboarding_manager
        duration: 1
      - id: setup
        title: Set up
        owner_role: customer_admin
        audience: customer
        duration: 2
        depends_on: [kickoff_call]
  - id: after
    name: After
    tasks:
      - id: review
        title: Review
        owner_role: onboarding_manager
        duration: 1
        depends_on: [setup]
milestones:
  - {id: kickoff, name: Kick-off, kind: kickoff, after: [kickoff_call]}
  - {id: go_live, name: Go-live, kind: go_live, after: [setup]}
  - {id: first_value, name: Value, kind: first_value, after: [review]}
"""

WriteFile = Callable[[str, str], Path]
