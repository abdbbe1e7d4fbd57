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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
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


async def _rare(db: AsyncSession, grams: Sequence[str]) -> list[str]:
    """Those of ``grams`` found in at most ``RARE`` rows (any field), counted in one
    statement that stops reading each one's rows at ``RARE + 1``."""
    counts = [
        select(literal(i), func.count()).select_from(
            select(_fts.c.rowid).where(_match(_phrase(gram))).limit(RARE + 1).subquery()
        )
        for i, gram in enumerate(grams)
    ]
    rows = await db.execute(union_all(*counts)) if len(counts) > 1 else await db.execute(counts[0])
    return [grams[i] for i, n in rows.all() if n <= RARE]


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
        rare = await _rare(db, trigrams(folded))
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
    GIN index serves the definition itself."""
    if field not in FIELDS or not indexable(text):
        return None
    condition = contains(getattr(Contact, field), text)
    query = await fts_query(db, [((field,), text)])
    if query is None:
        found = select(Contact.id).where(condition)
    else:
        found = (
            select(Contact.id)
            .select_from(_fts)
            .join(Contact, Contact.id == _fts.c.rowid)
            .where(_match(query), condition)
        )
    ids = list(await db.scalars(found.limit(limit + 1)))
    return ids if len(ids) <= limit else None
