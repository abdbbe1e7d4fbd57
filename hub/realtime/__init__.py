"""Realtime: the event bus between hub processes and the agents' websockets."""
