"""The domain agents work in: conversations, views, contacts, comments, snippets, search.

Nothing here knows about HTTP; ``hub.api`` parses requests and calls these functions.
"""
