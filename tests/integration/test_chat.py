"""sockit serve chat end to end on loopback, with Python members that behave like the
tutorials' chat clients: the welcome, every command and notice exactly as the server sends it,
1,000 members each getting every line once and in order, a member that stops reading
disconnected while the others get everything and the server's memory stays bounded, abrupt
disconnects, escape-sequence and invalid UTF-8 injection, the line and rate limits, and
draining on SIGTERM."""
import contextlib
import os
import random
import re
import selectors
import signal
import socket
import time
import unittest
from unittest import mock

from chat_client import EOF, ChatClient
from sockit_test import (DEFAULT_TIMEOUT, LeakCheckedTestCase, Serve, raise_open_file_limit,
                         reset, vm_rss)

KIB = 1024
MIB = 1024 * KIB
WELCOME = re.compile(r"\*\*\* Welcome to sockit chat, (guest\d+)\. You are in #lobby\. "
                     r"/help lists the commands\.")
SHUTTING_DOWN = "*** the server is shutting down"
BAD_NICK = "*** error: a nick is 1-20 letters, digits, '_' or '-', starting with a letter"
GUEST_NICK = "*** error: guest names are given, not taken"
BAD_ROOM = "*** error: a room is '#' and 1-30 letters, digits, '_' or '-'"
HELP = [
    "*** commands:",
    "***   /nick NAME      choose your name (letters, digits, _ or -, from a letter)",
    "***   /who [#room]    who is in your room, or in #room",
    "***   /me TEXT        an action: * you TEXT",
    "***   /msg NICK TEXT  a private message",
    "***   /join #room     move to #room (created if new)",
    "***   /rooms          the rooms and how many are in each",
    "***   /quit [REASON]  leave",
    "***   anything else is said to your room; start with // to say something that starts "
    "with /",
]


# An opening handshake of RFC 6455's example.
WEBSOCKET_HANDSHAKE = (b"GET /chat/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


def serve_chat(*args):
    """`sockit serve chat` on 127.0.0.1, on a port the OS picks."""
    return Serve("chat", "--bind", "127.0.0.1", "--chat-port", "0", *args)


def who(room, *nicks):
    """The answer to /who: the members in the order of their names ignoring case."""
    return f"*** in {room} ({len(nicks)}): " + ", ".join(sorted(nicks, key=str.lower))


def without_asan_quarantine():
    """The environment of a server whose memory a test bounds: under AddressSanitizer, freed
    memory waits in a quarantine of up to 256 MiB by design, which would count as growth."""
    options = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": f"{options}:quarantine_size_mb=0" if options
            else "quarantine_size_mb=0"}


def recv_lines(sock, count):
    """The next count lines from a blocking sock, read a byte at a time so that nothing after
    them is taken from the socket."""
    data = b""
    while data.count(b"\n") < count:
        byte = sock.recv(1)
        if not byte:
            raise AssertionError(f"the stream ended after {data!r}")
        data += byte
    return data.decode().splitlines()


def recv_to_end(sock):
    """Everything sock receives, and how its stream ended: "eof" or "reset"."""
    data = bytearray()
    try:
        while chunk := sock.recv(MIB):
            data += chunk
    except ConnectionResetError:
        return bytes(data), "reset"
    return bytes(data), "eof"


class Crowd:
    """Many members on non-blocking sockets, read together with one selector.

    .lines[i] holds what member i got so far (text lines without "\\n"), .chat[i] the chat
    lines ("<nick> text") among them, and .ended[i] whether its stream has ended.
    """

    def __init__(self, address, count, stack):
        self.socks = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(address, timeout=DEFAULT_TIMEOUT))
            sock.setblocking(False)
            self.socks.append(sock)
        self.lines = [[] for _ in range(count)]
        self.chat = [[] for _ in range(count)]
        self.ended = [False] * count
        self._partial = [b""] * count

    def __len__(self):
        return len(self.socks)

    def read_until(self, finished, members=None, timeout=DEFAULT_TIMEOUT * 2):
        """Reads until finished(i) holds for each member i (all by default); the end of a
        member's stream before that is an error."""
        waiting = {i for i in (range(len(self)) if members is None else members) if not finished(i)}
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            for i in waiting:
                selector.register(self.socks[i], selectors.EVENT_READ, i)
            while waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    first = min(waiting)
                    raise TimeoutError(f"{len(waiting)} members unfinished after {timeout}s; "
                                       f"member {first} got {self.lines[first][-5:]}")
                for key, _ in selector.select(left):
                    i = key.data
                    self._receive(i)
                    if finished(i):
                        waiting.discard(i)
                        selector.unregister(key.fileobj)
                    elif self.ended[i]:
                        raise AssertionError(f"member {i}'s stream ended; it got "
                                             f"{self.lines[i][-5:]}")

    def read_to_end(self, members=None):
        self.read_until(lambda i: self.ended[i], members)

    def close(self, i, how):
        """Leaves without /quit: "reset" closes with a TCP reset; "close" reads what has come
        (so that the close sends a FIN, not a reset for unread data) and closes."""
        if how == "reset":
            reset(self.socks[i])
            return
        with contextlib.suppress(BlockingIOError):
            while self.socks[i].recv(65536):
                pass
        self.socks[i].close()

    def _receive(self, i):
        try:
            chunk = self.socks[i].recv(65536)
        except BlockingIOError:
            return
        if not chunk:
            self.ended[i] = True
            return
        *complete, self._partial[i] = (self._partial[i] + chunk).split(b"\n")
        for raw in complete:
            line = raw.decode()
            self.lines[i].append(line)
            if line.startswith("<"):
                self.chat[i].append(line)


class ChatTestCase(LeakCheckedTestCase):
    def serve(self, *args):
        """`sockit serve chat` for this test, stopped when it ends (and then required to exit
        0), after its members have left."""
        return self.enterContext(serve_chat(*args))

    def enter(self, server, nick=None, others=(), history=()):
        """A new member, closed when the test ends. Checks its welcome and the room's history
        after it, and that each of others (members of the lobby) heard it join and, given a
        nick, take that name."""
        client = ChatClient(server.address("chat"))
        self.addCleanup(client.close)
        welcome = client.line()
        match = WELCOME.fullmatch(welcome or "")
        self.assertIsNotNone(match, f"not a welcome: {welcome!r}")
        client.nick = match[1]
        self.assertEqual(client.lines(len(history)), list(history))
        for other in others:
            self.assertEqual(other.line(), f"*** {client.nick} joined #lobby")
        if nick:
            self.rename(client, nick, others)
        return client

    def rename(self, client, nick, others=()):
        client.send(f"/nick {nick}")
        self.assertEqual(client.line(), f"*** you are now known as {nick}")
        for other in others:
            self.assertEqual(other.line(), f"*** {client.nick} is now known as {nick}")
        client.nick = nick


class ExchangeTest(ChatTestCase):
    def test_members_join_and_exchange_lines_like_the_tutorials_clients(self):
        server = self.serve()
        alice = self.enter(server)
        self.assertEqual(alice.nick, "guest1")
        bob = self.enter(server, others=[alice])
        self.assertEqual(bob.nick, "guest2")
        alice.send("hello, world")
        self.assertEqual(bob.line(), "<guest1> hello, world")
        # Bob answers what he got; had alice got her own line back, it would come first.
        bob.send("hi", "how are you?")
        self.assertEqual(alice.lines(2), ["<guest2> hi", "<guest2> how are you?"])
        said = ["<guest1> hello, world", "<guest2> hi", "<guest2> how are you?"]
        carol = self.enter(server, others=[alice, bob], history=said)
        carol.send("one", "two", "three")
        for member in (alice, bob):
            self.assertEqual(member.lines(3), ["<guest3> one", "<guest3> two", "<guest3> three"])
        bob.send("bye")
        self.assertEqual(alice.line(), "<guest2> bye")
        self.assertEqual(carol.line(), "<guest2> bye")
        carol.send("bye bob")
        self.assertEqual(bob.line(), "<guest3> bye bob")

    def test_nick_renames_and_refuses_taken_invalid_and_guest_names(self):
        server = self.serve()
        alice = self.enter(server)
        bob = self.enter(server, others=[alice])
        self.rename(alice, "alice", others=[bob])
        refused = {
            "ALICE": "*** error: ALICE is taken",
            "alice": "*** error: alice is taken",
            "": BAD_NICK,
            "1bob": BAD_NICK,
            "_bob": BAD_NICK,
            "bob smith": BAD_NICK,
            "b\u00f8b": BAD_NICK,
            "b" * 21: BAD_NICK,
            "guest7": GUEST_NICK,
            "GUEST1": GUEST_NICK,
            "Guest2": GUEST_NICK,
        }
        for wanted, error in refused.items():
            with self.subTest(wanted=wanted):
                bob.send(f"/nick {wanted}")
                self.assertEqual(bob.line(), error)
        self.rename(bob, "b" * 20, others=[alice])
        self.rename(bob, "Bob_the-2nd", others=[alice])
        self.rename(bob, "bob_THE-2ND", others=[alice])  # its own name in another case
        alice.send("/who")
        self.assertEqual(alice.line(), who("#lobby", "alice", "bob_THE-2ND"))
        # A name given up is free again.
        self.rename(alice, "carol", others=[bob])
        self.rename(bob, "ALICE", others=[alice])
        bob.send("renamed")
        self.assertEqual(alice.line(), "<ALICE> renamed")

    def test_me_and_private_messages(self):
        server = self.serve()
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        carol = self.enter(server, nick="carol", others=[alice, bob])
        alice.send("/me waves")
        self.assertEqual(bob.line(), "* alice waves")
        self.assertEqual(carol.line(), "* alice waves")
        alice.send("/me")
        self.assertEqual(alice.line(), "*** error: /me TEXT")
        alice.send("/msg bob psst, over here")
        self.assertEqual(alice.line(), "-> *bob* psst, over here")
        self.assertEqual(bob.line(), "*alice* psst, over here")
        alice.send("/msg BOB  any case ")
        self.assertEqual(alice.line(), "-> *BOB* any case")
        self.assertEqual(bob.line(), "*alice* any case")
        alice.send("/msg nobody hello")
        self.assertEqual(alice.line(), "*** error: no one is called nobody")
        alice.send("/msg bob")
        self.assertEqual(alice.line(), "*** error: /msg NICK TEXT")
        alice.send("/msg")
        self.assertEqual(alice.line(), "*** error: /msg NICK TEXT")
        # Carol's next line is this one: the private ones never reached her.
        alice.send("in public")
        self.assertEqual(carol.line(), "<alice> in public")
        self.assertEqual(bob.line(), "<alice> in public")
        # And alice's next is bob's: her own action and line never came back to her.
        bob.send("/me nods")
        self.assertEqual(alice.line(), "* bob nods")
        self.assertEqual(carol.line(), "* bob nods")

    def test_rooms_who_and_the_history_replayed_on_join(self):
        server = self.serve("--chat-history", "3")
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        carol = self.enter(server, nick="carol", others=[alice, bob])
        alice.send("in the lobby")
        for member in (bob, carol):
            self.assertEqual(member.line(), "<alice> in the lobby")
        alice.send("/who")
        self.assertEqual(alice.line(), who("#lobby", "alice", "bob", "carol"))

        alice.send("/join #Rust")
        self.assertEqual(alice.line(), "*** you are in #Rust")
        for member in (bob, carol):
            self.assertEqual(member.line(), "*** alice left #lobby")
        # Her /who answer means the four lines before it are in the room's history.
        alice.send("one", "/me two", "three", "four", "/who")
        self.assertEqual(alice.line(), who("#Rust", "alice"))
        # Joining replays exactly the last three messages; the /who answer comes next.
        bob.send("/join #rust", "/who")
        self.assertEqual(bob.lines(5), ["*** you are in #Rust", "* alice two", "<alice> three",
                                        "<alice> four", who("#Rust", "alice", "bob")])
        self.assertEqual(alice.line(), "*** bob joined #Rust")
        self.assertEqual(carol.line(), "*** bob left #lobby")

        carol.send("/who #RUST", "/who #nowhere", "/rooms")
        self.assertEqual(carol.lines(3), [who("#Rust", "alice", "bob"),
                                          "*** error: there is no room #nowhere",
                                          "*** rooms: #lobby (1), #Rust (2)"])
        for room, error in {"#lobby": "*** error: you are in #lobby already",
                            "lobby": BAD_ROOM, "#": BAD_ROOM, "#bad room": BAD_ROOM,
                            "#" + "r" * 31: BAD_ROOM, "": BAD_ROOM}.items():
            with self.subTest(room=room):
                carol.send(f"/join {room}")
                self.assertEqual(carol.line(), error)
        longest = "#" + "r" * 30
        carol.send(f"/join {longest}", "/rooms")
        self.assertEqual(carol.lines(2), [f"*** you are in {longest}",
                                          f"*** rooms: #lobby (0), {longest} (1), #Rust (2)"])
        # The lobby's history is its own; a room left empty is gone, the lobby stays.
        carol.send("/join #lobby", "/rooms")
        self.assertEqual(carol.lines(3), ["*** you are in #lobby", "<alice> in the lobby",
                                          "*** rooms: #lobby (1), #Rust (2)"])
        alice.send("/join #lobby")
        self.assertEqual(alice.lines(2), ["*** you are in #lobby", "<alice> in the lobby"])
        self.assertEqual(bob.line(), "*** alice left #Rust")
        self.assertEqual(carol.line(), "*** alice joined #lobby")
        bob.send("/join #lobby", "/rooms")
        self.assertEqual(bob.lines(3), ["*** you are in #lobby", "<alice> in the lobby",
                                        "*** rooms: #lobby (3)"])

    def test_quit_says_bye_closes_and_tells_the_room_why(self):
        server = self.serve()
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        carol = self.enter(server, nick="carol", others=[alice, bob])
        alice.send("/quit  gone  fishing ")
        self.assertEqual(alice.lines(2), ["*** bye", EOF])
        self.assertIsNone(alice.error, "the connection was reset, not closed")
        for member in (bob, carol):
            self.assertEqual(member.line(), "*** alice left (gone  fishing)")
        # What follows /quit is not read: bob's next line is carol's departure.
        carol.send("/quit", "never said")
        self.assertEqual(carol.lines(2), ["*** bye", EOF])
        self.assertEqual(bob.line(), "*** carol left #lobby")
        self.rename(bob, "alice")
        bob.send("/who")
        self.assertEqual(bob.line(), who("#lobby", "alice"))

    def test_help_unknown_commands_and_lines_that_start_with_a_slash(self):
        server = self.serve()
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        alice.send("/help")
        self.assertEqual(alice.lines(len(HELP)), HELP)
        alice.send("/bogus with arguments", "/bogus")
        self.assertEqual(alice.lines(2), ["*** error: no command /bogus (/help lists them)"] * 2)
        alice.send("//help", "//", "/ spaced", "/")
        self.assertEqual(bob.lines(4), ["<alice> /help", "<alice> /", "<alice> / spaced",
                                        "<alice> /"])

    def test_crlf_line_ends_and_empty_lines(self):
        server = self.serve()
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        alice.sock.sendall(b"crlf\r\n\n\r\n\n\r\nlf\ncr\rinside\r\n")
        self.assertEqual(bob.lines(3), ["<alice> crlf", "<alice> lf", "<alice> cr^Minside"])
        # The empty lines got alice no error either: her next line answers this.
        alice.send("/who")
        self.assertEqual(alice.line(), who("#lobby", "alice", "bob"))


class BroadcastTest(ChatTestCase):
    """A thousand members of one room, on two loops."""

    MEMBERS = 1000

    def crowd(self, server, stack):
        """The members, each past its welcome: whatever is said from now on reaches them all."""
        raise_open_file_limit(self)
        crowd = Crowd(server.address("chat"), self.MEMBERS, stack)
        crowd.read_until(lambda i: crowd.lines[i])
        nicks = [WELCOME.fullmatch(lines[0]) for lines in crowd.lines]
        self.assertNotIn(None, nicks, "a first line is no welcome")
        self.assertEqual(sorted(match[1] for match in nicks),
                         sorted(f"guest{n}" for n in range(1, self.MEMBERS + 1)))
        return crowd

    def drain(self, server, crowd, chat, *clients):
        """Stops the server with SIGTERM: every member is told and its stream ends, with no
        chat line other than chat[i] ever reaching member i; the server exits 0."""
        server.send_signal(signal.SIGTERM)
        crowd.read_to_end()
        for sock in crowd.socks:
            sock.close()  # the server waits for the client's FIN after its own
        for client in clients:
            self.assertIn(SHUTTING_DOWN, client.until_end())
            client.close()
        self.assertEqual(server.wait(), 0, server.stderr)
        wrong = [i for i in range(len(crowd)) if crowd.chat[i] != chat[i]]
        self.assertEqual(wrong, [], "members with more chat lines after the drain")
        told = [i for i in range(len(crowd)) if crowd.lines[i].count(SHUTTING_DOWN) != 1]
        self.assertEqual(told, [], "members not told of the shutdown exactly once")
        notice = re.compile(r"\*\*\* \S+ (joined #lobby|left \(server shutting down\))")
        others = {line for lines in crowd.lines for line in lines[1:]
                  if not line.startswith("<") and line != SHUTTING_DOWN}
        self.assertEqual({line for line in others if not notice.fullmatch(line)}, set())

    def test_every_member_gets_every_line_once_and_in_order(self):
        server = self.serve("--threads", "2", "--chat-rate", "0")
        with contextlib.ExitStack() as stack:
            crowd = self.crowd(server, stack)
            # A room this big is not told of joins and renames.
            sender = self.enter(server, nick="sender")
            said = [f"line {n} of 50" for n in range(50)]
            sender.send(*said)
            expected = [f"<sender> {text}" for text in said]
            crowd.read_until(lambda i: crowd.chat[i][-1:] == expected[-1:])
            wrong = [i for i in range(len(crowd)) if crowd.chat[i] != expected]
            self.assertEqual(wrong, [], "members that missed, repeated or reordered lines")
            self.drain(server, crowd, [expected] * len(crowd), sender)

    def test_every_member_sees_the_lines_of_several_senders_in_one_order(self):
        # Eight senders: the odds that all landed on the same loop are 1 in 128.
        senders_count, lines_each = 8, 25
        server = self.serve("--threads", "2", "--chat-rate", "0")
        with contextlib.ExitStack() as stack:
            crowd = self.crowd(server, stack)
            senders = [self.enter(server, nick=f"s{k}") for k in range(senders_count)]
            for n in range(lines_each):
                for sender in senders:
                    sender.send(f"{sender.nick} line {n}")
            total = senders_count * lines_each
            crowd.read_until(lambda i: len(crowd.chat[i]) >= total)
            order = crowd.chat[0]
            for sender in senders:
                own = [line for line in order if line.startswith(f"<{sender.nick}> ")]
                self.assertEqual(own, [f"<{sender.nick}> {sender.nick} line {n}"
                                       for n in range(lines_each)])
            self.assertEqual(len(order), total)
            wrong = [i for i in range(len(crowd)) if crowd.chat[i] != order]
            self.assertEqual(wrong, [], "members that saw another order")
            for sender in senders:
                others = [line for line in order if not line.startswith(f"<{sender.nick}> ")]
                self.assertEqual(sender.lines(len(others)), others)
            self.drain(server, crowd, [order] * len(crowd), *senders)


class SlowReaderTest(ChatTestCase):
    def test_member_that_stops_reading_is_disconnected_and_the_others_get_everything(self):
        # Without a bound, the server would keep what the stalled member has not taken: the
        # flood less what its socket buffers hold (tcp_wmem allows 4 MiB), so more than 12 MiB.
        # With --chat-queue 64K it keeps 64 KiB, plus what the readers have yet to take (the
        # window below): the growth allowed is far above that and far below the unbounded one.
        flood, window, allowed_growth = 16 * MIB, 16 * KIB, 8 * MIB
        with mock.patch.dict(os.environ, without_asan_quarantine()):
            server = self.serve("--threads", "2", "--chat-rate", "0", "--chat-queue", "64K")
        with socket.socket() as slow:
            # A small receive buffer: the stall shows in the server, not in this kernel.
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * KIB)
            slow.settimeout(DEFAULT_TIMEOUT)
            slow.connect(server.address("chat"))
            slow.sendall(b"/nick slow\n")
            greeting = recv_lines(slow, 2)
            self.assertRegex(greeting[0], WELCOME)
            self.assertEqual(greeting[1], "*** you are now known as slow")
            readers = []
            for nick in ("reader1", "reader2"):
                readers.append(self.enter(server, nick=nick, others=readers))
            talker = self.enter(server, nick="talker", others=readers)

            before = peak = vm_rss(server.proc.pid)
            filler = "x" * 990
            said = [f"{n:07d} {filler}" for n in range(flood // (len(filler) + 9))]
            received = [[] for _ in readers]
            # The talker keeps at most a window of lines ahead of the readers: they never
            # fall behind by more than --chat-queue, however slowly this test runs.
            step = window // (len(filler) + 9)
            for start in range(0, len(said), step):
                chunk = said[start:start + step]
                talker.send(*chunk)
                for reader, got in zip(readers, received):
                    skipped, last = reader.until(lambda line: line == f"<talker> {chunk[-1]}")
                    got += skipped + [last]
                peak = max(peak, vm_rss(server.proc.pid))

            left = "*** slow left (too slow to keep up)"
            expected = [f"<talker> {text}" for text in said]
            for reader, got in zip(readers, received):
                if left not in got:
                    got += reader.until(lambda line: line == left)[0] + [left]
                self.assertEqual([line for line in got if line.startswith("<")], expected)
                self.assertEqual([line for line in got if not line.startswith("<")], [left])
            self.assertEqual(talker.line(), left)
            grown = peak - before
            self.assertLess(grown, allowed_growth, f"RSS grew {grown} bytes during the flood")

            data, ended_by = recv_to_end(slow)
            self.assertIn(ended_by, ("eof", "reset"))
            lines = data.split(b"\n")
            partial = lines.pop()
            lines = [line.decode() for line in lines]
            notices = [f"*** guest{n} {event}" for n, nick in ((2, "reader1"), (3, "reader2"),
                                                                (4, "talker"))
                       for event in ("joined #lobby", f"is now known as {nick}")]
            self.assertEqual(lines[:len(notices)], notices)
            rest = lines[len(notices):]
            parting = "*** disconnected: more than 64 KiB of messages unread"
            if rest[-1:] == [parting]:
                self.assertEqual(partial, b"", "a parting word after half a line")
                rest.pop()
            self.assertLess(len(rest), len(expected), "the stalled member got everything")
            self.assertEqual(rest, expected[:len(rest)])
            self.assertTrue(expected[len(rest)].encode().startswith(partial))

    def test_the_evicted_member_gets_its_notice_whole_after_whole_lines(self):
        # The stalled member's socket is full when it is evicted: the notice waits for it to
        # read again rather than being cut short or dropped.
        server = self.serve("--chat-rate", "0", "--chat-queue", "1K")
        with socket.socket() as slow:
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * KIB)
            slow.settimeout(DEFAULT_TIMEOUT)
            slow.connect(server.address("chat"))
            self.assertRegex(recv_lines(slow, 1)[0], WELCOME)
            talker = self.enter(server, nick="talker")
            # More than the kernel's buffers hold for it (tcp_wmem allows 4 MiB).
            said = [f"{n:06d} " + "y" * 200 for n in range(40000)]
            talker.send(*said)
            talker.until(lambda line: line.endswith(" left (too slow to keep up)"))

            data, ended_by = recv_to_end(slow)
            self.assertEqual(ended_by, "eof")
            *lines, partial = data.decode().split("\n")
            self.assertEqual(partial, "", "the stream ends inside a line")
            self.assertEqual(lines[-1], "*** disconnected: more than 1 KiB of messages unread")
            chat = [line for line in lines[:-1] if not line.startswith("*** ")]
            self.assertGreater(len(chat), 0)
            self.assertEqual(chat, [f"<talker> {text}" for text in said[:len(chat)]])

    def test_a_burst_larger_than_the_queue_reaches_a_member_that_keeps_up(self):
        # With no rate limit, one read from a fast talker may hold more than --chat-queue
        # bytes of lines. A member whose socket takes them at once is not behind.
        server = self.serve("--chat-rate", "0", "--chat-queue", "64K")
        reader = self.enter(server, nick="reader")
        talker = self.enter(server, nick="talker", others=[reader])
        said = [f"{n:04d} " + "x" * 500 for n in range(400)]
        talker.send(*said)
        expected = [f"<talker> {text}" for text in said]
        got = reader.lines(len(said))
        self.assertEqual(got[-1:], expected[-1:], f"{len(got)} lines, ending {got[-2:]}")
        self.assertEqual(got, expected)


class HttpOnTheChatPortTest(ChatTestCase):
    def test_an_http_request_gets_a_notice_and_a_close_and_is_not_broadcast(self):
        server = self.serve()
        alice = self.enter(server, nick="alice")
        with socket.create_connection(server.address("chat"), timeout=DEFAULT_TIMEOUT) as browser:
            browser.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n")
            data, ended_by = recv_to_end(browser)
        self.assertEqual(ended_by, "eof")
        welcome, *rest = data.decode().splitlines()
        guest = WELCOME.fullmatch(welcome)[1]
        self.assertEqual(rest, ["*** error: this port speaks line chat, not HTTP (the web chat "
                                "is at /chat on the http port); bye"])
        self.assertEqual(alice.line(), f"*** {guest} joined #lobby")
        self.assertEqual(alice.line(), f"*** {guest} left #lobby")
        alice.send("/who")
        self.assertEqual(alice.line(), "*** in #lobby (1): alice")


class RoomMemoryTest(ChatTestCase):
    def test_rooms_left_empty_cost_no_memory(self):
        # Each room a member passes through used to stay in its loop's table for good (about
        # 112 bytes): 60,000 of them would be more than 6 MiB.
        with mock.patch.dict(os.environ, without_asan_quarantine()):
            server = self.serve("--chat-rate", "0", "--threads", "1")
        member = self.enter(server)
        step = 2000

        def hop(first, count):
            for start in range(first, first + count, step):
                rooms = [f"#r{n}" for n in range(start, start + step)]
                member.send(*(f"/join {room}" for room in rooms))
                self.assertEqual(member.lines(step), [f"*** you are in {room}" for room in rooms])

        hop(0, 10000)
        before = vm_rss(server.proc.pid)
        hop(10000, 60000)
        grown = vm_rss(server.proc.pid) - before
        self.assertLess(grown, 3 * MIB, f"RSS grew {grown} bytes over 60,000 empty rooms")


class DisconnectTest(ChatTestCase):
    def test_abrupt_disconnects_leave_no_ghost_members(self):
        members = 50
        # No rate limit: the newcomer takes 34 names in a row.
        server = self.serve("--threads", "2", "--chat-rate", "0")
        with contextlib.ExitStack() as stack:
            crowd = Crowd(server.address("chat"), members, stack)
            crowd.read_until(lambda i: crowd.lines[i])
            for i, sock in enumerate(crowd.socks):
                sock.sendall(f"/nick user{i}\n".encode())
            crowd.read_until(lambda i: f"*** you are now known as user{i}" in crowd.lines[i])
            watcher = self.enter(server, nick="watcher")
            how = {i: ("reset", "close", None)[i % 3] for i in range(members)}
            gone = [i for i in range(members) if how[i]]
            survivors = [i for i in range(members) if not how[i]]
            for i in gone:
                crowd.close(i, how[i])

            # Each departure is announced once, as a leave without a reason.
            notices = [watcher.line() for _ in gone]
            self.assertEqual(sorted(notices), sorted(f"*** user{i} left #lobby" for i in gone))
            watcher.send("/who")
            self.assertEqual(watcher.line(),
                             who("#lobby", "watcher", *(f"user{i}" for i in survivors)))
            watcher.send("still here?")
            crowd.read_until(lambda i: "<watcher> still here?" in crowd.chat[i], survivors)

            newcomer = self.enter(server, others=[watcher], history=["<watcher> still here?"])
            for i in gone:
                self.rename(newcomer, f"user{i}", others=[watcher])
            newcomer.send(f"/nick user{survivors[0]}")
            self.assertEqual(newcomer.line(), f"*** error: user{survivors[0]} is taken")


class InjectionTest(ChatTestCase):
    # What a member sends, and what the others get: nothing that drives a terminal, and UTF-8
    # only, each byte that is not part of a valid sequence shown as U+FFFD.
    CASES = [
        (b"\x1b[2J\x1b[H", "^[[2J^[[H"),
        (b"\x1b]0;owned\x07title", "^[]0;owned^Gtitle"),
        (b"nul\x00bs\x08vt\x0bff\x0cso\x0eus\x1f", "nul^@bs^Hvt^Kff^Lso^Nus^_"),
        (b"cr\rin the middle", "cr^Min the middle"),
        (b"tab\tstays", "tab\tstays"),
        (b"del\x7f", "del^?"),
        ("csi\u009b31m".encode(), "csi<U+009B>31m"),
        ("\u0080\u0085\u009f and \u00a0".encode(), "<U+0080><U+0085><U+009F> and \u00a0"),
        ("evil\u202etxt.exe".encode(), "evil<U+202E>txt.exe"),
        ("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069".encode(),
         "<U+202A><U+202B><U+202C><U+202D><U+2066><U+2067><U+2068><U+2069>"),
        (b"lone \x80 continuation", "lone \ufffd continuation"),
        (b"overlong \xc0\xaf slash", "overlong \ufffd\ufffd slash"),
        (b"overlong \xc0\x9b esc", "overlong \ufffd\ufffd esc"),
        (b"overlong \xe0\x80\xaf", "overlong \ufffd\ufffd\ufffd"),
        (b"truncated \xe2\x82 euro", "truncated \ufffd\ufffd euro"),
        (b"truncated at the end \xf0\x9f\x98", "truncated at the end \ufffd\ufffd\ufffd"),
        (b"\xff\xfe bytes", "\ufffd\ufffd bytes"),
        (b"surrogate \xed\xa0\x80", "surrogate \ufffd\ufffd\ufffd"),
        (b"too high \xf4\x90\x80\x80", "too high \ufffd\ufffd\ufffd\ufffd"),
        ("valid h\u00e9llo \u2713 \U0001f600 \u65e5\u672c".encode(),
         "valid h\u00e9llo \u2713 \U0001f600 \u65e5\u672c"),
    ]

    def assertHarmless(self, raw):
        """raw (a line without its "\\n") is UTF-8 with no control character but tab."""
        text = raw.decode()
        harmful = [c for c in text if (ord(c) < 0x20 and c != "\t") or 0x7f <= ord(c) <= 0x9f
                   or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
        self.assertEqual(harmful, [], f"in {raw!r}")

    def test_chat_lines_are_neutralised(self):
        server = self.serve("--chat-rate", "0")
        mallory = self.enter(server, nick="mallory")
        bob = self.enter(server, nick="bob", others=[mallory])
        mallory.send(*(sent for sent, _ in self.CASES))
        for sent, shown in self.CASES:
            with self.subTest(sent=sent):
                raw = bob.raw_line()
                self.assertHarmless(raw)
                self.assertEqual(raw.decode(), f"<mallory> {shown}")

    def test_actions_messages_reasons_and_errors_are_neutralised(self):
        server = self.serve()
        mallory = self.enter(server, nick="mallory")
        bob = self.enter(server, nick="bob", others=[mallory])
        mallory.send(b"/me \x1b[31mblinks\xc2\x9b")
        self.assertEqual(bob.raw_line(), b"* mallory ^[[31mblinks<U+009B>")
        mallory.send(b"/msg bob \x1b]0;x\x07\xff")
        self.assertEqual(mallory.raw_line(), "-> *bob* ^[]0;x^G\ufffd".encode())
        self.assertEqual(bob.raw_line(), "*mallory* ^[]0;x^G\ufffd".encode())
        refusals = {
            b"/msg \x1b[2Jbob hi": "*** error: no one is called ^[[2Jbob",
            b"/\x1b[2J": "*** error: no command /^[[2J (/help lists them)",
            b"/who #\x1b[2J\xe2\x80\xae": "*** error: there is no room #^[[2J<U+202E>",
            b"/nick \x1b[2J": BAD_NICK,
            b"/join #\x1b[2J": BAD_ROOM,
        }
        for sent, shown in refusals.items():
            with self.subTest(sent=sent):
                mallory.send(sent)
                raw = mallory.raw_line()
                self.assertHarmless(raw)
                self.assertEqual(raw.decode(), shown)
        mallory.send(b"/quit \x1b[2J\x80\xe2\x80\xae")
        raw = bob.raw_line()
        self.assertHarmless(raw)
        self.assertEqual(raw.decode(), "*** mallory left (^[[2J\ufffd<U+202E>)")


    def test_noise_from_many_clients_reaches_the_others_harmless(self):
        # Seeded random bytes from 150 short-lived clients, a third of them over WebSocket after
        # a valid handshake, half of them ending with a reset. The server stays up (Serve
        # requires a clean exit), and a member reading all along gets UTF-8 with no control
        # character, up to a line sent after the noise.
        server = self.enterContext(Serve("chat", "http", "--bind", "127.0.0.1", "--chat-port", "0",
                                         "--http-port", "0", "--chat-rate", "0",
                                         "--threads", "2"))
        watcher = self.enter(server)
        noise = random.Random(7)
        for i in range(150):
            over_websocket = i % 3 == 0
            address = server.address("http" if over_websocket else "chat")
            sock = socket.create_connection(address, timeout=DEFAULT_TIMEOUT)
            if over_websocket:
                sock.sendall(WEBSOCKET_HANDSHAKE)
            data = noise.randbytes(noise.randint(1, 4000))
            if i % 4 < 2:
                data = data.replace(b"\0", b"\n")  # many short lines rather than a few long ones
            with contextlib.suppress(OSError):
                sock.sendall(data)
            if i % 2:
                reset(sock)
            else:
                sock.close()
        alice = self.enter(server)
        alice.send("after the noise")
        skipped, last = watcher.until(lambda line: line == f"<{alice.nick}> after the noise")
        for line in skipped:
            self.assertHarmless(line.encode())


class LimitTest(ChatTestCase):
    def test_line_over_the_limit_is_refused_and_the_next_one_delivered(self):
        error = "*** error: line over 64 bytes; dropped"
        server = self.serve("--chat-max-line", "64", "--chat-rate", "0")
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        accepted = [b"a" * 64, b"b" * 64 + b"\r", "\u00e9".encode() * 32]
        refused = [b"c" * 65, b"d" * 64 + b"\r\r", "\u00e9".encode() * 32 + b"e"]
        for line in refused:
            with self.subTest(refused=line):
                alice.send(line, "after it")
                self.assertEqual(alice.line(), error)
                # Bob's next line is the one after: the long one never reached him.
                self.assertEqual(bob.line(), "<alice> after it")
        for line in accepted:
            with self.subTest(accepted=line):
                alice.send(line)
                self.assertEqual(bob.raw_line(), b"<alice> " + line.rstrip(b"\r"))
        # A line far over the limit is dropped as it comes, with one error.
        alice.send(b"f" * 200_000, "after the flood", "/who")
        self.assertEqual(alice.lines(2), [error, who("#lobby", "alice", "bob")])
        self.assertEqual(bob.line(), "<alice> after the flood")

    def test_burst_over_the_rate_limit_is_delivered_whole_and_in_order(self):
        # Forty lines at 10 a second, in bursts of 20: some are read later, none dropped.
        server = self.serve("--chat-rate", "10")
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        said = [f"burst line {n}" for n in range(40)]
        alice.send(*said, "/who")
        self.assertEqual(bob.lines(len(said)), [f"<alice> {text}" for text in said])
        self.assertEqual(alice.line(), who("#lobby", "alice", "bob"))

    def test_lines_sent_one_at_a_time_past_the_burst_are_each_delivered(self):
        # Past the burst, the server waits before it reads each line: a line that arrives
        # while it waits must still be read when the wait is over.
        server = self.serve("--chat-rate", "10")
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        for n in range(30):
            alice.send(f"line {n}")
            self.assertEqual(bob.line(), f"<alice> line {n}")


class DrainTest(ChatTestCase):
    def test_sigterm_tells_every_member_and_ends_each_stream(self):
        server = self.serve("--threads", "2")
        alice = self.enter(server, nick="alice")
        bob = self.enter(server, nick="bob", others=[alice])
        carol = self.enter(server, nick="carol", others=[alice, bob])
        carol.send("/join #side")
        self.assertEqual(carol.line(), "*** you are in #side")
        for member in (alice, bob):
            self.assertEqual(member.line(), "*** carol left #lobby")
        server.send_signal(signal.SIGTERM)
        # A member may first be told that the other has left; of nothing else.
        for member, other in ((alice, "bob"), (bob, "alice")):
            lines = member.until_end()
            self.assertIn(SHUTTING_DOWN, lines)
            lines.remove(SHUTTING_DOWN)
            self.assertIn(lines, ([], [f"*** {other} left (server shutting down)"]))
        self.assertEqual(carol.until_end(), [SHUTTING_DOWN])
        for member in (alice, bob, carol):
            self.assertIsNone(member.error, "a reset, not an end of stream")
            member.close()  # the server waits for the client's FIN after its own
        self.assertEqual(server.wait(), 0, server.stderr)

    def test_sigterm_also_stops_a_member_held_back_by_the_rate_limit(self):
        # One line, then one every 1,000 s: bob's second line keeps him waiting. One loop, so
        # that his wait has begun by the time alice has his first line.
        server = self.serve("--threads", "1", "--chat-rate", "0.001")
        alice = self.enter(server)
        bob = self.enter(server, others=[alice])
        bob.send("one", "held back")
        self.assertEqual(alice.line(), f"<{bob.nick}> one")
        server.send_signal(signal.SIGTERM)
        for member, other in ((alice, bob), (bob, alice)):
            lines = member.until_end()
            self.assertIn(SHUTTING_DOWN, lines)
            lines.remove(SHUTTING_DOWN)
            self.assertIn(lines, ([], [f"*** {other.nick} left (server shutting down)"]))
            member.close()
        self.assertEqual(server.wait(), 0, server.stderr)


if __name__ == "__main__":
    unittest.main()
