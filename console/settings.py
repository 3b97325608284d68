"""Typed console settings. Precedence: command line > environment (SC_*) > config file > defaults.

The config file is TOML, `console.toml` in the user config dir (or `--config PATH` / `SC_CONFIG`),
with the same keys as the fields below, e.g. `hub_url = "http://hub.local:8470"`.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "safe-connection"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the setting and where it came from."""


def _default_data_dir() -> Path:
    override = os.environ.get("SC_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def _default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def _opt(help_text: str, flag: str | None = None) -> dict[str, Any]:
    """Field metadata: the description (for --help) and an optional non-default flag name."""
    return {"help": help_text, "flag": flag}


@dataclass(frozen=True)
class ConsoleSettings:
    """Everything the console can be told; `describe()` lists them with their descriptions."""

    hub_url: str | None = field(
        default=None,
        metadata=_opt(
            "URL of the control-room hub; unset = start an embedded demo hub on this machine",
            flag="--hub",
        ),
    )
    demo: bool = field(default=False, metadata=_opt("show the demo accounts on the sign-in dialog"))
    demo_calls: bool = field(
        default=True,
        metadata=_opt("with the embedded hub: simulate officers calling in (demo stream)"),
    )
    embedded_port: int = field(
        default=0, metadata=_opt("port of the embedded hub (0 = any free port)")
    )
    data_dir: Path = field(
        default_factory=_default_data_dir,
        metadata=_opt("where the embedded hub's database and the logs live"),
    )
    config_dir: Path = field(
        default_factory=_default_config_dir,
        metadata=_opt("where console.toml and the window layout are kept"),
    )
    idle_lock_seconds: float = field(
        default=900.0,
        metadata=_opt("lock the console after this many seconds without input (0 = never)"),
    )
    wait_amber_seconds: float = field(
        default=10.0, metadata=_opt("a waiting request turns amber after this many seconds")
    )
    wait_red_seconds: float = field(
        default=20.0, metadata=_opt("a waiting request turns red after this many seconds")
    )
    taken_linger_seconds: float = field(
        default=3.0, metadata=_opt("how long a request taken by another sergeant stays visible")
    )
    media_devices: bool = field(
        default=True,
        metadata=_opt("use the camera, microphone and speaker (off: a generated card and silence)"),
    )
    log_level: str = field(default="INFO", metadata=_opt("DEBUG, INFO, WARNING or ERROR"))

    @property
    def embedded(self) -> bool:
        return self.hub_url is None

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def validate(self) -> ConsoleSettings:
        if self.hub_url is not None and not self.hub_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"hub_url must start with http:// or https://, got {self.hub_url!r}"
            )
        if self.idle_lock_seconds < 0:
            raise SettingsError("idle_lock_seconds must be 0 (never) or positive")
        if not 0 <= self.wait_amber_seconds <= self.wait_red_seconds:
            raise SettingsError("wait_amber_seconds must be between 0 and wait_red_seconds")
        if self.taken_linger_seconds < 0:
            raise SettingsError("taken_linger_seconds must not be negative")
        if not 0 <= self.embedded_port <= 65535:
            raise SettingsError("embedded_port must be between 0 and 65535")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(
                f"log_level must be DEBUG, INFO, WARNING or ERROR, not {self.log_level!r}"
            )
        return self


def describe() -> list[tuple[str, str, str]]:
    """(name, environment variable, description) of every setting."""
    return [(f.name, _env_name(f.name), f.metadata["help"]) for f in fields(ConsoleSettings)]


def _env_name(name: str) -> str:
    return "SC_" + name.upper()


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = {f.name: f.type for f in fields(ConsoleSettings)}[name]
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(str(raw)).expanduser()
        if kind == "str | None":
            return None if raw in (None, "") else str(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: {name} = {raw!r} is not a valid {kind}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safe-connection-console",
        description="Safe Connection control-room console. Without --hub it starts an embedded "
        "demo hub with simulated calls.",
    )
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: console.toml in the config dir)"
    )
    for f in fields(ConsoleSettings):
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        if f.type == "bool":
            parser.add_argument(
                flag,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f.metadata["help"],
            )
        else:
            parser.add_argument(
                flag,
                dest=f.name,
                default=None,
                metavar=f.name.upper(),
                help=f"{f.metadata['help']} (env {_env_name(f.name)})",
            )
    return parser


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> ConsoleSettings:
    """Merge defaults, the config file, the environment and the command line; validate."""
    env = os.environ if environ is None else environ
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    values: dict[str, Any] = {}

    config_path: Path | None = args.config or (
        Path(env["SC_CONFIG"]) if env.get("SC_CONFIG") else None
    )
    explicit_config = config_path is not None
    if config_path is None:
        config_dir = env.get("SC_CONFIG_DIR") or args.config_dir
        config_path = (Path(config_dir) if config_dir else _default_config_dir()) / "console.toml"
    values.update(_read_config(config_path, required=explicit_config))

    for f in fields(ConsoleSettings):
        if _env_name(f.name) in env:
            values[f.name] = _convert(
                f.name, env[_env_name(f.name)], f"environment {_env_name(f.name)}"
            )
        cli_value = getattr(args, f.name)
        if cli_value is not None:
            values[f.name] = _convert(f.name, cli_value, "command line")
    return ConsoleSettings(**values).validate()


def _read_config(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise SettingsError(f"config file {path} does not exist")
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read config file {path}: {exc}") from None
    known = {f.name for f in fields(ConsoleSettings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return {name: _convert(name, value, f"config file {path}") for name, value in raw.items()}
