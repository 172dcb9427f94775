"""Cluster mode: Rasa replicas and action servers behind nginx, conversations in PostgreSQL,
a Redis lock store. `make cluster` (ops.cluster.run) starts it all on loopback; see README,
"Beyond one machine"."""
