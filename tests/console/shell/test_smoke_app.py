from tests.console.shell.conftest import sign_in
from tests.console.shell.helpers import save_screenshot


async def test_console_signs_in(console):
    await sign_in(console)
    assert console.window.operator_label.text().startswith("Signed in: PS")
    save_screenshot(console.window, "smoke")
