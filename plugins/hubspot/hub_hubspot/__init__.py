"""HubSpot CRM for Inbox Hub."""
