"""The manifest of a saved sharded index: what a load needs to find and check every shard.

A save writes each shard to a new file named by the save's generation, and only when every one
is in place (fsynced) writes ``manifest.json`` atomically (temporary file, fsync, rename, fsync
of the directory). A crash at any point before the rename leaves the previous manifest, whose
files are untouched, so the previous save still loads; the files of older generations are
removed only after the new manifest is durable.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List

from vecsearch.distributed.routing import ROUTING
from vecsearch.errors import FormatError

MANIFEST = "manifest.json"
FORMAT = "vecsearch-sharded"
VERSION = 1


@dataclass
class ShardEntry:
    file: str  # relative to the directory
    sha256: str
    bytes: int
    count: int  # live vectors


@dataclass
class Manifest:
    shards: List[ShardEntry]
    generation: int
    next_id: int  # the id after the largest ever used, for adds without ids
    options: Dict[str, Any] = field(default_factory=dict)  # Index parameters of every shard
    routing: str = ROUTING

    def to_json(self) -> str:
        body = asdict(self)
        body["format"] = FORMAT
        body["version"] = VERSION
        return json.dumps(body, indent=1, sort_keys=True)


def shard_file(shard: int, generation: int) -> str:
    return f"shard-{shard:05d}.g{generation}.vs"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory: str, manifest: Manifest) -> None:
    """Writes the manifest atomically, after which it is the save that loads."""
    target = os.path.join(directory, MANIFEST)
    tmp = f"{target}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(manifest.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(directory: str) -> Manifest:
    """The manifest of `directory`; FormatError when it is missing, not one, or of another version."""
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path) as f:
            body = json.load(f)
    except FileNotFoundError:
        raise FormatError(f"{directory!r} holds no sharded index: {MANIFEST} is missing") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise FormatError(f"{path!r} is not a valid manifest: {e}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise FormatError(f"{path!r} is not a vecsearch sharded-index manifest")
    if body.get("version") != VERSION:
        raise FormatError(f"{path!r} has manifest version {body.get('version')!r}; this vecsearch reads {VERSION}")
    if body.get("routing") != ROUTING:
        raise FormatError(f"{path!r} routes ids by {body.get('routing')!r}; this vecsearch knows {ROUTING!r}")
    try:
        shards = [ShardEntry(**entry) for entry in body["shards"]]
        return Manifest(shards, int(body["generation"]), int(body["next_id"]), dict(body["options"]))
    except (KeyError, TypeError, ValueError) as e:
        raise FormatError(f"{path!r} is missing or has a malformed field: {e}") from None


def remove_other_generations(directory: str, keep: List[str]) -> None:
    """Removes shard files of earlier (or abandoned) saves once the manifest no longer names them."""
    keep_set = set(keep)
    for name in os.listdir(directory):
        if name.startswith("shard-") and name not in keep_set:  # temporaries of killed saves too
            try:
                os.remove(os.path.join(directory, name))
            except FileNotFoundError:
                pass
