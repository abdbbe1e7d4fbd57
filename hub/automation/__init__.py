"""Automation: the action vocabulary (``actions``) and macros that run a list of actions
on a conversation. Rules (event, conditions, actions) will use the same vocabulary."""
