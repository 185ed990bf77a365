#!/usr/bin/env python3
"""An auditor's own check of an orchestrator history export (orchestrator audit export > FILE).

Written from docs/audit.md alone; it shares no code with the orchestrator. It needs only the Python standard library,
and Debian's python3-cryptography for the Ed25519 signatures of checkpoints.

    python3 tools/audit_verify.py --export FILE [--checkpoint FILE --public-key FILE]

Exit 0: every event's hash chain (and, with a checkpoint, the ledger it signs) is intact.
Exit 5: tampering found; the first bad event is named.
Exit 2: the command line or a file could not be read.
"""
import argparse
import datetime
import decimal
import hashlib
import json
import sys

GENESIS = "0" * 64
LATE_COMMIT_WINDOW = 100000
HASH_HEADERS = ("hash", "previous-hash")


class Tampered(Exception):
    """The first bad event (or checkpoint), and why."""


# ---- RFC 8785 (JCS) ---------------------------------------------------------------------------------------------

class Number:
    """A JSON number kept as its text, so that its canonical form can be checked against the value it denotes."""

    def __init__(self, text):
        self.text = text


def es_number(text):
    """The text ECMAScript's Number.prototype.toString gives the double nearest `text` (RFC 8785, 3.2.2.3)."""
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("the number %s is out of range for a double" % text)
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    shortest = repr(abs(value))  # Python's repr is the shortest text that round-trips
    mantissa, _, exp = shortest.partition("e")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    # abs(value) = int(whole + frac) * 10**exponent; then digits without leading or trailing zeros
    exponent = (int(exp) if exp else 0) - len(frac)
    digits = (whole + frac).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("-" if e < 0 else "+") + str(abs(e))
    return sign + out


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def jcs_string(value):
    """A string as ECMAScript's JSON.stringify writes it: only the quote, the backslash and the controls escaped."""
    return '"' + "".join(_ESCAPES.get(ch) or ("\\u%04x" % ord(ch) if ord(ch) < 0x20 else ch) for ch in value) + '"'


def jcs(value, exact=True):
    """RFC 8785 text of a value parsed by `parse`. With `exact`, a number whose canonical form denotes another value
    (4294967296.0000001: a double holds 4294967296) is refused, for the hash could not tell the two apart."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Number):
        canonical = es_number(value.text)
        if exact and decimal.Decimal(value.text) != decimal.Decimal(canonical):
            raise ValueError("the number %s is not the value %s its canonical form denotes" % (value.text, canonical))
        return canonical
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(item, exact) for item in value) + "]"
    if isinstance(value, dict):
        # member names sorted by their UTF-16 code units (RFC 8785, 3.2.3)
        names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(jcs_string(name) + ":" + jcs(value[name], exact) for name in names) + "}"
    raise TypeError(type(value))


def parse(text):
    return json.loads(text, parse_float=Number, parse_int=Number, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


# ---- the hash chain ------------------------------------------------------------------------------------------------

def hashed_time(text):
    """The event's time as the hash covers it: UTC, six fraction digits, 'Z'."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_input(event, previous, archived=None):
    headers = event["headers"]
    if isinstance(headers, dict):
        headers = {name: value for name, value in headers.items() if name not in HASH_HEADERS}
    content = {
        "archived": event["isArchived"] if archived is None else archived,
        "causationId": event["causationId"],
        "correlationId": event["correlationId"],
        "data": event["data"],
        "headers": headers,
        "previousHash": previous,
        "streamId": event["streamId"].lower(),
        "timestamp": hashed_time(event["timestamp"]),
        "type": event["type"],
        "version": Number(str(event["version"])),
    }
    return jcs(content).encode("utf-8")


def event_hash(event, previous, archived=None):
    return hashlib.sha256(hash_input(event, previous, archived)).hexdigest()


def name(event):
    return "stream %s event %s (%s, sequence %s)" % (event["streamId"], event["version"], event["type"], event["sequence"])


def header(event, key):
    headers = event["headers"]
    value = headers.get(key) if isinstance(headers, dict) else None
    return value.text if isinstance(value, Number) else value


def verify_chains(events):
    """Every stream's chain, events taken in the store's order. Returns (streams, version-1 events not checked)."""
    heads = {}
    seen_v2 = False
    unchecked = 0
    for event in events:
        if event["type"] == "tombstone" and header(event, "hash") is None:
            continue  # Marten's placeholder for a sequence number whose transaction rolled back: no history
        stream = event["streamId"].lower()
        previous, last_version = heads.get(stream, (GENESIS, 0))
        version = event["version"]
        if version != last_version + 1:
            raise Tampered("%s: expected event %d of the stream here: events were deleted, inserted or reordered"
                           % (name(event), last_version + 1))
        hash_ = header(event, "hash")
        if hash_ is None:
            raise Tampered("%s carries no hash: written outside the orchestrator, or its headers were removed" % name(event))
        if header(event, "previous-hash") != previous:
            raise Tampered("%s does not chain to the event before it in its stream" % name(event))
        hash_version = header(event, "hash-version")
        if hash_version is None:
            if seen_v2:
                raise Tampered("%s claims hash version 1 after events of version 2: its headers were altered" % name(event))
            unchecked += 1  # version 1 used .NET's own text form; `orchestrator audit verify` checks it
        elif hash_version == "2":
            seen_v2 = True
            try:
                recomputed = event_hash(event, previous)
            except ValueError as problem:
                raise Tampered("%s: %s: rewritten" % (name(event), problem))
            if recomputed != hash_:
                if event["isArchived"] and event_hash(event, previous, archived=False) == hash_:
                    raise Tampered("%s was marked archived after it was written: hidden from replay and history" % name(event))
                raise Tampered("%s does not match its hash: its content was altered" % name(event))
        else:
            raise Tampered("%s names an unknown hash version %r" % (name(event), hash_version))
        heads[stream] = (hash_, version)
    return len(heads), unchecked


def read_export(path):
    """The export's events in the store's order, and its ledger entries whose event is gone."""
    events, ledger_only = [], []
    with open(path, encoding="utf-8") as export:
        for number, line in enumerate(export, 1):
            if line.strip():
                try:
                    item = parse(line)
                except ValueError as problem:
                    raise Tampered("line %d of the export is not JSON: %s" % (number, problem))
                for key in ("sequence", "version", "leaf"):
                    if isinstance(item.get(key), Number):
                        item[key] = int(item[key].text)
                (ledger_only if item.get("ledgerOnly") else events).append(item)
    events.sort(key=lambda e: e["sequence"])
    return events, ledger_only


# ---- the ledger (RFC 9162 Merkle tree) and its signed checkpoints ------------------------------------------------

def leaf_hash(event):
    entry = jcs({"hash": header(event, "hash") or "", "sequence": Number(str(event["sequence"])),
                 "streamId": event["streamId"].lower(), "version": Number(str(event["version"]))})
    return hashlib.sha256(b"\x00" + entry.encode("utf-8")).digest()


def tree_root(leaves):
    """MTH(D[n]) over leaf hashes: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + tree_root(leaves[:k]) + tree_root(leaves[k:])).digest()


def verify_ledger(events, ledger_only):
    """What the ledger recorded against what the export holds: a deletion or a re-chained event is named."""
    for entry in sorted(ledger_only, key=lambda e: e["leaf"]):
        raise Tampered("stream %s event %s (sequence %s, ledger leaf %s) is in the ledger but no longer in the store: deleted"
                       % (entry["streamId"], entry["version"], entry["sequence"], entry["leaf"]))
    # the ledger looks for late commits this far below its head (docs/audit.md); an unledgered event below is inserted
    head = max([e["sequence"] for e in events if e.get("leaf") is not None] + [e["sequence"] for e in ledger_only] + [0])
    for event in events:
        if event.get("leaf") is None and head and event["sequence"] <= head - LATE_COMMIT_WINDOW:
            raise Tampered("%s is far older than the ledger's head (sequence %d) but was never ledgered: inserted afterwards"
                           % (name(event), head))
        if event.get("ledgerHash") is not None and event["ledgerHash"] != (header(event, "hash") or ""):
            raise Tampered("%s is not the event the ledger recorded at leaf %s: rewritten or re-chained" % (name(event), event["leaf"]))


def verify_checkpoint(events, checkpoint_path, public_key_path):
    """The signature with the given key, then the root of the first treeSize leaves, built from the events themselves."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    import base64

    with open(checkpoint_path, encoding="utf-8") as file:
        signed = parse(file.read())
    with open(public_key_path, "rb") as file:
        key = load_pem_public_key(file.read())
    if not isinstance(key, Ed25519PublicKey):
        raise Tampered("the public key is not an Ed25519 key")
    body = signed["checkpoint"]
    try:
        key.verify(base64.b64decode(signed["signature"]), jcs(body).encode("utf-8"))
    except (InvalidSignature, ValueError):
        raise Tampered("the checkpoint (key %s) is not signed by the given public key: refused" % body.get("keyId"))
    size = int(body["treeSize"].text)
    by_leaf = {event["leaf"]: event for event in events if event.get("leaf") is not None}
    leaves = []
    for index in range(size):
        if index not in by_leaf:
            raise Tampered("ledger leaf %d, covered by the checkpoint of %d events, is missing: its event and ledger entry were deleted "
                           "(a truncated tail or a deleted stream)" % (index, size))
        leaves.append(leaf_hash(by_leaf[index]))
    if tree_root(leaves).hex() != body["rootHash"]:
        raise Tampered("the store no longer extends the checkpoint of %d events signed at %s: an event it covers was deleted, "
                       "rewritten or re-chained" % (size, body["signedAt"]))
    return size


def main(argv):
    parser = argparse.ArgumentParser(description="Verify an orchestrator history export without trusting the orchestrator.")
    parser.add_argument("--export", required=True, help="NDJSON from `orchestrator audit export`")
    parser.add_argument("--checkpoint", help="a signed checkpoint from `orchestrator audit checkpoint`")
    parser.add_argument("--public-key", help="the checkpoint signer's Ed25519 public key (PEM)")
    args = parser.parse_args(argv)
    if (args.checkpoint is None) != (args.public_key is None):
        parser.error("--checkpoint and --public-key go together")
    try:
        events, ledger_only = read_export(args.export)
        streams, unchecked = verify_chains(events)
        verify_ledger(events, ledger_only)
        covered = verify_checkpoint(events, args.checkpoint, args.public_key) if args.checkpoint else None
    except Tampered as problem:
        print("TAMPERED: %s" % problem)
        return 5
    except (OSError, KeyError) as problem:
        print("cannot read: %s" % problem, file=sys.stderr)
        return 2
    note = " (%d events of hash version 1 not re-computed here)" % unchecked if unchecked else ""
    if covered is not None:
        note += "; the store extends the signed checkpoint of %d events" % covered
    print("intact: %d events in %d streams%s" % (len(events), streams, note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
