"""WhatsApp Business Cloud API channel for Inbox Hub."""
