"""The only code that talks to DynamoDB: keys, item shapes, conditions and transactions."""
