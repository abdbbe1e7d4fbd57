"""Telegram Bot API channel for Inbox Hub."""
