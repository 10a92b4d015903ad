"""Sentiment, notes and checklist ticks become project events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from sfsync.errors import InputError
from sfsync.progress import record_note, record_sentiment, set_checklist_item
from sfsync.store.db import Store, make_engine
from sfsync.store.models import ProjectPhase

from .seeding import events

AT = datetime(2026, 11, 9, 15, 30, tzinfo=UTC)


def test_sentiment_is_recorded_as_an_event_with_the_score(
    store: Store, project_id: int
) -> None:
    record_sentiment(
        store, project_id=project_id, score=2, actor="ana", at=AT, note="IT is slow"
    )

    (event,) = events(store, project_id, "sentiment")
    assert (event.to_value, event.note, event.actor, event.at) == (
        "2",
        "IT is slow",
        "ana",
        AT,
    )


@pytest.mark.parametrize("score", [0, 6, True], ids=["zero", "six", "bool"])
def test_sentiment_outside_one_to_five_is_refused(score: int) -> None:
    unopened = Store(make_engine("sqlite://"))

    with pytest.raises(InputError, match="from 1 \\(unhappy\\) to 5 \\(delighted\\)"):
        record_sentiment(unopened, project_id=1, score=score, actor="a", at=AT)


def test_a_note_keeps_its_text_whatever_the_alphabet(
    store: Store, project_id: int
) -> None:
    record_note(
        store, project_id=project_id, text="Škoda: Łódź office live", actor="a", at=AT
    )

    (event,) = events(store, project_id, "note")
    assert event.note == "Škoda: Łódź office live"


def test_ticking_a_checklist_item_saves_it_and_records_who_did_it(
    store: Store, project_id: int
) -> None:
    set_checklist_item(
        store,
        project_id=project_id,
        phase_key="welcome",
        item_id="ss_admin_named",
        done=True,
        actor="ana",
        at=AT,
    )

    phase = _phase(store, project_id, "welcome")
    item = phase.checklist["ss_admin_named"]
    assert (item["done"], item["changed_by"]) == (True, "ana")
    assert phase.checklist["ss_goal_in_their_words"]["done"] is False
    (event,) = events(store, project_id, "checklist_item")
    assert event.data == {"phase_key": "welcome", "item_id": "ss_admin_named"}
    assert event.to_value == "done"


def test_an_unknown_checklist_item_is_refused_with_the_items_of_that_phase(
    store: Store, project_id: int
) -> None:
    with pytest.raises(InputError) as caught:
        set_checklist_item(
            store,
            project_id=project_id,
            phase_key="welcome",
            item_id="admin_named",
            done=True,
            actor="ana",
            at=AT,
        )

    assert "no checklist item 'admin_named'" in str(caught.value)
    assert "ss_admin_named" in str(caught.value)


def _phase(store: Store, project_id: int, key: str) -> ProjectPhase:
    with store.session() as session:
        return session.exec(
            select(ProjectPhase)
            .where(ProjectPhase.project_id == project_id)
            .where(ProjectPhase.phase_key == key)
        ).one()
