"""Segments over GraphQL: CRUD, members, history, preview, explain, subscription."""
