"""The lock files pin every requirement, and the suite runs in the environment they describe."""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from settings import PROJECT_ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(lock: str) -> dict[str, tuple[str, str | None]]:
    """name -> (version, marker) of every package the lock file pins."""
    found: dict[str, tuple[str, str | None]] = {}
    for line in (PROJECT_ROOT / lock).read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            found[canonicalize_name(match[1])] = (match[2], match[3])
    return found


def requirements(path: str) -> list[Requirement]:
    """The requirements a requirements*.txt file lists itself and through -r."""
    listed = []
    for line in (PROJECT_ROOT / path).read_text(encoding="utf-8").splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("-r "):
            listed += requirements(line[3:].strip())
        elif line and not line.startswith("#"):
            listed.append(Requirement(line))
    return listed


@pytest.mark.parametrize(("source", "lock"), [("requirements.txt", "requirements.lock"),
                                              ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_requirement_is_pinned_within_its_range(source, lock):
    pinned = pins(lock)
    wrong = [f"{req} (lock: {pinned.get(canonicalize_name(req.name), ('missing',))[0]})"
             for req in requirements(source)
             if canonicalize_name(req.name) not in pinned
             or not req.specifier.contains(pinned[canonicalize_name(req.name)][0], prereleases=True)]
    assert not wrong, f"run scripts/lock: {wrong}"


def test_the_runtime_lock_agrees_with_the_dev_lock():
    dev = pins("requirements-dev.lock")
    assert {name: version for name, (version, _) in pins("requirements.lock").items()
            if dev.get(name, (None,))[0] != version} == {}


def test_the_virtualenv_is_the_dev_lock():
    """scripts/bootstrap installed the lock: each pinned package applying here has its pinned version."""
    from packaging.markers import Marker

    differing = {}
    for name, (version, marker) in pins("requirements-dev.lock").items():
        if marker and not Marker(marker).evaluate():
            continue
        installed = metadata.version(name)
        if installed != version:
            differing[name] = (version, installed)
    assert not differing, differing
