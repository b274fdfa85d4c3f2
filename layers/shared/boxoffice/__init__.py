"""The box office's shared package: every Lambda function imports it from the layer.

Imports point inward: http/auth -> logic -> store. Nothing here imports a function or the
local runtime (devserver/), which is never deployed.
"""
