"""Salesforce CRM for Inbox Hub."""
