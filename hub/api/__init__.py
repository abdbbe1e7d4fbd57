"""The JSON REST API: thin handlers that parse, call the domain and serialize."""
