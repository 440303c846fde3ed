"""The home page, the landing page for guests, contacts and the language switch."""
