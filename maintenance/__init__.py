"""The FAQ maintainers' commands: `make sync`, `make report`, `make review`, `make import-faq`,
`make purge` (guide in French: docs/maintenance.md)."""
