"""Domain rules: who may do what and what changes together. No HTTP, no DynamoDB wire format."""
