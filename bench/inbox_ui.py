"""Benchmark the agents' inbox: its page and fragments over HTTP, and how soon a new
message shows in a real browser while 200 other agents are connected.

Seeds a fresh database like ``inbox_views.py`` (the 100k-conversation seed by default),
starts ``hub serve`` in a subprocess and measures two things:

1. **Pages and fragments**: ``/inbox`` and every fragment the page's scripts fetch (the
   next page of rows, one row, the sidebar, a conversation's page, pane, newest and
   older timeline pages, header), one request at a time after a warm-up, as a manager
   and as a team-restricted agent, logged in with a session cookie. Target p95 ≤ 50 ms.
2. **Webhook to DOM**: a headless Chromium (Debian's, as the browser tests use) shows the
   manager's inbox while ``--sockets`` other websocket clients are connected; signed
   custom-channel messages are posted one after another and, for each, the time from the
   webhook's 200 to the row carrying its text being added to the page's list is taken
   (both clocks are this machine's wall clock). Target p99 ≤ 100 ms.

    .venv/bin/python bench/inbox_ui.py --db sqlite
    .venv/bin/python bench/inbox_ui.py --conversations 10000 --messages 100000 --requests 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from bench_support import (
    connect_custom_channel,
    fresh_database,
    hub_server,
    percentile_table,
    seeded_parser,
    signed,
)
from playwright.async_api import async_playwright
from seed_inbox import Shape, issue_tokens, mark_reports_built, seed, team_of
from sqlalchemy import select

from hub.auth.sessions import COOKIE_NAME, start_session
from hub.store import migrate
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import Conversation, User

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
# The row of a shared link's two responses (the page, then its pane), shown beside the
# targets but not one itself.
LINK = "link: page, then pane"
# The row's text the page must show: the message's own marker.
ROW_SEEN_SCRIPT = """
() => {
  window.benchSeen = {};
  new MutationObserver((mutations) => {
    const now = Date.now();
    for (const m of mutations) for (const node of m.addedNodes) {
      if (!(node instanceof Element) || !node.matches('#rows .row')) continue;
      const found = /bench-marker-(\\d+)/.exec(node.textContent);
      if (found && !(found[1] in window.benchSeen)) window.benchSeen[found[1]] = now;
    }
  }).observe(document.getElementById('rows'), { childList: true });
}
"""


@dataclass(frozen=True)
class Who:
    """A measured user: their session cookie and a conversation they may open."""

    cookie: str
    conversation_id: int


async def sessions_for(url: str, shape: Shape) -> dict[str, Who]:
    """Log the manager (user 1) and the team agent (user 2) in, straight in the store."""
    engine = create_engine(url)
    people: dict[str, Who] = {}
    async with create_sessionmaker(engine)() as db:
        for label, user_id, where in (
            ("manager", 1, Conversation.id > 0),
            ("team agent", 2, Conversation.team_id == team_of(2, shape)),
        ):
            user = await db.get(User, user_id)
            if user is None:
                raise SystemExit("not a bench database: user 1 or 2 is missing")
            cookie, _ = await start_session(db, user, days=1, ip=None, user_agent="bench")
            conversation = await db.scalar(
                select(Conversation.id).where(where).order_by(Conversation.id.desc()).limit(1)
            )
            people[label] = Who(cookie, int(conversation or 1))
        await db.commit()
    await engine.dispose()
    return people


async def second_page(client: aiohttp.ClientSession, cookie: str, path: str) -> str:
    """The "more" link of a list's first page (the next page's cursor), as the page has it."""
    async with client.get(path, headers={"Cookie": f"{COOKIE_NAME}={cookie}"}) as response:
        html = await response.text()
    marker = "data-more-url"
    at = html.find(marker)
    if at < 0:
        return path
    start = html.rfind('href="', 0, at) + len('href="')
    return html[start : html.index('"', start)].replace("&amp;", "&")


async def measure_pages(
    base: str, people: dict[str, Who], requests: int, warmup: int
) -> list[tuple[str, list[float], str | None]]:
    """Time every page and fragment, one request at a time on one keep-alive connection."""
    results: list[tuple[str, list[float], str | None]] = []
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(base, connector=connector) as client:
        for label, who in people.items():
            view = "all" if label == "manager" else "mine"
            c = who.conversation_id
            paths: dict[str, str | tuple[str, ...]] = {
                "/inbox": f"/inbox?view={view}",
                "rows, page 2": await second_page(client, who.cookie, f"/inbox/rows?view={view}"),
                "one row": f"/inbox/rows/{c}?view={view}&status=all",
                "sidebar": f"/inbox/sidebar?view={view}",
                "conversation page": f"/inbox/conversations/{c}?view={view}",
                "pane": f"/inbox/conversations/{c}/pane?view={view}",
                # What a shared link costs in all: the page, then the pane its script
                # fetches (two responses, each a row above; their sum is no target).
                LINK: (
                    f"/inbox/conversations/{c}?view={view}",
                    f"/inbox/conversations/{c}/pane?view={view}",
                ),
                "newest timeline": f"/inbox/conversations/{c}/latest",
                "header": f"/inbox/conversations/{c}/head?view={view}",
            }
            headers = {"Cookie": f"{COOKIE_NAME}={who.cookie}"}
            for name, path in paths.items():
                samples: list[float] = []
                error = None
                for i in range(warmup + requests):
                    started = time.perf_counter()
                    for one in (path,) if isinstance(path, str) else path:
                        async with client.get(
                            one, headers=headers, allow_redirects=False
                        ) as response:
                            await response.read()
                        if response.status not in (200, 204):
                            error = f"HTTP {response.status}"
                            break
                    elapsed = (time.perf_counter() - started) * 1000
                    if error:
                        break
                    if i >= warmup:
                        samples.append(elapsed)
                results.append((f"{label}: {name}", samples, error))
    return results


async def listen(base: str, token: str, stop: asyncio.Event, counts: list[int]) -> None:
    """One more connected agent: a websocket that reads (and counts) every event."""
    ws_url = base.replace("http", "ws", 1) + "/ws"
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(ws_url, headers=headers, heartbeat=30) as socket,
    ):
        reader = asyncio.ensure_future(socket.receive())
        stopping = asyncio.ensure_future(stop.wait())
        while True:
            done, _ = await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping in done:
                reader.cancel()
                return
            message = reader.result()
            if message.type != aiohttp.WSMsgType.TEXT:
                stopping.cancel()
                return
            counts[0] += 1
            reader = asyncio.ensure_future(socket.receive())


async def measure_dom(
    base: str, token: str, manager: Who, sockets: int, messages: int, gap: float
) -> tuple[list[float], int, int]:
    """Webhook 200 → row in the browser's list, per message (ms); how many rows never
    showed; how many events the other sockets received."""
    channel_id, secret = await connect_custom_channel(base, token, "UI bench")
    stop = asyncio.Event()
    counts = [0]
    listeners = [asyncio.create_task(listen(base, token, stop, counts)) for _ in range(sockets)]
    answered: dict[int, float] = {}
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = await browser.new_context(base_url=base)
        host = base.split("//", 1)[1].split(":")[0]
        await context.add_cookies(
            [{"name": COOKIE_NAME, "value": manager.cookie, "domain": host, "path": "/"}]
        )
        page = await context.new_page()
        await page.goto("/inbox?view=all")
        # A selector, not wait_for_function("…"): polling a string expression evaluates
        # it in the page, which the hub's CSP (no 'unsafe-eval') refuses when the
        # socket is not live at the first look.
        await page.locator("body[data-socket='live']").wait_for(state="attached")
        await page.evaluate(ROW_SEEN_SCRIPT)
        async with aiohttp.ClientSession() as client:
            for n in range(messages):
                event = {
                    "type": "message",
                    "id": f"ui-bench-{n}",
                    "timestamp": datetime.now(UTC).isoformat(),
                    "sender": {"id": f"ui-bench-{n % 5}", "name": f"Bench customer {n % 5}"},
                    "text": f"bench-marker-{n}",
                }
                body = json.dumps(event).encode()
                url = f"{base}/webhooks/{channel_id}"
                async with client.post(url, data=body, headers=signed(secret, body)) as response:
                    if response.status != 200:
                        raise SystemExit(f"webhook answered {response.status}")
                answered[n] = time.time() * 1000
                await asyncio.sleep(gap)
        await asyncio.sleep(2)  # the last rows' time to arrive
        seen: dict[str, float] = await page.evaluate("window.benchSeen")
        await browser.close()
    stop.set()
    await asyncio.gather(*listeners, return_exceptions=True)
    latencies = [seen[str(n)] - at for n, at in answered.items() if str(n) in seen]
    return latencies, len(answered) - len(latencies), counts[0]


async def run(args: argparse.Namespace) -> None:
    """Create, migrate, seed, serve, measure, print."""
    shape = Shape(args.conversations, args.messages, args.agents, args.teams, args.seed)
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-ui-"))
    try:
        async with fresh_database(args.db, args.database_url, folder, False) as url:
            engine = create_engine(url)
            await migrate.upgrade(engine)
            started = time.perf_counter()
            await seed(engine, shape)
            await mark_reports_built(engine)
            print(f"seeded {shape} in {time.perf_counter() - started:.1f} s", flush=True)
            tokens = await issue_tokens(engine)
            await engine.dispose()
            people = await sessions_for(url, shape)
            load_before = os.getloadavg()[0]
            async with hub_server(url, folder) as base:
                pages = await measure_pages(base, people, args.requests, args.warmup)
                # Printed now: a failure in the browser part must not lose these.
                print(
                    f"\n## Pages and fragments (target p95 ≤ {args.pages_target:g} ms), "
                    f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n"
                )
                untargeted = [label for label, _, _ in pages if label.endswith(LINK)]
                print(percentile_table(pages, args.pages_target, untargeted=untargeted), flush=True)
                dom, missed, events = await measure_dom(
                    base,
                    tokens["manager"],
                    people["manager"],
                    args.sockets,
                    args.dom_messages,
                    args.gap,
                )
            load_after = os.getloadavg()[0]
        print(
            f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{args.db}, load average {load_before:.1f} before, {load_after:.1f} after\n"
        )
        print(
            f"\n## Webhook 200 → row in the browser's DOM, {args.sockets} other sockets "
            f"connected (target p99 ≤ {args.dom_target:g} ms)\n"
        )
        print(percentile_table([("new message → row", dom, None)], args.dom_target))
        print(f"\nrows never seen: {missed}; events received by the other sockets: {events}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = seeded_parser((__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="measured requests per row")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--sockets", type=int, default=200, help="other connected agents")
    parser.add_argument("--dom-messages", type=int, default=100, help="messages posted")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between messages")
    parser.add_argument("--pages-target", type=float, default=50.0)
    parser.add_argument("--dom-target", type=float, default=100.0)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: install Debian's chromium (or set HUB_TEST_CHROMIUM)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
