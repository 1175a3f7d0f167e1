"""Document and key-value stores: mongosh/mongo (the JavaScript it runs), redis-cli (the Redis
commands it sends, from its arguments or standard input), and influx, whose ``NOUN... VERB``
command lines read like the SaaS CLIs' (``influx bucket delete --name metrics``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.db_base import (
    HELP,
    REDIS_CLI,
    REFUSES_DASHED,
    database_effect,
    parse_line,
    stdin_effects,
    target_of,
)
from blastdoor.analyze.commands.saas import Cli, analyzer
from blastdoor.analyze.invocation import Analysis, Invocation
from blastdoor.analyze.words import split_words
from blastdoor.model import Effect, Reversibility, Verb

_GONE = Reversibility.IRREVERSIBLE

_COMMAND = r"(?:run|admin)Command\s*\(\s*\{\s*[\"']?"  # db.runCommand({drop: ...})
_MONGO_WRITES: tuple[tuple[re.Pattern[str], Verb, str, Reversibility, str], ...] = (
    (re.compile(r"\.dropDatabase\s*\("), Verb.DESTROY, "drop the whole database", _GONE, "drop"),
    (
        re.compile(r"\.drop\s*\(|\.dropCollection\s*\("),
        Verb.DESTROY,
        "drop a collection and its documents",
        _GONE,
        "drop",
    ),
    (
        re.compile(_COMMAND + r"dropDatabase[\"']?\s*:"),
        Verb.DESTROY,
        "drop the whole database (dropDatabase command)",
        _GONE,
        "drop",
    ),
    (
        re.compile(_COMMAND + r"drop[\"']?\s*:|\.renameCollection\s*\([^)]*,\s*true\s*\)"),
        Verb.DESTROY,
        "drop a collection and its documents (drop command, or a rename with dropTarget)",
        _GONE,
        "drop",
    ),
    (
        re.compile(_COMMAND + r"delete[\"']?\s*:"),
        Verb.DELETE,
        "delete documents through the delete command",
        _GONE,
        "delete",
    ),
    (
        re.compile(
            _COMMAND + r"(replSetStepDown|replSetReconfig|removeShard|fsync)[\"']?\s*:"
            r"|\brs\.(remove|stepDown|reconfig|reconfigForPSASet)\s*\(|\bsh\.removeShard\s*\("
            r"|\.fsyncLock\s*\("
        ),
        Verb.MODIFY,
        "change the replica set or shards, or lock the server against writes",
        Reversibility.REVERSIBLE,
        "stops-service",
    ),
    (
        re.compile(r"\.(deleteMany|remove)\s*\(\s*(\{\s*\})?\s*\)"),
        Verb.DELETE,
        "delete every document of a collection (empty filter)",
        _GONE,
        "no-where",
    ),
    (
        re.compile(r"\.(updateMany|update)\s*\(\s*\{\s*\}"),
        Verb.MODIFY,
        "update every document of a collection",
        _GONE,
        "no-where",
    ),
    (
        re.compile(r"\.(deleteOne|deleteMany|remove|findOneAndDelete|findAndModify)\s*\("),
        Verb.DELETE,
        "delete matching documents",
        Reversibility.RECOVERABLE_WITH_BACKUP,
        "filtered",
    ),
    (
        re.compile(
            r"\.(dropUser|dropAllUsers|dropRole|dropAllRoles|dropIndex|dropIndexes|dropSearchIndex)\s*\("
        ),
        Verb.DELETE,
        "drop users, roles or indexes",
        Reversibility.RECOVERABLE_WITH_BACKUP,
        "drop",
    ),
    (
        re.compile(
            r"(grantRolesToUser|createUser)\s*\([^)]*\b(root|__system|userAdminAnyDatabase|dbOwner)"
        ),
        Verb.ESCALATE,
        "give a user administrator roles",
        Reversibility.REVERSIBLE,
        "permissions",
    ),
    (
        re.compile(r"shutdownServer\s*\(|shutdown\s*:\s*1"),
        Verb.MODIFY,
        "shut the server down",
        Reversibility.REVERSIBLE,
        "stops-service",
    ),
    (
        re.compile(
            r"\.(update\w*|replace\w*|insert\w*|save|bulkWrite|rename\w*|createCollection|createIndex\w*|"
            r"findOneAndUpdate|findOneAndReplace)\s*\(|\$out\b|\$merge\b"
        ),
        Verb.MODIFY,
        "write documents",
        Reversibility.REVERSIBLE,
        "write",
    ),
)


def mongo_effects(inv: Invocation, target: str, script: str) -> list[Effect]:
    """What mongo shell JavaScript does: one effect per kind of write it contains, else a read."""
    found: list[Effect] = []
    for pattern, verb, detail, rev, tag in _MONGO_WRITES:
        if pattern.search(script) and (tag != "filtered" or not any(tag in e.tags for e in found)):
            found.append(database_effect(inv, target, verb, detail, reversibility=rev, tags={tag}))
            script = pattern.sub("", script)
    return found or [database_effect(inv, target, Verb.READ, "run read-only mongo shell code")]


_MONGO_VALUES = ("--eval", "--file", "-f", "--host", "--port", "-u", "--username", "-p",
    "--password", "--authenticationDatabase", "--tlsCAFile", "--apiVersion")  # fmt: skip


def _mongo(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _MONGO_VALUES, REFUSES_DASHED)
    if line.has(*HELP):
        return
    uri = next((w.text for w in line.operands if not w.text.endswith(".js")), "")
    target = target_of(
        inv,
        url=uri if "://" in uri else "",
        host=line.get("--host"),
        db="" if "://" in uri else uri,
    )
    scripts = [
        *line.all("--eval"),
        *(
            t
            for p in [
                *line.all("--file", "-f"),
                *(w.text for w in line.operands if w.text.endswith(".js")),
            ]
            for t in [ctx.read_file(p)]
            if t
        ),
    ]
    if scripts:
        for script in scripts:
            yield from mongo_effects(inv, target, script)
    elif inv.stdin.text is not None:
        yield from mongo_effects(inv, target, inv.stdin.text)
    else:
        yield from stdin_effects(inv, ctx, target)


_REDIS_DESTROY = frozenset({"FLUSHALL", "FLUSHDB", "SCRIPT FLUSH", "FUNCTION FLUSH",
    "CLUSTER RESET", "REPLICAOF", "SLAVEOF", "FUNCTION RESTORE", "DEBUG"})  # fmt: skip
_REDIS_DELETE = frozenset({"DEL", "UNLINK", "HDEL", "SREM", "ZREM", "LREM", "LPOP", "RPOP",
    "SPOP", "ZPOPMIN", "ZPOPMAX", "LTRIM", "XDEL", "XTRIM", "GETDEL", "ZREMRANGEBYSCORE",
    "ZREMRANGEBYRANK", "ZREMRANGEBYLEX", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT",
    "ACL DELUSER", "FUNCTION DELETE", "MIGRATE", "XGROUP DESTROY", "MOVE"})  # fmt: skip
_REDIS_SERVER = frozenset({"SHUTDOWN", "CONFIG SET", "CONFIG REWRITE", "CONFIG RESETSTAT",
    "CLIENT KILL", "ACL SETUSER", "MODULE LOAD", "CLUSTER FAILOVER", "CLUSTER FORGET", "SWAPDB",
})  # fmt: skip
_REDIS_READS = frozenset({"GET", "MGET", "KEYS", "SCAN", "HGET", "HMGET", "HGETALL", "HKEYS",
    "HVALS", "HLEN", "HEXISTS", "HSCAN", "HSTRLEN", "LRANGE", "LLEN", "LINDEX", "LPOS",
    "SMEMBERS", "SCARD", "SISMEMBER", "SMISMEMBER", "SSCAN", "SRANDMEMBER", "SINTER", "SUNION",
    "SDIFF", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZCARD", "ZSCORE", "ZRANK", "ZREVRANK",
    "ZSCAN", "ZCOUNT", "TTL", "PTTL", "TYPE", "EXISTS", "STRLEN", "GETRANGE", "BITCOUNT",
    "PFCOUNT", "INFO", "PING", "ECHO", "DBSIZE", "MONITOR", "TIME", "LASTSAVE", "XRANGE",
    "XREVRANGE", "XREAD", "XLEN", "XINFO", "RANDOMKEY", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
    "COMMAND", "ROLE", "AUTH", "SELECT", "HELLO", "DUMP", "OBJECT", "MEMORY", "LATENCY",
    "SLOWLOG", "CLIENT", "CONFIG", "CLUSTER", "ACL", "GEOPOS", "GEODIST", "GEOSEARCH", "GEOHASH",
    "BGSAVE", "SAVE", "WAIT", "QUIT", "READONLY", "UNWATCH", "WATCH", "MULTI", "EXEC", "DISCARD",
})  # fmt: skip


def redis_command(inv: Invocation, target: str, words: Sequence[str]) -> Effect:
    """The effect of one Redis command (``FLUSHALL``, ``DEL key``, ``GET key`` ...)."""
    head = words[0].upper() if words else ""
    pair = " ".join(words[:2]).upper()
    said = " ".join(words[:3])
    if head in ("REPLICAOF", "SLAVEOF") and pair.endswith(" NO"):
        return database_effect(
            inv, target, Verb.MODIFY, "stop replicating and become a primary", tags={"redis"}
        )
    if pair in _REDIS_DESTROY or head in _REDIS_DESTROY:
        return database_effect(
            inv,
            target,
            Verb.DESTROY,
            f"{said}: erase the Redis data set",
            reversibility=_GONE,
            tags={"redis", "flush"},
        )
    if pair in _REDIS_DELETE or head in _REDIS_DELETE:
        return database_effect(
            inv,
            target,
            Verb.DELETE,
            f"{said}: delete keys or values",
            reversibility=_GONE,
            tags={"redis"},
        )
    if pair in _REDIS_SERVER or head in _REDIS_SERVER:
        return database_effect(
            inv,
            target,
            Verb.MODIFY,
            f"{said}: change or stop the Redis server",
            reversibility=_GONE,
            tags={"redis", "server-config"},
        )
    if head in ("EVAL", "EVALSHA", "FCALL", "EVAL_RO") and len(words) > 1:
        inner = re.findall(r"redis\.p?call\(\s*['\"](\w+)", words[1])
        worst = [redis_command(inv, target, [name]) for name in inner]
        return max(
            worst,
            key=lambda e: _RANK[e.verb],
            default=database_effect(
                inv,
                target,
                Verb.EXECUTE_UNKNOWN,
                "run a Redis script",
                reversibility=_GONE,
                tags={"redis"},
            ),
        )
    if head in _REDIS_READS:
        return database_effect(inv, target, Verb.READ, f"{said}: read from Redis", tags={"redis"})
    return database_effect(inv, target, Verb.MODIFY, f"{said}: write to Redis", tags={"redis"})


_RANK = {verb: i for i, verb in enumerate(Verb)}
_REDIS_VALUES = ("-h", "-p", "-a", "-n", "-u", "-s", "--user", "--pass", "-r", "-i", "-d", "-D",
    "--pattern", "--count", "--rdb", "--functions-rdb", "--pipe-timeout", "--intrinsic-latency",
    "--cacert", "--cacertdir", "--cert", "--key", "--sni", "--tls-ciphers", "--quoted-pattern",
    "--memkeys-samples", "-t", "--eval")  # fmt: skip


def _redis(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    line = parse_line(inv.args, _REDIS_VALUES, REDIS_CLI)
    if line.has(*HELP):
        return
    host = line.get("-h") or ("socket " + line.get("-s") if line.get("-s") else "")
    target = target_of(
        inv, url=line.get("-u"), host=host, db=line.get("-n"), env_keys=("REDIS_URL",)
    )
    words = [w.text for w in line.operands]
    if line.get("--eval"):
        script = ctx.read_file(line.get("--eval")) or ""
        yield redis_command(inv, target, ["EVAL", script] if script else ["EVAL"])
    elif line.has("--cluster"):
        call = words[2:] if words[:1] == ["call"] else []
        yield (
            redis_command(inv, target, call)
            if call
            else database_effect(
                inv,
                target,
                Verb.MODIFY,
                f"redis-cli --cluster {' '.join(words[:1])}",
                tags={"redis"},
            )
        )
    elif words:
        yield redis_command(inv, target, words)
    elif line.has(
        "--scan",
        "--bigkeys",
        "--memkeys",
        "--hotkeys",
        "--stat",
        "--latency",
        "--latency-history",
        "--rdb",
        "--functions-rdb",
        "--replica",
    ):
        yield database_effect(inv, target, Verb.READ, "inspect the Redis keyspace", tags={"redis"})
    elif inv.stdin.text is not None:
        for raw in inv.stdin.text.splitlines()[:50]:
            parts = split_words(raw)
            if parts:
                yield redis_command(inv, target, parts)
    else:
        yield from stdin_effects(inv, ctx, target)


FAMILIES = (
    CommandFamily.of(["mongosh", "mongo"], _mongo),
    CommandFamily.of(["redis-cli", "valkey-cli", "keydb-cli"], _redis),
    CommandFamily.of(["influx"], analyzer(Cli(kind="influxdb", hints={"host": "host"}))),
)
