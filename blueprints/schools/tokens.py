"""Link tokens that can be shown again without being stored.

The token is an HMAC of SECRET_KEY over a random nonce; the database keeps the
nonce and the token's SHA-256 (for lookup), never the token itself.
"""
import hashlib
import hmac
import base64
import secrets

from flask import current_app


def token_for(kind, nonce):
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{kind}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind):
    """(nonce, token, token_hash) for a new link of ``kind`` («invite», «parent»)."""
    nonce = secrets.token_hex(16)
    token = token_for(kind, nonce)
    return nonce, token, hash_token(token)
