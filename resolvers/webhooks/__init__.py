"""GraphQL of webhook endpoints and their deliveries."""
