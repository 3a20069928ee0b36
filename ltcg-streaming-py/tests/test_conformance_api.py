"""``ltcg_streaming.testing`` is public API: in every build, documented with an example that
runs, and imported only on request."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import ltcg_streaming
import ltcg_streaming.testing as testing
from ltcg_streaming import _ltcg_streaming

README = Path(__file__).resolve().parents[1] / "README.md"


def run_python(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_import_ltcg_streaming_does_not_import_the_testing_module() -> None:
    done = run_python(
        textwrap.dedent(
            """
            import sys
            import ltcg_streaming
            assert "ltcg_streaming.testing" not in sys.modules, "imported with the package"
            assert not hasattr(ltcg_streaming, "testing"), "an attribute of the package"
            assert "run_session_store_conformance" not in ltcg_streaming.__all__
            import ltcg_streaming.testing
            assert "ltcg_streaming.testing" in sys.modules
            print("ok")
            """
        )
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_the_testing_module_exports_the_native_suite_with_docstrings() -> None:
    assert testing.__all__ == ["run_session_store_conformance", "session_store_conformance_checks"]
    assert testing.run_session_store_conformance is _ltcg_streaming.run_session_store_conformance
    assert testing.session_store_conformance_checks is _ltcg_streaming.session_store_conformance_checks
    assert testing.__doc__ and "run_session_store_conformance(MyStore)" in testing.__doc__
    for function in (testing.run_session_store_conformance, testing.session_store_conformance_checks):
        assert function.__doc__ and len(function.__doc__) > 80, function
    assert "factory" in (testing.run_session_store_conformance.__doc__ or "")
    checks = testing.session_store_conformance_checks()
    assert checks[0] == "insert_and_get" and len(checks) == len(set(checks)) >= 15


def readme_example() -> str:
    """The first Python code block of the README's section on checking a store."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Checking a store: `ltcg_streaming.testing`") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no Python example in the section"
    return match.group(1)


def test_the_readme_store_example_passes_the_suite(tmp_path: Path) -> None:
    example = readme_example()
    assert "from ltcg_streaming.testing import" in example
    done = run_python(example, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = len(testing.session_store_conformance_checks())
    assert done.stdout.splitlines() == [f"DictStore passes all {checks} conformance checks"]
    assert f"it prints `DictStore passes all {checks} conformance checks`" in README.read_text()


def test_the_readme_example_reports_a_broken_store(tmp_path: Path) -> None:
    cas = 'if stored["version"] != session["version"]:'
    example = readme_example()
    assert cas in example
    done = run_python(example.replace(cas, "if False:"), cwd=tmp_path)
    assert done.returncode == 1
    assert "FAILED update_is_compare_and_swap: stale update gave" in done.stdout

