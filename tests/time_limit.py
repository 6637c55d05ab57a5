"""Run a call with a time limit, so that a call that hangs fails its test instead of blocking it."""

import threading

import pytest


def within(seconds, function, *args, **kwargs):
    """``function(*args, **kwargs)``, run in a daemon thread; the test fails if it takes longer than
    ``seconds`` (a hung XLA call cannot be interrupted, so the thread is left behind)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # handed back to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(function, '__name__', function)} did not return within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
