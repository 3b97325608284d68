"""The control-room hub: officer register, request queue and claims, signalling relay, event
streams, decisions, history and the tamper-evident audit log (FastAPI + SQLAlchemy).

Entry points: `hub.server.HubServer` (run on a thread), `hub.app.create_app` (the ASGI app),
`hub.cli.main` (`safe-connection-hub`). docs/protocol.md is the wire contract.
"""
