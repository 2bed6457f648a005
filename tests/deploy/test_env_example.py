""".env.example lists every setting, and nothing that is not one (so it cannot drift).

A setting is named by its environment variable: DANCE_<FIELD>, or one of the names
the original backend used (an alias such as DATABASE_URL). A line counts whether it
is set ("NAME=value") or shows its default ("# NAME=value"). The compose file's own
variables (${NAME} in docker-compose.yml) are listed too.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from dance_analysis.config import ENV_PREFIX, Settings
from tests.deploy.tools import REPO

LINE = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def listed(path: Path = REPO / ".env.example") -> list[str]:
    return LINE.findall(path.read_text(encoding="utf-8"))


def env_names(field: str) -> set[str]:
    """Every environment variable that sets ``field``."""
    names = {f"{ENV_PREFIX}{field}".upper()}
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        names |= {str(choice).upper() for choice in alias.choices if str(choice).isupper()}
    return names


def test_every_setting_is_listed() -> None:
    present = set(listed())
    missing = [
        f"{field} ({' or '.join(sorted(env_names(field)))})"
        for field in Settings.model_fields
        if not env_names(field) & present
    ]
    assert not missing, f".env.example lacks: {', '.join(missing)}"


def test_every_listed_dance_name_is_a_setting() -> None:
    known = {name for field in Settings.model_fields for name in env_names(field)}
    unknown = [name for name in listed() if name.startswith(ENV_PREFIX) and name not in known]
    assert not unknown, f"not settings (typos?): {unknown}"


def test_each_name_is_listed_once() -> None:
    names = listed()
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_the_compose_variables_are_listed() -> None:
    compose = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
    assert used, "docker-compose.yml uses no variables?"
    assert not used - set(listed()), sorted(used - set(listed()))


def test_the_defaults_shown_are_the_real_ones() -> None:
    """A "# DANCE_X=value" line shows the default the code has."""
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    wrong = []
    for name, value in re.findall(r"^# (DANCE_[A-Z0-9_]+)=(.*)$", text, re.MULTILINE):
        field = name.removeprefix(ENV_PREFIX).lower()
        info = Settings.model_fields.get(field)
        if info is None or info.default_factory is not None or info.default is None:
            continue
        default = info.default
        shown: object = value
        if isinstance(default, bool):
            shown = value == "true"
        elif isinstance(default, (int, float)):
            shown = type(default)(float(value)) if "." in value else type(default)(int(value))
        if shown != default:
            wrong.append(f"{name}: shows {value!r}, the default is {default!r}")
    assert not wrong, wrong


def test_secrets_are_placeholders_the_server_refuses() -> None:
    """A copied .env.example must not run as it is: its secrets are placeholders."""
    values = dict(
        re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (REPO / ".env.example").read_text(), re.M)
    )
    for name in ("DANCE_SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert values[name] == "changeme", name
    try:
        Settings(secret_key=values["DANCE_SECRET_KEY"])
    except ValueError as error:
        assert "placeholder" in str(error)
    else:
        raise AssertionError("the placeholder secret was accepted")
