"""The CRM sync engine: connections, links and cached values, field edits with conflict
checks, pulls, pushes and webhooks, transcripts exactly once, bulk first links.

No HTTP handlers live here (they are in ``hub.api``); the plugins are reached only
through the ``CrmType`` contract.
"""
