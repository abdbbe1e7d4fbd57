"""Echo: a minimal example channel plugin for Inbox Hub."""
