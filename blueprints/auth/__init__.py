"""Accounts: sign-up, sign-in, one-time codes, password reset, the profile."""
