"""In-app notifications: decisions on requests, new requests for those who decide."""
