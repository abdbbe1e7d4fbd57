"""Automation: the action vocabulary (``actions``), macros that run a list of actions on a
conversation, and rules (``rules``, ``rule_conditions``, ``rule_actions``,
``rule_runner``): on an event, when conditions hold, actions run as the hub."""
