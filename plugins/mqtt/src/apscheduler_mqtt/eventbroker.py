"""An event broker that shares events between processes through an MQTT broker.

paho-mqtt 2 runs its network loop in its own thread: it connects, reconnects with
exponential backoff after the server goes away, and calls our callbacks there. Every
callback hands its work to the event loop through an anyio ``BlockingPortal``, so local
delivery always happens in the event loop's thread and the loop is never blocked by the
network.

Delivery is at most once with the default QoS 0. Notifications published while the
connection is down are kept in a bounded outbox (``max_queued_events``, oldest dropped
first, with a warning) and sent, in order, as soon as the connection is back. Events
published by other processes while this one is disconnected are not received; the
scheduler's periodic polling covers for them.
"""

from __future__ import annotations

import ssl as _ssl
import threading
from collections import deque
from contextlib import AsyncExitStack
from logging import Logger
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import uuid4

import anyio
from anyio.from_thread import BlockingPortal
from apscheduler.abc import Serializer
from apscheduler.eventbrokers.base import BaseExternalEventBroker
from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

Transport = Literal["tcp", "websockets", "websocket", "unix"]

_DEFAULT_PORTS = {
    ("tcp", False): 1883,
    ("tcp", True): 8883,
    ("websockets", False): 80,
    ("websockets", True): 443,
}


class MQTTEventBroker(BaseExternalEventBroker):
    """Shares events with the other schedulers and workers through an MQTT broker.

    :param host: the MQTT server's host name (or socket path with ``transport="unix"``)
    :param port: its port; default 1883 (8883 with TLS) for TCP, 80 (443) for websockets
    :param transport: ``"tcp"``, ``"websockets"`` (or ``"websocket"``) or ``"unix"``
    :param client_id: the MQTT client ID; must be unique per connection (random by default)
    :param tls: ``True`` for TLS with the system's trusted CAs, or an ``ssl.SSLContext``
    :param ssl: alias of ``tls`` (the name APScheduler 4 uses)
    :param username: user name for authentication
    :param password: password for authentication
    :param topic: the topic the events are published and received on
    :param subscribe_qos: QoS of the subscription (0, 1 or 2)
    :param publish_qos: QoS of published events (0, 1 or 2)
    :param serializer: serializes the events on the wire (JSON by default)
    :param keepalive: seconds between MQTT keep-alive pings
    :param websocket_path: the HTTP path of the websocket endpoint
    :param max_queued_events: how many notifications are kept while disconnected
    :param reconnect_delay: first wait before reconnecting, in seconds; doubled after
        each failed attempt up to ``max_reconnect_delay``
    :param max_reconnect_delay: longest wait between two reconnection attempts, in seconds
    :param start_timeout: how long :meth:`start` waits for the first connection and
        subscription before giving up
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | None = None,
        *,
        transport: Transport = "tcp",
        client_id: str | None = None,
        tls: bool | _ssl.SSLContext = False,
        ssl: bool | _ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        topic: str = "apscheduler",
        subscribe_qos: int = 0,
        publish_qos: int = 0,
        serializer: Serializer | None = None,
        keepalive: int = 60,
        websocket_path: str = "/mqtt",
        max_queued_events: int = 1000,
        reconnect_delay: float = 0.25,
        max_reconnect_delay: float = 10.0,
        start_timeout: float = 10.0,
    ) -> None:
        super().__init__(serializer)
        if transport == "websocket":
            transport = "websockets"
        if transport not in ("tcp", "websockets", "unix"):
            raise ValueError(f"transport must be 'tcp', 'websockets' or 'unix', not {transport!r}")
        for name, qos in (("subscribe_qos", subscribe_qos), ("publish_qos", publish_qos)):
            if qos not in (0, 1, 2):
                raise ValueError(f"{name} must be 0, 1 or 2, not {qos!r}")
        if not topic or any(char in topic for char in "+#"):
            raise ValueError("topic must be a non-empty topic name without wildcards")
        if max_queued_events < 0:
            raise ValueError("max_queued_events must be >= 0")
        if reconnect_delay <= 0 or max_reconnect_delay < reconnect_delay:
            raise ValueError("need 0 < reconnect_delay <= max_reconnect_delay")
        if ssl is not None:
            tls = ssl
        self.host = host
        self.transport = transport
        self.tls = tls
        self.port = port if port is not None else _DEFAULT_PORTS.get((transport, bool(tls)), 0)
        self.client_id = client_id or f"apscheduler-{uuid4().hex[:16]}"
        self.topic = topic
        self.subscribe_qos = subscribe_qos
        self.publish_qos = publish_qos
        self.keepalive = keepalive
        self.max_queued_events = max_queued_events
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.start_timeout = start_timeout

        self._client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            transport=transport,
        )
        if tls:
            context = tls if isinstance(tls, _ssl.SSLContext) else _ssl.create_default_context()
            self._client.tls_set_context(context)
        if username is not None:
            self._client.username_pw_set(username, password)
        if transport == "websockets":
            self._client.ws_set_options(path=websocket_path)
        self._client.reconnect_delay_set(reconnect_delay, max_reconnect_delay)  # type: ignore[arg-type]
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

        # Guards _connected and _outbox, which the paho thread and the event loop share.
        self._lock = threading.Lock()
        self._connected = False
        self._outbox: deque[bytes] = deque()
        self._dropped = 0
        self._portal: BlockingPortal | None = None
        self._subscribed: anyio.Event | None = None
        self._ever_connected = False
        self._stopping = False
        #: Set (and replaced) in the event loop each time the connection goes up or down.
        self._connection_changed = anyio.Event()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MQTTEventBroker:
        """Create a broker from ``mqtt://[user[:password]@]host[:port][/topic]``.

        ``mqtts://`` turns on TLS. Query parameters may set ``client_id``, ``qos`` (both
        QoS values), ``subscribe_qos``, ``publish_qos``, ``transport`` and ``keepalive``.
        Keyword ``options`` are the constructor's and win over the URL.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"Expected an mqtt:// or mqtts:// URL, got {url!r}")
        kwargs: dict[str, Any] = {"host": parts.hostname or "localhost", "port": parts.port}
        if scheme == "mqtts":
            kwargs["tls"] = True
        if parts.username:
            kwargs["username"] = unquote(parts.username)
        if parts.password is not None:
            kwargs["password"] = unquote(parts.password)
        topic = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
        if topic:
            kwargs["topic"] = topic
        for key, value in parse_qsl(parts.query):
            if key == "qos":
                kwargs["subscribe_qos"] = kwargs["publish_qos"] = int(value)
            elif key in ("subscribe_qos", "publish_qos", "keepalive"):
                kwargs[key] = int(value)
            elif key in ("client_id", "transport"):
                kwargs[key] = value
            else:
                raise ValueError(f"Unknown MQTT URL query parameter {key!r}")
        kwargs.update(options)
        return cls(**kwargs)

    @property
    def client(self) -> Client:
        """The paho-mqtt client the broker uses."""
        return self._client

    @property
    def connected(self) -> bool:
        """Whether the connection to the MQTT server is up right now."""
        return self._connected

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, port={self.port}, topic={self.topic!r})"

    # Lifecycle

    async def start(self, exit_stack: AsyncExitStack, logger: Logger) -> None:
        """Connect (raising ``OSError`` if the server cannot be reached now), start paho's
        network thread and wait until the subscription is confirmed."""
        self._logger = logger
        self._subscribed = anyio.Event()
        # Connect before entering any task group, so that an unreachable server surfaces
        # as the plain OSError rather than wrapped in an exception group
        await anyio.to_thread.run_sync(self._client.connect, self.host, self.port, self.keepalive)
        await super().start(exit_stack, logger)
        self._portal = await exit_stack.enter_async_context(BlockingPortal())
        # Registered after the portal, so it runs first: paho stops before the portal does
        exit_stack.push_async_callback(self._stop_network)
        self._client.loop_start()
        with anyio.fail_after(self.start_timeout):
            await self._subscribed.wait()

    async def _stop_network(self) -> None:
        self._stopping = True
        self._client.disconnect()
        await anyio.to_thread.run_sync(self._client.loop_stop)
        with self._lock:
            self._connected = False

    # paho callbacks (run in paho's network thread)

    def _to_loop(self, func: Any, *args: Any) -> None:
        """Run ``func(*args)`` in the event loop thread without waiting for it."""
        portal = self._portal
        if portal is None:
            return
        try:
            portal.start_task_soon(_call_async, func, *args)
        except RuntimeError:  # the portal has stopped: we are shutting down
            pass

    def _on_connect(
        self,
        client: Client,
        userdata: Any,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._logger.warning("The MQTT server refused the connection: %s", reason_code)
            return
        client.subscribe(self.topic, qos=self.subscribe_qos)
        with self._lock:
            self._connected = True
            flushed, dropped = self._flush_outbox()
        self._to_loop(self._signal_connection_change)
        if self._ever_connected:
            self._logger.info(
                "Reconnected to the MQTT server %s:%s; sent %d queued event(s), %d dropped",
                self.host,
                self.port,
                flushed,
                dropped,
            )
        self._ever_connected = True

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            was_connected, self._connected = self._connected, False
        self._to_loop(self._signal_connection_change)
        if was_connected and not self._stopping:
            self._logger.warning(
                "Lost the connection to the MQTT server %s:%s (%s); reconnecting. Events "
                "published meanwhile by other processes are not received (polling covers them)",
                self.host,
                self.port,
                reason_code,
            )

    def _signal_connection_change(self) -> None:
        event, self._connection_changed = self._connection_changed, anyio.Event()
        event.set()

    def _on_subscribe(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(code.is_failure for code in reason_codes):
            self._logger.error("The MQTT server refused the subscription to %r", self.topic)
        elif self._subscribed is not None:
            self._to_loop(self._subscribed.set)

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        self._to_loop(self.on_notification, message.payload)

    # Publishing

    async def publish_external(self, notification: bytes) -> None:
        """Hand a notification to paho (non-blocking); keep it if disconnected."""
        with self._lock:
            if self._connected and not self._outbox:
                if self._send(notification):
                    return
            self._enqueue(notification)

    def _send(self, notification: bytes) -> bool:
        """Give a notification to paho; ``False`` if it must be kept for later.

        With QoS 1 or 2 paho itself keeps messages that could not be sent and resends
        them after reconnecting, so only QoS 0 messages come back to our outbox.
        """
        try:
            info = self._client.publish(self.topic, notification, qos=self.publish_qos)
        except Exception as exc:
            self._logger.error("Cannot publish an event over MQTT: %s", exc)
            return True  # not a connectivity problem: dropping it is the only option
        return info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS or self.publish_qos > 0

    def _enqueue(self, notification: bytes) -> None:
        # Called with self._lock held.
        if self.max_queued_events == 0:
            self._note_dropped()
            return
        self._outbox.append(notification)
        if len(self._outbox) > self.max_queued_events:
            self._outbox.popleft()
            self._note_dropped()

    def _note_dropped(self) -> None:
        if self._dropped == 0:
            self._logger.warning(
                "The MQTT server is unreachable and the event outbox is full (%d); dropping "
                "the oldest events (the schedulers' polling picks up the work they announced)",
                self.max_queued_events,
            )
        self._dropped += 1

    def _flush_outbox(self) -> tuple[int, int]:
        # Called with self._lock held, from the paho thread right after connecting.
        sent = 0
        while self._outbox:
            if not self._send(self._outbox[0]):
                break
            self._outbox.popleft()
            sent += 1
        dropped, self._dropped = self._dropped, 0
        return sent, dropped


async def _call_async(func: Any, *args: Any) -> None:
    func(*args)
