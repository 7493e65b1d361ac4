#!/usr/bin/env python3
"""A replicated chat room on chatter's socket proxy (spec/socket-proxy.md), standard library only.

The node (`chatter run --client-connect HOST:PORT`) calls this app with JSON-RPC in the dialect of
Go's net/rpc/jsonrpc: State.CommitBlock, State.GetSnapshot, State.Restore, State.OnStateChanged.
Messages are submitted to the node with Babble.SubmitTx (its --proxy-listen address).

State: the ordered list of committed messages (transactions are raw bytes, shown as UTF-8). Its
hash is a chain, so a commit costs O(block):
    h0 = SHA-256(b"chatter-example-chat")
    h  = SHA-256(h || u64_le(len(tx)) || tx)   for each transaction, in block order
Every honest app that committed the same blocks has the same hash, which is returned as StateHash.

Durability and idempotence: with --data FILE every applied block is appended to FILE (one JSON line,
written before the reply) and replayed at start, so a restarted app continues where it stopped. A
CommitBlock for an index already applied (the node retries a call whose reply it never got) is
answered with the recorded hash and not applied again.

Usage:
    chat_app.py serve --listen 127.0.0.1:1339 [--data chat.jsonl] [--node 127.0.0.1:1338 --stdin]
    chat_app.py submit --node 127.0.0.1:1338 MESSAGE [MESSAGE ...]
"""

import argparse
import base64
import hashlib
import json
import socket
import sys
import threading

GENESIS = hashlib.sha256(b"chatter-example-chat").digest()
MAX_REQUEST = 256 * 1024 * 1024  # a request larger than this closes the connection


def chain(h, tx):
    return hashlib.sha256(h + len(tx).to_bytes(8, "little") + tx).digest()


def b64(data):
    return base64.b64encode(data).decode("ascii")


class ChatState:
    """The replicated state, guarded by one lock (the node makes one call at a time anyway)."""

    def __init__(self, data_path=None, verbose=False):
        self.lock = threading.Lock()
        self.messages = []  # committed transactions (bytes), in order
        self.hash = GENESIS
        self.last_index = None  # last block applied (None: none, or unknown after a restore)
        self.by_index = {}  # block index -> (state hash, message count) after that block
        self.data_path = data_path
        self.verbose = verbose
        if data_path:
            self._replay(data_path)
        self.log = open(data_path, "a", encoding="utf-8") if data_path else None

    # ---- persistence ----

    def _replay(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except FileNotFoundError:
            return
        for line in lines:
            if not line.endswith("\n"):
                break  # a line cut by a crash: the block was never answered, so it comes again
            entry = json.loads(line)
            if "restore" in entry:
                self._set_snapshot(base64.b64decode(entry["restore"]))
            else:
                self._apply(entry["index"], [base64.b64decode(t) for t in entry["txs"]])

    def _append(self, entry):
        if self.log:
            self.log.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self.log.flush()

    # ---- state changes ----

    def _apply(self, index, txs):
        for tx in txs:
            self.messages.append(tx)
            self.hash = chain(self.hash, tx)
        self.last_index = index
        self.by_index[index] = (self.hash, len(self.messages))

    def _snapshot(self, count):
        return json.dumps({"messages": [b64(m) for m in self.messages[:count]]}, separators=(",", ":")).encode()

    def _set_snapshot(self, snapshot):
        doc = json.loads(snapshot.decode("utf-8"))
        self.messages, self.hash = [], GENESIS
        for m in doc["messages"]:
            tx = base64.b64decode(m)
            self.messages.append(tx)
            self.hash = chain(self.hash, tx)
        self.last_index, self.by_index = None, {}

    # ---- the State service ----

    def commit_block(self, block):
        body = block["Body"]
        index = body["Index"]
        txs = [base64.b64decode(t) for t in (body.get("Transactions") or [])]
        with self.lock:
            if index in self.by_index and self.last_index is not None and index <= self.last_index:
                state_hash = self.by_index[index][0]  # a retried call: answer, do not apply twice
                if self.verbose:
                    print("block %d again: answered from the record" % index, file=sys.stderr)
            else:
                self._apply(index, txs)
                self._append({"index": index, "txs": [b64(t) for t in txs], "state_hash": self.hash.hex()})
                state_hash = self.hash
                for tx in txs:
                    print("[%d] %s" % (index, tx.decode("utf-8", "replace")), flush=True)
        receipts = [{"InternalTransaction": itx, "Accepted": True} for itx in (body.get("InternalTransactions") or [])]
        return {"StateHash": b64(state_hash), "InternalTransactionReceipts": receipts}

    def get_snapshot(self, index):
        with self.lock:
            if index not in self.by_index:
                raise ValueError("no snapshot for block %d" % index)
            return b64(self._snapshot(self.by_index[index][1]))

    def restore(self, snapshot_b64):
        snapshot = base64.b64decode(snapshot_b64)
        with self.lock:
            self._set_snapshot(snapshot)
            self._append({"restore": b64(snapshot)})
            return b64(self.hash)


STATES = {0: "Babbling", 1: "CatchingUp", 2: "Joining", 3: "Leaving", 4: "Shutdown", 5: "Suspended"}


def dispatch(state, method, params):
    if not isinstance(params, list) or len(params) != 1:
        raise ValueError("params must be an array of one value")
    arg = params[0]
    if method == "State.CommitBlock":
        return state.commit_block(arg)
    if method == "State.GetSnapshot":
        return state.get_snapshot(int(arg))
    if method == "State.Restore":
        return state.restore(arg)
    if method == "State.OnStateChanged":
        print("node state: %s" % STATES.get(arg, arg), file=sys.stderr, flush=True)
        return {}
    raise LookupError("rpc: can't find method " + str(method))


def read_objects(conn):
    """Yields the JSON objects of a Go jsonrpc stream (objects back to back, whitespace between)."""
    decoder = json.JSONDecoder()
    buf = ""
    raw = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        raw += chunk
        if len(raw) > MAX_REQUEST:
            raise ValueError("request too large or not UTF-8")
        try:
            buf += raw.decode("utf-8")
            raw = b""
        except UnicodeDecodeError:
            continue  # a multi-byte character cut between reads
        while True:
            stripped = buf.lstrip()
            if not stripped:
                buf = ""
                break
            try:
                obj, end = decoder.raw_decode(stripped)
            except json.JSONDecodeError:
                if len(stripped) > MAX_REQUEST:
                    raise ValueError("request too large or malformed")
                buf = stripped
                break  # incomplete: read more
            buf = stripped[end:]
            yield obj


def serve_connection(state, conn):
    with conn:
        try:
            for req in read_objects(conn):
                rid = req.get("id") if isinstance(req, dict) else None
                try:
                    result = dispatch(state, req.get("method"), req.get("params"))
                    reply = {"id": rid, "result": result, "error": None}
                except Exception as e:  # the node gets the reason, the app keeps serving
                    reply = {"id": rid, "result": None, "error": str(e)}
                conn.sendall((json.dumps(reply, separators=(",", ":")) + "\n").encode())
        except (OSError, ValueError):
            pass


def host_port(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class NodeClient:
    """Babble.SubmitTx to the node, one request at a time on one connection."""

    def __init__(self, address):
        self.address = host_port(address)
        self.conn = None
        self.objects = None
        self.next_id = 0

    def submit(self, tx):
        if self.conn is None:
            self.conn = socket.create_connection(self.address, timeout=10)
            self.objects = read_objects(self.conn)
        self.next_id += 1
        req = {"method": "Babble.SubmitTx", "params": [b64(tx)], "id": self.next_id}
        self.conn.sendall((json.dumps(req) + "\n").encode())
        reply = next(self.objects)
        if reply.get("error"):
            raise RuntimeError(reply["error"])
        return reply.get("result")


def serve(args):
    state = ChatState(args.data, verbose=args.verbose)
    host, port = host_port(args.listen)
    listener = socket.create_server((host, port), reuse_port=False)
    print("chat app listening on %s:%d" % (host, listener.getsockname()[1]), file=sys.stderr, flush=True)
    if args.stdin:
        if not args.node:
            sys.exit("--stdin needs --node")
        client = NodeClient(args.node)

        def pump():
            for line in sys.stdin:
                line = line.rstrip("\n")
                if line:
                    client.submit(((args.name + ": ") if args.name else "").encode() + line.encode())

        threading.Thread(target=pump, daemon=True).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(state, conn), daemon=True).start()


def submit(args):
    client = NodeClient(args.node)
    for m in args.messages:
        client.submit(m.encode())


def main():
    p = argparse.ArgumentParser(description="Replicated chat room on chatter's socket proxy.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the State service to a node")
    s.add_argument("--listen", default="127.0.0.1:1339", help="host:port the node connects to (--client-connect)")
    s.add_argument("--data", help="append-only record of applied blocks, replayed at start")
    s.add_argument("--node", help="the node's Babble.SubmitTx address (--proxy-listen), for --stdin")
    s.add_argument("--stdin", action="store_true", help="submit each line of standard input as a message")
    s.add_argument("--name", default="", help="prefix for messages from --stdin")
    s.add_argument("--verbose", action="store_true")
    s.set_defaults(run=serve)
    c = sub.add_parser("submit", help="submit messages to a node and exit")
    c.add_argument("--node", default="127.0.0.1:1338", help="the node's --proxy-listen address")
    c.add_argument("messages", nargs="+")
    c.set_defaults(run=submit)
    args = p.parse_args()
    try:
        args.run(args)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
