"""The assistant's processes. `ops.serve`: `make run` and `make shell`; `ops.cluster`: `make cluster`;
`ops.web`: the page with the chat widget. What they, the benchmark and the tests share:
`ops.processes` (start, await, stop), `ops.environment` (the servers' environment),
`ops.rest_client` (the REST channel from outside), `ops.console` (what the terminal shows)."""
