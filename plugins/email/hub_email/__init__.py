"""Email (IMAP and SMTP) channel for Inbox Hub."""
