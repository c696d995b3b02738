"""Pulling sales documents from 1C:ERP / 1C:УТ over its standard OData interface.

``settings`` reads the configuration, ``client`` talks HTTP (paging, retries,
errors an administrator can act on), ``documents`` turns 1C documents into the
lines of the 1C CSV export, and ``pull`` lands one pull as one load.
"""
