"""The two pipes between the hub and the channels (webhooks and polling in, the outbox out),
the channel registry, and channel administration."""
