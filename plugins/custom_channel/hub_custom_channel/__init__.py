"""Custom channel for Inbox Hub: any messaging service, over signed HTTP."""
