"""`make mutation`: mutmut over boxoffice's store/ and logic/, each mutant against the unit and
integration tests that run its function. Slow, so never in CI; niced and time-boxed.

mutmut names a module by its path (with `src/` stripped) and the package lives in layers/shared/,
so the run happens in a staging copy, .mutation/, where the package is src/boxoffice. A run of the
whole selection takes hours on two cores: MUTATION_MINUTES bounds it, and mutmut runs the mutants
whose tests are fastest first. A fixed random sample of MUTATION_SAMPLE mutants runs (the same one
each time: scores compare), drawn from those whose names match the arguments (fnmatch), if any, e.g.
`make mutation MUTANTS='boxoffice.store.bookings.x_create*'`; MUTATION_TESTS (paths) narrows the
tests. `mutmut show <name>`, run in .mutation/, prints one mutant's diff.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".mutation"
COPIED = ["tests", "devserver", "functions", "events", "scripts", "template.yaml", "samconfig.toml"]
# The repository's documents, which tests hold the code to (README tour, DEPLOY.md prices, pins).
COPIED += ["README.md", "CONTRIBUTING.md", "docs", "Makefile", "constraints.txt"]
COPIED += [path.name for path in sorted(ROOT.glob("requirements*.txt"))]
# Every test reaches the DynamoDB plumbing (store/dynamo.py): its mutants would each run the whole suite.
CONFIG = """
[tool.mutmut]
source_paths = ["src/boxoffice"]
only_mutate = ["src/boxoffice/store/*", "src/boxoffice/logic/*"]
do_not_mutate = ["src/boxoffice/store/dynamo.py"]
pytest_add_cli_args_test_selection = [{tests}]
# The OpenAPI drift check, the cold-import check and the pin check read layers/, which the staging copy moves.
# The thread races over the embedded moto server time out under a niced, loaded run (a timed-out
# transaction is retried, and moto ignores ClientRequestToken), so they stay out: every condition
# they guard also has a deterministic race in tests/integration/test_transaction_races.py.
pytest_add_cli_args = [
    "-p", "no:cacheprovider", "--ignore=tests/unit/test_openapi.py", "--ignore=tests/unit/test_cold_start.py",
    "--ignore=tests/unit/test_requirements.py",
    "--ignore=tests/integration/test_accounts_race.py", "--ignore=tests/integration/test_bookings_concurrency.py",
    "--ignore=tests/integration/test_events_capacity_race.py", "--ignore=tests/integration/test_holds_concurrency.py",
    "--ignore=tests/integration/test_ticket_types_concurrency.py",
    "--ignore=tests/integration/test_waitlist_concurrency.py",
    "--ignore=tests/integration/test_embedded_dynamodb_lock.py",
    "-p", "mutation_streams",
]
also_copy = [{copied}]
"""


# mutmut runs pytest in its own process with stdout swapped for a buffer it later closes; the Powertools
# logger, made while that buffer was stdout, would keep writing to the closed buffer.
STREAMS_PLUGIN = """import sys

import pytest


@pytest.fixture(autouse=True)
def _logger_stream_is_open() -> None:
    from boxoffice.observability import logger

    if getattr(logger.registered_handler.stream, "closed", False):
        logger.registered_handler.stream = sys.stdout
"""


def stage() -> None:
    """A copy of the repository with the package at src/boxoffice and pytest pointed at it. mutmut's
    own mutants/ stays: it regenerates only the mutants of files that changed."""
    for name in ["src", *COPIED]:
        path = STAGE / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    shutil.copytree(ROOT / "layers" / "shared" / "boxoffice", STAGE / "src" / "boxoffice")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, STAGE / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, STAGE / name)
    # Every handler call in the tests checks its answer against the shipped OpenAPI document.
    document = Path("layers") / "shared" / "boxoffice" / "openapi.json"
    shutil.rmtree(STAGE / "layers", ignore_errors=True)
    (STAGE / document).parent.mkdir(parents=True)
    shutil.copy2(ROOT / document, STAGE / document)
    (STAGE / "mutation_streams.py").write_text(STREAMS_PLUGIN)
    settings = (ROOT / "pyproject.toml").read_text()
    settings = re.sub(r"pythonpath = \[[^\]]*\]", 'pythonpath = ["src", "."]', settings)
    copied = ", ".join(f'"{name}"' for name in [*COPIED, "mutation_streams.py", "layers"])
    # MUTATION_TESTS narrows the tests (mutmut first runs all of them once to map tests to functions).
    tests = ", ".join(f'"{t}"' for t in os.environ.get("MUTATION_TESTS", "tests/unit tests/integration").split())
    (STAGE / "pyproject.toml").write_text(settings + CONFIG.format(copied=copied, tests=tests))


MUTMUT = [str(Path(sys.executable).parent / "mutmut")]


def results() -> dict[str, str]:
    """Every generated mutant's name and status."""
    out = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=STAGE, capture_output=True, text=True).stdout
    return {
        name.strip(): status.strip() for name, _, status in (line.rpartition(":") for line in out.splitlines()) if name
    }


def mutmut_run(patterns: list[str], deadline: float) -> None:
    seconds = max(0, deadline - time.monotonic())
    command = ["nice", "-n", "19", "timeout", f"{seconds:.0f}", *MUTMUT, "run", "--max-children", "2", *patterns]
    subprocess.run(command, cwd=STAGE, check=False)  # a timeout keeps the results of the mutants that finished


def main() -> int:
    deadline = time.monotonic() + float(os.environ.get("MUTATION_MINUTES", "25")) * 60
    stage()
    if not results():  # first run: generate every mutant and map tests to functions, on a small function
        mutmut_run(["boxoffice.logic.bookings.x_fingerprint*"], deadline)
    wanted = sys.argv[1:] or ["*"]
    chosen = [name for name in sorted(results()) if any(fnmatch(name, p) for p in wanted)]
    patterns = random.Random(0).sample(chosen, min(len(chosen), int(os.environ.get("MUTATION_SAMPLE", "150"))))
    mutmut_run(patterns, deadline)
    statuses = Counter(status for name, status in results().items() if any(fnmatch(name, p) for p in patterns))
    print("\n".join(f"survived: {name}" for name, status in results().items() if status == "survived"))
    killed, survived = statuses["killed"] + statuses["timeout"], statuses["survived"]
    tested = killed + survived
    score = f"{killed / tested:.0%}" if tested else "n/a"
    print(f"mutants: {dict(statuses)}; score {score} ({killed} of {tested} run to a result)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
