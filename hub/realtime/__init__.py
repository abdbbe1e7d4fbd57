"""Realtime: the agents' websocket and typing presence, fed by ``hub.events``."""
