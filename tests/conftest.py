"""Shared fixtures: settings for tests, moto-backed tables from template.yaml, handler invocation."""

from __future__ import annotations

import os

# Before any boxoffice import: tests never touch real AWS, and hash cheaply (one test checks the deployed cost).
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    BCRYPT_ROUNDS="4",
    JWT_SECRET="test-secret-test-secret-test-secret-0123456789",
    CURSOR_KEY="test-cursor-key-test-cursor-key-0123456789",
    POWERTOOLS_METRICS_NAMESPACE="boxoffice-test",
    POWERTOOLS_SERVICE_NAME="boxoffice",
    POWERTOOLS_DEV="false",
    # Local runtimes mail every booking (a PDF rendered each time) unless told not to: only the mail
    # tests turn it on (tests/integration/test_mail.py).
    MAIL_ENABLED="false",
)

# The key ring is derived (its kid is its key's thumbprint); deriving it reads no settings.
from scripts import ticket_ring

TEST_TICKET_KEYS = ticket_ring.new_ring("test-ticket-key-test-ticket-key-0123456789")
os.environ.update(TICKET_KEYS=TEST_TICKET_KEYS, TICKET_PUBLIC_KEYS=ticket_ring.public_document(TEST_TICKET_KEYS))

pytest_plugins = ["tests.support.fixtures", "tests.support.iam"]

import pytest  # noqa: E402
from _pytest.runner import pytest_runtest_protocol as run_one_test  # noqa: E402

from devserver import deepstack  # noqa: E402

deepstack.install()  # the races' threads


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    """Each test (its fixtures too) on a deep bottom frame: see devserver/deepstack.py."""
    deepstack.run_deep(run_one_test, item, nextitem)
    return True
