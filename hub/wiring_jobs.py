"""Wiring of the background jobs: the start/stop generators (aiohttp ``cleanup_ctx``)
that run the periodic jobs while the app runs; ``hub.app`` lists them in start order,
after ``hub.wiring``'s shared state they use.

A new periodic job goes in ``periodic_jobs``: a function and how often it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from hub import appkeys
from hub.auth.api_tokens import LAST_USED_RESOLUTION
from hub.auth.audit_retention import prune_audit_log
from hub.auth.token_uses import write_token_uses
from hub.automation.rule_runner import BUILTIN_NAME as RULES_NAME
from hub.automation.rule_runner import RuleRunner, RulesPlugin
from hub.channels.log_retention import prune_inbound_log
from hub.inbox.availability import CHECK_SECONDS as AVAILABILITY_CHECK_SECONDS
from hub.inbox.bulk import POLL_SECONDS as BULK_POLL_SECONDS
from hub.inbox.bulk import run_due_jobs
from hub.inbox.csat import send_surveys
from hub.inbox.idempotency import prune_idempotency_keys
from hub.inbox.jobs import (
    check_service_levels,
    follow_availability_schedules,
    forget_counts_on_change,
    run_periodically,
    run_when_woken,
    wake_on_close,
    wake_snoozes,
)
from hub.inbox.out_of_hours import BUILTIN_NAME as OUT_OF_HOURS_NAME
from hub.inbox.out_of_hours import OutOfHoursReplies
from hub.inbox.report_build import JOB_REST, build_stale
from hub.store.job_lock import run_exclusively
from hub.store.pruning import PRUNE_EVERY_SECONDS

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

# How often the realtime event log is pruned: often enough that it stays about
# HUB_REALTIME_REPLAY_SECONDS long, and in short transactions.
REALTIME_PRUNE_SECONDS = 60.0
# How often the no-reply rules look for customers waiting: their minutes are whole.
RULE_TIMER_SECONDS = 30.0


def one_process_at_a_time(app: web.Application, name: str, job: Job) -> Job:
    """``job``, skipped while another hub process on the database runs it (an advisory
    lock, hub.store.job_lock): for the jobs that would only repeat each other's work.
    The others claim their rows and run in every process (docs/configuration.md,
    "Several processes")."""

    async def exclusive() -> None:
        await run_exclusively(app[appkeys.ENGINE], name, job)

    exclusive.__name__ = name  # what run_periodically's log names a failed run by
    return exclusive


def periodic_jobs(app: web.Application, stop: asyncio.Event) -> list[tuple[Job, float]]:
    """Every periodic job ``workers_context`` runs, with how often, in seconds: waking
    snoozed conversations, SLA clocks and breaches, the reports' pre-aggregate, bulk jobs, writing when API tokens
    were last used, and deleting what is past its retention (inbound log, audit log,
    idempotency keys, realtime log)."""
    settings = app[appkeys.SETTINGS]
    sessions, bus, observers = app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.OBSERVERS]

    async def wake_snoozes_job() -> None:
        await wake_snoozes(sessions, bus, observers)

    async def sla_job() -> None:
        # The clocks are hub.inbox.sla.hub_clocks(): business hours plug in there.
        await check_service_levels(sessions, bus, observers, every=settings.sla_check_seconds)

    async def report_facts_job() -> None:
        await build_stale(sessions, rest=JOB_REST, stopping=stop.is_set)

    async def prune_inbound_log_job() -> None:
        await prune_inbound_log(
            sessions,
            keep_days=settings.inbound_log_keep_days,
            rejected_keep_days=settings.inbound_log_rejected_keep_days,
        )

    async def prune_audit_log_job() -> None:
        await prune_audit_log(sessions, keep_days=settings.audit_keep_days)

    async def write_token_uses_job() -> None:
        await write_token_uses(sessions, app[appkeys.TOKEN_USES])

    async def prune_idempotency_keys_job() -> None:
        await prune_idempotency_keys(sessions, keep_hours=settings.idempotency_key_hours)

    async def bulk_jobs_job() -> None:
        # Stopping hands a job in progress back (queued) after its current batch.
        await run_due_jobs(
            sessions, bus, observers, stopping=stop.is_set, actions=app[appkeys.BULK_ACTIONS]
        )

    async def prune_realtime_log_job() -> None:
        if bus.journal is not None:
            await bus.journal.prune()

    def once(name: str, job: Job) -> Job:
        return one_process_at_a_time(app, name, job)

    # In every process: the snoozes and SLA clocks take unlocked rows (SKIP LOCKED),
    # bulk jobs are claimed, and the token uses are this process's own memory.
    return [
        (wake_snoozes_job, settings.snooze_check_seconds),
        (sla_job, settings.sla_check_seconds),
        (once("report_facts", report_facts_job), settings.report_build_seconds),
        (once("prune_inbound_log", prune_inbound_log_job), settings.inbound_log_prune_seconds),
        (once("prune_audit_log", prune_audit_log_job), PRUNE_EVERY_SECONDS),
        (write_token_uses_job, LAST_USED_RESOLUTION.total_seconds()),
        (bulk_jobs_job, BULK_POLL_SECONDS),
        (once("prune_idempotency_keys", prune_idempotency_keys_job), PRUNE_EVERY_SECONDS),
        (
            once("prune_realtime_log", prune_realtime_log_job),
            min(REALTIME_PRUNE_SECONDS, settings.realtime_replay_seconds),
        ),
    ]


def csat_job(app: web.Application) -> Job:
    """Sending the CSAT surveys of closed conversations (woken by each closing)."""
    settings = app[appkeys.SETTINGS]

    def page_url(token: str) -> str:
        return f"{(settings.public_url or '').rstrip('/')}/csat/{token}"

    async def job() -> None:
        await send_surveys(
            app[appkeys.SESSIONS],
            app[appkeys.BUS],
            app[appkeys.OBSERVERS],
            app[appkeys.CHANNELS],
            page_url if settings.public_url else None,
        )

    return job


async def workers_context(app: web.Application) -> AsyncIterator[None]:
    """Run the ``periodic_jobs`` and the CSAT surveys while the app runs, and forget the
    sidebar counts on every change; on stop, let a run in progress finish."""
    settings = app[appkeys.SETTINGS]
    bus = app[appkeys.BUS]
    stop, closed = asyncio.Event(), asyncio.Event()
    periodic = [
        asyncio.create_task(run_periodically(job, every=every, stop=stop))
        for job, every in periodic_jobs(app, stop)
    ]
    periodic.append(
        asyncio.create_task(
            run_when_woken(csat_job(app), wake=closed, every=settings.csat_check_seconds, stop=stop)
        )
    )
    listener = asyncio.create_task(forget_counts_on_change(bus, app[appkeys.COUNTS_CACHE]))
    close_listener = asyncio.create_task(wake_on_close(bus, closed))
    yield
    stop.set()
    # Let a run in progress finish its transaction; cancel only if it hangs.
    _, late = await asyncio.wait(periodic, timeout=settings.shutdown_timeout)
    for task in [*late, listener, close_listener]:
        task.cancel()
    await asyncio.gather(*periodic, listener, close_listener, return_exceptions=True)
    try:  # the uses noted since the last run
        await write_token_uses(app[appkeys.SESSIONS], app[appkeys.TOKEN_USES])
    except Exception:
        log.exception("could not write when API tokens were last used")
    await app[appkeys.OBSERVERS].drain(grace=settings.shutdown_timeout)


async def rules_context(app: web.Application) -> AsyncIterator[None]:
    """The automation rules: a built-in observer plugin (it needs the database, the bus,
    the channels and the HTTP client, so it is registered once they exist) and the
    no-reply timer."""
    runner = RuleRunner(
        app[appkeys.SESSIONS],
        app[appkeys.BUS],
        app[appkeys.OBSERVERS],
        channels=app[appkeys.CHANNELS],
        http=app[appkeys.HTTP],
    )
    manager = app[appkeys.PLUGINS]
    manager.register_builtin(RulesPlugin(runner), RULES_NAME)
    follower = asyncio.create_task(runner.follow_changes())

    async def rule_timers_job() -> None:
        await runner.fire_due_timers()

    stop = asyncio.Event()
    timer = asyncio.create_task(
        run_periodically(rule_timers_job, every=RULE_TIMER_SECONDS, stop=stop)
    )
    yield
    stop.set()
    follower.cancel()
    await asyncio.gather(timer, follower, return_exceptions=True)
    if manager.pm.get_plugin(RULES_NAME) is not None:
        manager.pm.unregister(name=RULES_NAME)


async def hours_context(app: web.Application) -> AsyncIterator[None]:
    """Business hours at work: the built-in out-of-hours reply observer (registered like
    a plugin, for this app's database and channels), and the job that makes agents'
    availability follow their schedules."""
    manager = app[appkeys.PLUGINS]
    sessions, bus, observers = app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.OBSERVERS]
    replies = OutOfHoursReplies(sessions, bus, observers, app[appkeys.CHANNELS])
    manager.register_builtin(replies, OUT_OF_HOURS_NAME)
    follower = asyncio.create_task(replies.follow_changes())

    async def availability_schedules_job() -> None:
        await follow_availability_schedules(sessions, bus, observers)

    stop = asyncio.Event()
    # Once at a time: two processes would each announce the same availability change.
    schedules = one_process_at_a_time(app, "availability_schedules", availability_schedules_job)
    job = asyncio.create_task(
        run_periodically(schedules, every=AVAILABILITY_CHECK_SECONDS, stop=stop)
    )
    yield
    stop.set()
    _, late = await asyncio.wait([job], timeout=app[appkeys.SETTINGS].shutdown_timeout)
    for task in [*late, follower]:
        task.cancel()
    await asyncio.gather(job, follower, return_exceptions=True)
    # A manager a test hands to several apps must not keep this app's observer.
    manager.pm.unregister(name=OUT_OF_HOURS_NAME)
