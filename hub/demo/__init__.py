"""The demo workspace: ``hub demo`` fills an empty hub with people, channels and
conversations (``seed``), and a loopback service (``echo``) plays the customers who
answer the agents' replies.

Between ``hub.app`` (which mounts the echo) and ``hub.wiring``: the seeder works on a
started app's shared state, through the same domain functions as the API.
"""
