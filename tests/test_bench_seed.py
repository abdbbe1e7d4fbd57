"""The bench's seeder (bench/seed_inbox.py) fills both engines with a small shape.

PostgreSQL seeds through ``COPY``, which once sent NULL for every column a row lacked
(``messages.media_pending`` has only a Python-side default) and crashed the bench.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select

from hub.store.engine import create_engine
from hub.store.models import Contact, Conversation, Message, User

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import seed_inbox


async def test_a_small_shape_is_seeded_with_the_models_defaults(db_url: str) -> None:
    shape = seed_inbox.Shape(conversations=40, messages=120, agents=5, teams=2, seed=3)
    engine = create_engine(db_url)
    try:
        await seed_inbox.seed(engine, shape)
        async with engine.connect() as conn:
            counts = [
                await conn.scalar(select(func.count()).select_from(model))
                for model in (User, Contact, Conversation, Message)
            ]
            # Columns the seeder's rows leave out get the model's defaults, not NULL.
            pending = await conn.scalar(
                select(func.count()).where(Message.media_pending.is_(False))
            )
            priorities = await conn.scalar(select(func.count()).where(Conversation.priority == 0))
    finally:
        await engine.dispose()
    assert counts == [5, 32, 40, 120]
    assert pending == 120
    assert priorities == 40
