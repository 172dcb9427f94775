"""Rasa's RedisLockStore, with each change of a conversation's lock made in one Redis transaction.

Rasa 3.6's RedisLockStore reads a conversation's ticket queue, changes it in Python and writes it
back. Two replicas receiving a message of the same conversation at the same moment both read the
same queue: both take the same ticket number (both handle the conversation at once, and Rasa's SQL
tracker store then drops one message's events), or one overwrites the other's ticket (Rasa issue
#9213; the fix, ConcurrentRedisLockStore, is not in Rasa Open Source 3.6). Here the same queue,
tickets and waiting loop are Rasa's; every read-change-write is a Redis optimistic transaction
(WATCH / MULTI / EXEC, retried when another process changed the queue meanwhile). The key expires
with its last ticket, so a replica that dies leaves nothing behind.

endpoints.yml: `lock_store: {type: addons.lock_store.AtomicRedisLockStore, url: ..., ...}`,
the same keys as Rasa's `type: redis`. Rasa accepts several Sanic workers with it, as with its own.
"""

from __future__ import annotations

import json
import math
import time
from typing import Callable, Optional, Text, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
MAX_RETRIES = 100


class AtomicRedisLockStore(RedisLockStore):
    """See the module docstring."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store named by its module path
            kwargs = {**endpoint_config.kwargs, **kwargs}
            kwargs.setdefault("host", endpoint_config.url or "localhost")
        super().__init__(**kwargs)

    def _change(
        self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]
    ) -> T:
        """Apply `change(lock) -> (new lock or None to delete, result)` atomically."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_RETRIES):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, result = change(lock)
                    pipe.multi()
                    if new_lock is None or not new_lock.tickets:
                        pipe.delete(key)
                    else:
                        last_expiry = max(ticket.expires for ticket in new_lock.tickets)
                        pipe.set(key, new_lock.dumps(), ex=max(1, math.ceil(last_expiry - time.time()) + 1))
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another process changed this conversation's queue: read it again
        raise LockError(f"Could not change the lock of conversation '{conversation_id}'.")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove this ticket; the lock goes with the last one (one transaction: a ticket issued
        meanwhile by another replica is never deleted with it)."""
        self.finish_serving(conversation_id, ticket_number)
