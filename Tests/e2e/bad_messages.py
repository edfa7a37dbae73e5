"""Malformed play messages of every kind the processor must dead-letter, each with the one reason it must give.

`bad_messages(count, random)` returns `count` (body, reason) pairs in the proportions of `KINDS`: random binary
(not UTF-8), control bytes and other text that is not JSON, JSON that is not an object, objects without a
`video_id`, with a non-string or non-GUID one, with two of them, and bodies over the processor's 4 KiB limit,
a handful of them about 1 MB (nsqd's max-msg-size is 1 MiB).
"""

import json
import random as random_module
import uuid

MAX_PLAY_BODY = 4096  # PlayMessageParser.defaultMaxBodyBytes
NSQD_MAX_MESSAGE = 1024 * 1024


def _guid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _binary(rng, index):
    # A leading 0xff is never UTF-8 and cannot start a JSON value: the reason is always not_utf8.
    return b"\xff" + rng.randbytes(rng.randrange(0, 200))


def _control_bytes(rng, index):
    return bytes(rng.randrange(0, 0x20) for _ in range(rng.randrange(1, 40)))


def _not_json(rng, index):
    guid = _guid(rng)
    forms = [
        f"not json {index}",
        f'{{"video_id": "{guid}"',  # truncated
        f'{{"video_id": "{guid}"}} trailing {index}',
        f"{{'video_id': '{guid}'}}",  # single quotes
        f'{{video_id: "{guid}"}}',  # unquoted key
        f'{{"video_id": "{guid}",}}',  # trailing comma
        f"video_id={guid}",
    ]
    return forms[index % len(forms)].encode()


def _not_an_object(rng, index):
    guid = _guid(rng)
    forms = [f'["{guid}"]', str(index), f'"{guid}"', "null", "true", "[]", f"{index}.5e3"]
    return forms[index % len(forms)].encode()


def _missing_video_id(rng, index):
    guid = _guid(rng)
    forms = ["{}", f'{{"video": "{guid}"}}', f'{{"VIDEO_ID": "{guid}"}}', f'{{"n": {index}}}']
    return forms[index % len(forms)].encode()


def _video_id_not_string(rng, index):
    forms = [index, None, True, [], {}, [_guid(rng)], 1.5]
    return json.dumps({"video_id": forms[index % len(forms)]}).encode()


def _not_a_guid(rng, index):
    guid = _guid(rng)
    forms = [f"not-a-guid-{index}", "", "g" + guid[1:], guid[:-1], guid + "0", guid.replace("-", "_")]
    return json.dumps({"video_id": forms[index % len(forms)]}).encode()


def _duplicate_video_id(rng, index):
    return f'{{"video_id": "{_guid(rng)}", "video_id": "{_guid(rng)}"}}'.encode()


def _too_large(rng, index):
    if index < 5:  # about 1 MB: binary, text, and valid plays padded out
        forms = [
            rng.randbytes(1_000_000),
            b"x" * 1_000_000,
            b'{"video_id": "' + _guid(rng).encode() + b'", "pad": "' + b" " * (NSQD_MAX_MESSAGE - 200) + b'"}',
            b" " * 1_040_000 + b'{"video_id": "' + _guid(rng).encode() + b'"}',
            json.dumps({"video_id": _guid(rng), "tags": ["t"] * 200_000}).encode(),
        ]
        return forms[index]
    # Just over the limit: a valid play padded to 4 KiB + 1 .. 8 KiB.
    body = json.dumps({"video_id": _guid(rng), "pad": ""}).encode()
    size = rng.randrange(MAX_PLAY_BODY + 1, 2 * MAX_PLAY_BODY)
    return body[:-2] + b"." * (size - len(body)) + b'"}'


# Kind -> (share of the bad messages in ten-thousandths, generator, reason).
KINDS = {
    "binary": (2000, _binary, "not_utf8"),
    "control bytes": (500, _control_bytes, "not_json"),
    "not json": (2000, _not_json, "not_json"),
    "not an object": (1000, _not_an_object, "not_an_object"),
    "missing video_id": (1000, _missing_video_id, "missing_video_id"),
    "video_id not a string": (1000, _video_id_not_string, "video_id_not_string"),
    "video_id not a GUID": (1000, _not_a_guid, "not_a_guid"),
    "duplicate video_id": (1000, _duplicate_video_id, "duplicate_video_id"),
    "too large": (500, _too_large, "too_large"),
}


def bad_messages(count: int, rng: random_module.Random) -> list:
    """`count` (body, reason) pairs over every kind (at least one of each)."""
    messages = []
    for share, make, reason in KINDS.values():
        for index in range(max(1, count * share // 10_000)):
            body = make(rng, index)
            assert 0 < len(body) <= NSQD_MAX_MESSAGE
            messages.append((body, reason))
    return messages
