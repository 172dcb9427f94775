"""Load over REST: concurrent conversations with a realistic mix of messages.

One conversation: a greeting; one or two button clicks, each the payload of a button of the
previous reply; a free question; the feedback "Oui" (the payload of the "Oui" button when the
previous reply has one, as the web widget sends it, else the typed word). Each conversation has a
fresh sender id; `concurrency` conversations run at once, each sends its next message when the
previous reply has arrived.

The stock server's replies have no buttons: it replays, message for message, the conversations
sent to our bot at the same concurrency (same greetings, same payload strings, same questions,
same feedback), so both servers get the same mix.

An error is a failed request (connection, timeout, HTTP status other than 200), an empty reply, or
our channel's "service momentanément indisponible" reply (sent when no reply came in time).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp

try:  # our REST channel answers 200 with this text when no reply came in time: an error here
    from bot.screening import UNAVAILABLE

    DEGRADED = {UNAVAILABLE}
except ImportError:
    DEGRADED = set()
GREETINGS = ("Bonjour", "bonjour", "Bonjour !", "salut", "bonjour, j'ai une question")
TIMEOUT_S = 60


@dataclass
class Sample:
    kind: str  # greet | click | question | feedback
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class LoadResult:
    system: str
    concurrency: int
    conversations: int
    wall_s: float
    samples: List[Sample] = field(default_factory=list)
    scripts: List[List[Tuple[str, str]]] = field(default_factory=list)  # what was sent, per conversation
    cpu_ms_per_message: Dict[str, float] = field(default_factory=dict)  # server process -> CPU ms per message

    @property
    def errors(self) -> List[Sample]:
        return [s for s in self.samples if not s.ok]

    def latencies(self, kind: Optional[str] = None) -> List[float]:
        return sorted(s.seconds for s in self.samples if s.ok and (kind is None or s.kind == kind))

    def percentile(self, q: float, kind: Optional[str] = None) -> float:
        values = self.latencies(kind)
        if not values:
            return float("nan")
        rank = q / 100 * (len(values) - 1)  # linear interpolation between closest ranks
        low = int(rank)
        high = min(low + 1, len(values) - 1)
        return values[low] + (values[high] - values[low]) * (rank - low)

    @property
    def throughput(self) -> float:
        return sum(1 for s in self.samples if s.ok) / self.wall_s if self.wall_s else float("nan")

    def figures(self) -> Dict[str, float]:
        return {
            "concurrency": self.concurrency,
            "conversations": self.conversations,
            "messages": len(self.samples),
            "errors": len(self.errors),
            "p50_ms": self.percentile(50) * 1000,
            "p95_ms": self.percentile(95) * 1000,
            "p99_ms": self.percentile(99) * 1000,
            "msg_per_s": self.throughput,
            "wall_s": self.wall_s,
            "cpu_ms_per_message": self.cpu_ms_per_message,
            **{
                f"p50_{kind}_ms": self.percentile(50, kind) * 1000
                for kind in ("greet", "click", "question", "feedback")
            },
        }


async def _post(
    session: aiohttp.ClientSession, url: str, sender: str, message: str
) -> Tuple[Optional[list], float, str]:
    started = time.perf_counter()
    try:
        async with session.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}
        ) as response:
            body = await response.text()
            seconds = time.perf_counter() - started
            if response.status != 200:
                return None, seconds, f"HTTP {response.status}"
            replies = json.loads(body)
            if not replies:
                return replies, seconds, "empty reply"
            if any(r.get("text") in DEGRADED for r in replies):
                return replies, seconds, "\"service unavailable\" reply"
            return replies, seconds, ""
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        return None, time.perf_counter() - started, type(error).__name__


def _buttons(replies: Optional[list]) -> List[dict]:
    return [b for r in replies or [] for b in r.get("buttons") or [] if b.get("payload")]


async def _live_conversation(
    session, url: str, rng: random.Random, questions: Sequence[str], samples: List[Sample]
) -> List[Tuple[str, str]]:
    """A conversation with our bot: clicks follow the buttons the bot actually shows."""
    sender, script = uuid.uuid4().hex, []

    async def say(kind: str, message: str):
        script.append((kind, message))
        replies, seconds, error = await _post(session, url, sender, message)
        samples.append(Sample(kind, seconds, not error, error))
        return replies

    replies = await say("greet", rng.choice(GREETINGS))
    for _ in range(rng.choice((1, 2))):
        choices = _buttons(replies)
        if not choices:
            break
        replies = await say("click", rng.choice(choices)["payload"])
    replies = await say("question", rng.choice(questions))
    yes = [b["payload"] for b in _buttons(replies) if b.get("title") == "Oui"]
    await say("feedback", yes[0] if yes else "Oui")
    return script


async def _replayed_conversation(session, url: str, script: List[Tuple[str, str]], samples: List[Sample]) -> None:
    sender = uuid.uuid4().hex
    for kind, message in script:
        _, seconds, error = await _post(session, url, sender, message)
        samples.append(Sample(kind, seconds, not error, error))


async def _run(
    system: str,
    url: str,
    concurrency: int,
    conversations: int,
    seed: int,
    questions: Sequence[str],
    scripts: Optional[List[List[Tuple[str, str]]]],
) -> LoadResult:
    samples: List[Sample] = []
    recorded: List[Optional[List[Tuple[str, str]]]] = [None] * conversations
    queue: asyncio.Queue = asyncio.Queue()
    for index in range(conversations):
        queue.put_nowait(index)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker():
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if scripts is None:
                    rng = random.Random(seed * 100_003 + index)
                    recorded[index] = await _live_conversation(session, url, rng, questions, samples)
                else:
                    await _replayed_conversation(session, url, scripts[index % len(scripts)], samples)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return LoadResult(
        system,
        concurrency,
        conversations,
        wall,
        samples,
        [s for s in recorded if s is not None] if scripts is None else scripts,
    )


def run_live(
    system: str, url: str, concurrency: int, conversations: int, questions: Sequence[str], seed: int = 1
) -> LoadResult:
    return asyncio.run(_run(system, url, concurrency, conversations, seed, questions, None))


def replay(system: str, url: str, concurrency: int, scripts: List[List[Tuple[str, str]]]) -> LoadResult:
    return asyncio.run(_run(system, url, concurrency, len(scripts), 0, (), scripts))


def merge(results: List[LoadResult]) -> LoadResult:
    """Rounds of one level as one result: all samples, wall times added (messages/s over the rounds)."""
    first = results[0]
    return LoadResult(
        first.system,
        first.concurrency,
        sum(r.conversations for r in results),
        sum(r.wall_s for r in results),
        [s for r in results for s in r.samples],
        [script for r in results for script in r.scripts],
    )


def run_live_for(
    system: str, url: str, concurrency: int, seconds: float, questions: Sequence[str], seed: int = 1000
) -> LoadResult:
    """Batches of conversations until `seconds` have passed (for the profiler); one merged result."""
    started = time.perf_counter()
    merged = LoadResult(system, concurrency, 0, 0.0)
    batch = 0
    while time.perf_counter() - started < seconds:
        result = run_live(system, url, concurrency, concurrency * 2, questions, seed=seed + batch)
        merged.conversations += result.conversations
        merged.samples += result.samples
        batch += 1
    merged.wall_s = time.perf_counter() - started
    return merged
