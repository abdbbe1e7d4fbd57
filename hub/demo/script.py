"""The demo workspace as data: who works there, which customers write, and what has
happened in each conversation by the time a newcomer logs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hub.inbox.priority import Priority

State = Literal["open", "assigned", "team", "snoozed", "closed"]


@dataclass(frozen=True)
class Person:
    """A user of the demo: email, name, role, visibility, team."""

    email: str
    name: str
    role: Literal["owner", "manager", "agent"]
    team: str | None
    visibility: Literal["all", "team", "assigned"] = "all"


@dataclass(frozen=True)
class Story:
    """One conversation: the customer, their channel, what was said and where it stands.

    ``said`` alternates by prefix: "<" the customer, ">" the agent's reply, "#" an
    internal comment; "<img:" is a customer's photo with a caption."""

    sender_id: str
    name: str
    channel: int
    said: tuple[str, ...]
    state: State
    agent: str | None = None
    team: str | None = None
    note: str | None = None
    email: str | None = None
    hours_ago: float = 1.0
    extra: dict[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    priority: Priority = "none"


TEAMS = ("Support", "Sales")
PEOPLE = (
    Person("owner@demo.example", "Olivia Owner", "owner", None),
    Person("maya@demo.example", "Maya Manager", "manager", "Support"),
    Person("sam@demo.example", "Sam Support", "agent", "Support"),
    Person("sofia@demo.example", "Sofia Silva", "agent", "Support"),
    Person("leo@demo.example", "Leo Sales", "agent", "Sales"),
    Person("lina@demo.example", "Lina Lind", "agent", "Sales", visibility="team"),
)
CHANNELS = ("Website chat", "Mobile app")
STORIES = (
    Story(
        "web-ada",
        "Ada Lovelace",
        0,
        (
            "<Hi! My order #1042 has not arrived yet.",
            ">Sorry about that, Ada. Let me check with the courier.",
            "#Courier says it is stuck in Lisbon — @Maya can we refund the shipping?",
            "<Any news?",
        ),
        "assigned",
        agent="sam@demo.example",
        email="ada@example.com",
        hours_ago=0.2,
    ),
    Story(
        "web-grace",
        "Grace Hopper",
        0,
        ("<img:This is the lamp I got. The shade is cracked.", "<Can I get a replacement?"),
        "open",
        email="grace@example.com",
        hours_ago=0.5,
        labels=("Refund",),
        priority="high",
    ),
    Story(
        "app-linus",
        "Linus Pauling",
        1,
        ("<Do you offer a discount for 20 units?", "#Big order — Sales, who takes it?"),
        "team",
        team="Sales",
        hours_ago=1.5,
        labels=("Sales lead", "VIP"),
        priority="medium",
    ),
    Story(
        "app-marie",
        "Marie Curie",
        1,
        (
            "<I'll send you the serial number tomorrow.",
            ">Great, I'll look out for it.",
            "#Snoozed until she writes back.",
        ),
        "snoozed",
        agent="sofia@demo.example",
        hours_ago=3,
    ),
    Story(
        "web-alan",
        "Alan Turing",
        0,
        (
            "<How do I reset my password?",
            ">Use 'Forgot password' on the login page; the link is valid for an hour.",
            "<Worked, thanks!",
        ),
        "closed",
        agent="sam@demo.example",
        note="Password reset explained.",
        hours_ago=5,
    ),
    Story(
        "app-katherine",
        "Katherine Johnson",
        1,
        (
            "<img:Here is the receipt for the return.",
            ">Thank you, the refund is on its way.",
            "<👍",
        ),
        "assigned",
        agent="leo@demo.example",
        hours_ago=2,
        labels=("Refund",),
    ),
    Story(
        "app-ada",
        "Ada Lovelace",
        1,
        ("<Writing from the app too: the tracking link is broken.",),
        "open",
        email="ada@example.com",
        hours_ago=0.1,
        labels=("Bug",),
        priority="urgent",
    ),
    Story(
        "web-hedy",
        "Hedy Lamarr",
        0,
        ("<Is the blue model back in stock?", ">Yes, since this morning!"),
        "assigned",
        agent="sofia@demo.example",
        hours_ago=4,
    ),
)
# The labels the demo's admin made: name, palette colour, description.
LABELS = (
    ("Bug", "red", "Something in the shop or the app is broken"),
    ("Refund", "green", "Returns, refunds and replacements"),
    ("Sales lead", "blue", "A customer who may buy more"),
    ("VIP", "purple", None),
)
# The demo's SLA policy, on every conversation left open: name and targets in minutes
# (first reply, next reply, resolution); the header and rows show their due times.
SLA_POLICY = ("Standard", 60, 120, 60 * 24)
SNIPPETS = (
    ("Greeting", "hi", "Hi $contact.first_name|there, thanks for writing to us! How can I help?"),
    (
        "Shipping times",
        "shipping",
        "Orders ship within 2 working days; delivery takes 3 to 5 more.",
    ),
    ("Goodbye", "bye", "Glad I could help. Have a great day! — $agent.first_name"),
)
