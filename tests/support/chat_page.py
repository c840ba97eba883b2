"""The chat page that `sockit serve chat http` serves at /chat, in a headless Chromium (see
chromium.py), driven as its user drives it: lines read from its log, lines typed into its
input."""
import json

LOG = "document.getElementById('log')"
LINES = f"[...{LOG}.children].map(line => line.textContent)"


def wait_for_line(browser, pattern):
    """The text of the first line of the page's log that matches the regular expression
    pattern, once there is one."""
    regex = f"new RegExp({json.dumps(pattern)})"
    return browser.wait_for(f"{LINES}.find(text => {regex}.test(text))")


def type_line(browser, text):
    """Types text into the page's input and presses Enter, as a user does."""
    browser.evaluate(
        f"(input => {{ input.value = {json.dumps(text)}; input.dispatchEvent(new KeyboardEvent("
        "'keydown', {key: 'Enter', bubbles: true})); })(document.getElementById('input'))")


def open_chat_page(browser, url, welcome):
    """Loads the page at url and waits until it is connected; returns the match of the
    compiled regular expression welcome against the welcome line the page shows."""
    browser.navigate(url)
    match = welcome.fullmatch(wait_for_line(browser, welcome.pattern))
    browser.wait_for("document.getElementById('status').dataset.state === 'connected'")
    return match
