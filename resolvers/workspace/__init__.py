"""The caller's workspace over GraphQL: which one the key opens, and key rotation."""
