"""The week editor shared by the business-hours pages and the availability schedule on
/me: what a posted form says (a zone, each day open or not with up to two periods,
holidays kept, removed or added) and the values the editor shows again.

A browser's time input cannot say 24:00, so a period that closes at 00:00 closes at
midnight: it is stored as 24:00 (the same instant), and shown as 00:00 again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from multidict import MultiMapping

from admin_ui.i18n import gettext as _
from admin_ui.locale_format import weekday_names
from hub.errors import Invalid
from hub.inbox.business_hours import DAY_KEYS, INTERVALS_PER_DAY_MAX, Holiday

# Two periods a day in the editor (a lunch break); a day stored with more (through the
# API) shows them all, so saving the page keeps them.
PERIODS_SHOWN = 2
DEFAULT_ZONE = "UTC"


@dataclass
class DayRow:
    """One weekday in the editor: open or closed, and its periods as typed."""

    key: str
    name: str
    open: bool = False
    periods: list[tuple[str, str]] = field(default_factory=list)

    @property
    def slots(self) -> range:
        """The period inputs the editor shows for this day."""
        return range(max(PERIODS_SHOWN, len(self.periods)))

    def period(self, index: int) -> tuple[str, str]:
        """The ``index``-th period as the inputs show it ("" when there is none)."""
        return self.periods[index] if index < len(self.periods) else ("", "")


@dataclass
class WeekForm:
    """What the week editor shows and what a post of it means."""

    time_zone: str = DEFAULT_ZONE
    days: list[DayRow] = field(default_factory=list)
    holidays: list[Holiday] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    new_holiday_date: str = ""
    new_holiday_name: str = ""

    @classmethod
    def of(
        cls,
        time_zone: str,
        week: list[list[list[str]]] | None,
        holidays: list[Holiday] = (),  # type: ignore[assignment]
    ) -> WeekForm:
        """A stored schedule (or, with ``week`` None, a nine-to-five weekday start)."""
        if week is None:
            week = [[["09:00", "17:00"]]] * 5 + [[], []]
        days = [
            DayRow(
                key,
                name,
                bool(stored),
                [(a, "00:00" if b == "24:00" else b) for a, b in stored],
            )
            for key, name, stored in zip(DAY_KEYS, weekday_names(), week, strict=True)
        ]
        return cls(time_zone, days, list(holidays))

    @classmethod
    def posted(cls, form: MultiMapping[Any], *, with_holidays: bool = False) -> WeekForm:
        """The editor's values as posted."""
        days = []
        for key, name in zip(DAY_KEYS, weekday_names(), strict=True):
            periods = []
            for index in range(INTERVALS_PER_DAY_MAX):
                opens = _text(form, f"{key}_opens_{index}")
                closes = _text(form, f"{key}_closes_{index}")
                if opens or closes:
                    periods.append((opens, closes))
            days.append(DayRow(key, name, form.get(f"{key}_open") == "on", periods))
        shown = cls(_text(form, "time_zone") or DEFAULT_ZONE, days)
        if with_holidays:
            shown.new_holiday_date = _text(form, "new_holiday_date")
            shown.new_holiday_name = _text(form, "new_holiday_name")
            removed = set(form.getall("holiday_remove", []))
            for value in form.getall("holiday", []):
                day, _, name = str(value).partition("|")
                if day in removed:
                    continue
                try:
                    shown.holidays.append(Holiday(date.fromisoformat(day), name))
                except ValueError:
                    continue  # a tampered hidden field: dropped
        return shown

    def week(self) -> list[list[tuple[str, str]]]:
        """The periods of each day as the domain takes them; 422 naming the day when a
        day is open without a whole period."""
        week: list[list[tuple[str, str]]] = []
        for day in self.days:
            if not day.open:
                week.append([])
                continue
            if not day.periods:
                raise Invalid(
                    f"week.{day.key}",
                    _("%(day)s: give the opening and closing times") % {"day": day.name},
                )
            pairs = []
            for opens, closes in day.periods:
                if not opens or not closes:
                    raise Invalid(
                        f"week.{day.key}",
                        _("%(day)s: give both the opening and closing time") % {"day": day.name},
                    )
                pairs.append((opens, "24:00" if closes == "00:00" else closes))
            week.append(pairs)
        return week

    def all_holidays(self) -> list[Holiday]:
        """The holidays kept, and the one added (422 naming ``new_holiday_date``)."""
        if not self.new_holiday_date:
            if self.new_holiday_name:
                raise Invalid("new_holiday_date", _("choose the date of the holiday"))
            return list(self.holidays)
        try:
            added = Holiday(date.fromisoformat(self.new_holiday_date), self.new_holiday_name)
        except ValueError:
            raise Invalid("new_holiday_date", _("enter a date such as 2026-12-25")) from None
        if any(h.day == added.day for h in self.holidays):
            raise Invalid("new_holiday_date", _("this date is a holiday already"))
        return [*self.holidays, added]

    def fail(self, err: Invalid) -> None:
        """Put a domain's 422 beside the field it names (``week.monday`` → that day)."""
        for detail in err.details or [{"field": "", "message": err.message}]:
            name = str(detail.get("field") or "")
            parts = name.split(".")
            key = ".".join(parts[:2]) if parts[0] == "week" and len(parts) > 1 else parts[0]
            message = str(detail.get("message") or err.message)
            self.errors.setdefault(
                key or "week",
                message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."),
            )


def _text(form: MultiMapping[Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""
