"""Starting, waiting for and stopping the assistant's processes: `make run` and `make shell`
(`ops.serve`), the cluster (`ops.cluster`), the web page with the chat widget (`ops.web`); the
benchmark and the tests start servers through the same `ops.processes`."""
