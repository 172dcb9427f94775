"""The socket.io channel (the widget's) screens input like the REST channel."""

import time

import pytest
import socketio

from bot import screening, texts

WAIT = 30


@pytest.fixture
def session(bot_url, web_port):
    web_url = f"http://localhost:{web_port}"  # an allowed origin
    client = socketio.Client(reconnection=False)
    replies, confirmed = [], []
    client.on("bot_uttered", lambda data: replies.append(data))
    client.on("session_confirm", lambda data: confirmed.append(data))
    client.connect(
        bot_url, headers={"Origin": web_url}, transports=["polling"], socketio_path="socket.io", wait_timeout=20
    )
    client.emit("session_request", {"session_id": None})
    deadline = time.monotonic() + WAIT
    while not confirmed and time.monotonic() < deadline:
        time.sleep(0.1)
    assert confirmed

    def say(text, count=1):
        del replies[:]
        client.emit("user_uttered", {"message": text, "session_id": confirmed[0]})
        end = time.monotonic() + WAIT
        while len(replies) < count and time.monotonic() < end:
            time.sleep(0.1)
        time.sleep(0.3)  # nothing more should come
        return [r.get("text") for r in replies]

    yield say
    client.disconnect()


def test_empty_too_long_and_typed_restart(session):
    assert session("   ") == [texts.EMPTY]
    assert session("x" * 1500) == [texts.too_long(screening.MAX_MESSAGE_CHARS)]
    assert session("/restart", 2)[:2] == [texts.INVALID_CHOICE, "Votre question concerne quel type d'offre ?"]
    # and the conversation goes on
    assert session('/browse{"facet_path":"offre=convergence"}') == [texts.LISTING]
