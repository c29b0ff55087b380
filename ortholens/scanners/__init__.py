"""Clients for intraoral scanner vendors' clouds (seed 001 "3D Scanner Integration").

Each vendor lives in its own subpackage (`itero`) and speaks only HTTP and plain data: it knows
nothing of the database, the object store or the web app, so the integration service decides where
tokens are kept and what happens to the downloaded files.
"""
