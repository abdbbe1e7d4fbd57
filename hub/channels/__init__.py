"""The two pipes between the hub and the channels, and the media store they share."""
