"""Media: the attachment store and its file limits, signed media links, and the media
bookkeeping of a message part; used by the inbox domain and the channel pipes alike."""
