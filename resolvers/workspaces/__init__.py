"""The caller's workspace over GraphQL: key rotation."""
