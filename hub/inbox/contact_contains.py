"""Whether a contact's field "contains" a text, served by trigram indexes (migration 0025).

The definition, on every engine and unchanged by the indexes: ``lower(field) LIKE
'%' || text || '%'`` with ``text`` case-folded in Python and ``%``, ``_`` and ``\\``
taken literally (``contains``). SQLite's ``lower`` and ``LIKE`` fold ASCII letters only,
PostgreSQL's fold every letter its collation knows; each engine keeps its own answer.

How the indexes serve it:

- PostgreSQL: a GIN ``gin_trgm_ops`` index on each ``lower(field)`` (the phone on the
  field as it is). The planner uses it for the definition itself and rechecks each
  candidate row, so nothing here is PostgreSQL-specific.
- SQLite: ``contacts_fts``, an FTS5 ``trigram`` table over the same fields. A phrase
  query there finds every row whose case-folded field holds the case-folded text; that
  is a superset of the definition's rows (the folding is the same for ASCII and the
  identity for the rest, where ``LIKE`` compares exactly), and so is the AND of some of
  the text's trigrams, which ``fts_query`` uses when they are rare. The candidates
  ANDed with the definition (``narrowed``) are exactly the definition's rows. A text
  shorter than three characters holds no trigram: then the definition alone is used (a
  scan), as before the index.

Which of a text's trigrams are rare is counted once and kept for a while
(``rare_trigrams``): the choice only steers how the index is read, never what is found
(any of the text's trigrams narrows to a superset), so an entry that went stale costs
time, not correctness. PostgreSQL's GIN index intersects the row lists of every trigram
of a ``LIKE`` pattern, and an email's are mostly in every row: ``matching_contact_ids``
there reads the index for the rare trigrams only and applies the definition to what
they find (8.5 ms → 1.8 ms for "@example7." over 80,000 contacts).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.store.models import Contact
from hub.store.paging import like_pattern

# The fields the trigram indexes cover (migration 0025's FIELDS).
FIELDS = ("name", "first_name", "last_name", "email", "phone")
FTS_TABLE = "contacts_fts"
# A trigram index serves texts of at least this many characters.
MIN_INDEXED = 3
# A trigram in at most this many rows narrows a search well; counting stops past it.
RARE = 1000
# Trigrams of one text counted at most (a long text: spread over it).
MAX_PROBES = 12
# How long a text's rare trigrams are trusted, and how many texts are remembered (the
# custom inboxes' conditions and recent searches; past it the memory starts afresh).
RARE_CACHE_SECONDS = 600.0
RARE_CACHE_SIZE = 1024
# (engine, field or "" for any field, case-folded text) -> (counted at, rare trigrams).
_rare_cache: dict[tuple[str, str, str], tuple[float, tuple[str, ...]]] = {}

_fts = table(FTS_TABLE, column("rowid"))


def contains(field: Any, text: str) -> ColumnElement[bool]:
    """The definition: ``field`` (a contact column) holds ``text``, ignoring case."""
    return func.lower(field).like(like_pattern(text), escape="\\")


def indexable(text: str) -> bool:
    """Whether a trigram index can narrow a search for ``text``."""
    return len(text.lower()) >= MIN_INDEXED and "\x00" not in text


def _phrase(text: str) -> str:
    # Inside an FTS5 string only the double quote is special: it is doubled.
    return '"' + text.replace('"', '""') + '"'


def _match(query: str) -> ColumnElement[bool]:
    return literal_column(FTS_TABLE).op("MATCH")(literal(query))


def trigrams(text: str) -> list[str]:
    """The text's distinct three-character windows, in order, at most ``MAX_PROBES``
    (spread over the text): the FTS table folds each one as it folds the rows."""
    grams = list(dict.fromkeys(text[i : i + 3] for i in range(len(text) - 2)))
    if len(grams) <= MAX_PROBES:
        return grams
    step = len(grams) / MAX_PROBES
    return [grams[int(i * step)] for i in range(MAX_PROBES)]


def _gram_rows(field: str | None, gram: str) -> Any:
    """The rows holding ``gram``: in any field of the FTS table (SQLite, ``field`` None),
    or in ``lower(field)`` through its GIN index (PostgreSQL)."""
    if field is None:
        return select(_fts.c.rowid).where(_match(_phrase(gram)))
    return select(Contact.id).where(contains(getattr(Contact, field), gram))


async def _count_rare(db: AsyncSession, field: str | None, grams: Sequence[str]) -> list[str]:
    """Those of ``grams`` found in at most ``RARE`` rows, counted in one statement that
    stops reading each one's rows at ``RARE + 1``."""
    counts = [
        select(literal(i), func.count()).select_from(
            _gram_rows(field, gram).limit(RARE + 1).subquery()
        )
        for i, gram in enumerate(grams)
    ]
    rows = await db.execute(union_all(*counts)) if len(counts) > 1 else await db.execute(counts[0])
    return [grams[i] for i, n in rows.all() if n <= RARE]


async def rare_trigrams(db: AsyncSession, field: str | None, folded: str) -> list[str]:
    """The trigrams of the case-folded ``folded`` found in at most ``RARE`` contacts:
    in any indexed field on SQLite (``field`` None), in ``field`` on PostgreSQL.

    Counted once per text and engine and then remembered for ``RARE_CACHE_SECONDS``
    (the counting is most of the cost of a lookup that then reads a few rows)."""
    key = (db.get_bind().dialect.name, field or "", folded)
    now = time.monotonic()
    cached = _rare_cache.get(key)
    if cached is not None and now - cached[0] < RARE_CACHE_SECONDS:
        return list(cached[1])
    rare = await _count_rare(db, field, trigrams(folded))
    if len(_rare_cache) >= RARE_CACHE_SIZE:
        _rare_cache.clear()
    _rare_cache[key] = (now, tuple(rare))
    return rare


def forget_rare_trigrams() -> None:
    """Drop every remembered count (tests that count statements start from none)."""
    _rare_cache.clear()


async def fts_query(db: AsyncSession, terms: Sequence[tuple[Sequence[str], str]]) -> str | None:
    """On SQLite, an FTS5 query for the rows where some ``(fields, text)`` pair may hold
    (one of ``fields`` contains ``text``): a superset of them, to be ANDed with the
    definition. None on other engines, and when a text is too short for trigrams.

    A phrase query reads every trigram's row list, and an email's trigrams are mostly
    in every row ("@ex", ".co"): 5-12 ms over 80,000 contacts. So each text is narrowed
    by its rare trigrams only (found in at most ``RARE`` rows; "e7." of "@example7.":
    0.2 ms), and by the whole phrase only when it has none."""
    if db.get_bind().dialect.name != "sqlite":
        return None
    parts = []
    for fields, text in terms:
        if not indexable(text):
            return None
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"not in the trigram index: {sorted(unknown)}")
        folded = text.lower()
        rare = await rare_trigrams(db, None, folded)
        narrowest = " AND ".join(map(_phrase, rare)) if rare else _phrase(folded)
        parts.append("{" + " ".join(fields) + "} : (" + narrowest + ")")
    return " OR ".join(parts) if parts else None


def narrowed(contact_id: Any, query: str | None) -> ColumnElement[bool]:
    """``contact_id`` among the candidates of an FTS query (``fts_query``); no condition
    without one. Always AND it with the definition: the candidates are a superset."""
    if query is None:
        return true()
    return contact_id.in_(select(_fts.c.rowid).where(_match(query)))  # type: ignore[no-any-return]


async def matching_contact_ids(
    db: AsyncSession, field: str, text: str, limit: int
) -> list[int] | None:
    """The ids of the contacts whose ``field`` contains ``text``, found through the
    index; None when there are more than ``limit``, or when no index serves ``text``.

    On SQLite the FTS table drives (each candidate then checked by the definition), so
    the ``LIMIT`` stops reading candidates once enough have matched; on PostgreSQL the
    GIN index is read for the text's rare trigrams (``_pg_narrowed``)."""
    if field not in FIELDS or not indexable(text):
        return None
    condition = contains(getattr(Contact, field), text)
    query = await fts_query(db, [((field,), text)])
    if query is None:
        found = select(Contact.id).where(await _pg_narrowed(db, field, text, condition))
    else:
        found = (
            select(Contact.id)
            .select_from(_fts)
            .join(Contact, Contact.id == _fts.c.rowid)
            .where(_match(query), condition)
        )
    ids = list(await db.scalars(found.limit(limit + 1)))
    return ids if len(ids) <= limit else None


async def _pg_narrowed(
    db: AsyncSession, field: str, text: str, condition: ColumnElement[bool]
) -> ColumnElement[bool]:
    """On PostgreSQL, ``condition`` (the definition for ``field`` and ``text``) with the
    GIN index read for the text's rare trigrams only, when it has some.

    Each rare trigram is a ``LIKE`` of its own (the same index expression, so the index
    serves it), and the definition is written ``IS TRUE``: the planner does not take
    that form as an index condition, so it rechecks the few rows the rare trigrams find
    instead of intersecting the row lists of the common ones. The phone's index is on
    the field as it is, not ``lower(phone)``: it keeps the definition alone."""
    if db.get_bind().dialect.name != "postgresql" or field == "phone":
        return condition
    narrowed = await _pg_rare_condition(db, Contact, field, text)
    return condition if narrowed is None else narrowed


async def _pg_rare_condition(
    db: AsyncSession, contact: Any, field: str, text: str
) -> ColumnElement[bool] | None:
    """The definition on ``contact`` (the model or an alias), read through the text's
    rare trigrams (``_pg_narrowed``); None when it has none."""
    rare = await rare_trigrams(db, field, text.lower())
    if not rare:
        return None
    column = getattr(contact, field)
    return and_(*(contains(column, gram) for gram in rare), contains(column, text).is_(True))


# The contacts of ``rare_matches``: an alias, so the subquery never correlates with a
# Contact the outer query joins.
_MATCHED = aliased(Contact, name="matched_contact")


async def rare_matches(db: AsyncSession, field: str, text: str) -> Select[Any] | None:
    """On PostgreSQL, a query for the ids of the contacts whose ``field`` contains
    ``text`` (exactly the definition's), when the text has rare trigrams in that field:
    then at most ``RARE`` contacts when they were counted. None on other engines, for
    the phone and for other texts. For inside a larger statement, like
    ``rare_candidates``."""
    if db.get_bind().dialect.name != "postgresql" or field not in FIELDS or field == "phone":
        return None
    if not indexable(text):
        return None
    condition = await _pg_rare_condition(db, _MATCHED, field, text)
    return None if condition is None else select(_MATCHED.id).where(condition)


async def rare_candidates(db: AsyncSession, field: str, text: str) -> Select[Any] | None:
    """On SQLite, a query for the ids of the contacts whose ``field`` may contain
    ``text``, when the text has rare trigrams: the FTS rows holding all of them, at
    most ``RARE`` when they were counted. A superset: AND it with the definition.
    None on other engines and for other texts.

    Meant for inside a larger statement that tests the definition only on the rows it
    keeps (a custom inbox's page: about 30 contacts read instead of 825, and the ids
    never come to Python and back)."""
    if db.get_bind().dialect.name != "sqlite" or field not in FIELDS or not indexable(text):
        return None
    rare = await rare_trigrams(db, None, text.lower())
    if not rare:
        return None
    query = "{" + field + "} : (" + " AND ".join(map(_phrase, rare)) + ")"
    return select(_fts.c.rowid).where(_match(query))
