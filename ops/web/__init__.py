"""The web page that hosts the chat widget (static files and their small server)."""
