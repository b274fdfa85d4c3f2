"""The local runtime: never deployed.

It reads template.yaml, serves the API over HTTP by turning each request into an API Gateway
HTTP API (payload 2.0) event and calling the function's handler in-process, and embeds moto's
DynamoDB server with every call serialised.
"""
