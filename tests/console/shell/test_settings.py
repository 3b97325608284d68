"""Settings precedence (CLI > env > config file > defaults) and clear errors for bad values."""

from __future__ import annotations

import pytest

from console.settings import ConsoleSettings, SettingsError, describe, load_settings


def write_config(tmp_path, text):
    config_dir = tmp_path / "cfg"
    config_dir.mkdir(parents=True)
    (config_dir / "console.toml").write_text(text, encoding="utf-8")
    return config_dir


def test_defaults_are_the_embedded_demo():
    settings = load_settings([], {})
    assert settings.embedded
    assert settings.idle_lock_seconds == 900
    assert (settings.wait_amber_seconds, settings.wait_red_seconds) == (10, 20)


def test_cli_beats_env_beats_file(tmp_path):
    config_dir = write_config(
        tmp_path, 'hub_url = "http://file:1"\nwait_red_seconds = 40\nwait_amber_seconds = 5\n'
    )
    env = {
        "SC_CONFIG_DIR": str(config_dir),
        "SC_HUB_URL": "http://env:2",
        "SC_WAIT_RED_SECONDS": "30",
    }
    settings = load_settings(["--hub", "http://cli:3"], env)
    assert settings.hub_url == "http://cli:3"  # CLI over env over file
    assert settings.wait_red_seconds == 30  # env over file
    assert settings.wait_amber_seconds == 5  # file over default


def test_boolean_flags_and_env(tmp_path):
    assert load_settings(["--no-demo-calls"], {}).demo_calls is False
    assert load_settings([], {"SC_MEDIA_DEVICES": "off"}).media_devices is False


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--hub", "ftp://x"], {}, "http:// or https://"),
        (["--idle-lock-seconds", "soon"], {}, "not a valid float"),
        ([], {"SC_DEMO": "maybe"}, "SC_DEMO"),
        (["--wait-amber-seconds", "30"], {}, "wait_amber_seconds"),
        (["--log-level", "LOUD"], {}, "log_level"),
    ],
)
def test_bad_values_are_clear_errors(argv, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(argv, env)


def test_config_file_errors_name_the_file(tmp_path):
    config_dir = write_config(tmp_path, "hub_ulr = 'http://typo'\n")
    with pytest.raises(SettingsError, match=r"unknown setting.*hub_ulr"):
        load_settings([], {"SC_CONFIG_DIR": str(config_dir)})
    broken = write_config(tmp_path / "b", "hub_url = \n")
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_settings([], {"SC_CONFIG_DIR": str(broken)})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(["--config", str(tmp_path / "missing.toml")], {})


def test_every_setting_is_described():
    names = {name for name, _, _ in describe()}
    assert names == set(ConsoleSettings.__dataclass_fields__)
    assert all(help_text for _, _, help_text in describe())


def test_missing_display_is_a_clear_message_not_a_qt_abort():
    from console.app import display_problem

    assert "QT_QPA_PLATFORM=offscreen" in display_problem({}, "linux")
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None
