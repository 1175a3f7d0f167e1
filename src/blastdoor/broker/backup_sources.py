"""Backups kept in AWS: dump files (pg_dump, mysqldump) in an S3 bucket, and RDS snapshots.

Where a backup lives decides whether it survives the accident it is for. PocketOS's backups were
inside the volume that was deleted; the DataTalks.Club ``terraform destroy`` took every automated
RDS snapshot with the instance (shared/incidents.yaml). So each source is judged on that first:

* ``s3://BUCKET/PREFIX``: the newest dump under the prefix, fetched by version id and then restored
  and counted like a local dump (backup_verify.py). The bucket must have versioning enabled, or one
  delete or overwrite by the same credentials loses it. A dump hidden by a delete marker still
  counts (its version can be restored) and the proof says it was deleted. Object Lock and MFA delete
  are reported when present.
* ``rds:INSTANCE``: the instance's snapshots. Only those that outlive the instance count: manual
  snapshots and AWS Backup ones, never the automated ones (deleted with the instance unless the
  deletion keeps them). The newest such snapshot must be available and younger than the maximum
  age. Rows cannot be counted without restoring a new instance, so the proof says it is a
  catalogue check, not a restore.

APIs: ListObjectVersions, GetBucketVersioning, GetObjectLockConfiguration, GetObject (S3);
DescribeDBInstances, DescribeDBSnapshots (RDS). boto3 is imported only here and in aws_sts.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blastdoor.broker import aws_sts
from blastdoor.broker.backup_verify import Proof, too_old
from blastdoor.broker.dumps import Dump
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.profile import Profile

S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")
RDS_NAME = re.compile(r"^rds:([A-Za-z][A-Za-z0-9-]{0,62})$")
MAX_VERSIONS = 100_000
CHUNK = 1 << 20
SNAPSHOT = "rds-snapshot"
LASTING = ("manual", "awsbackup")  # snapshot types that are not deleted with their instance


def kind(where: str) -> str:
    """'s3', 'rds' or 'file' for a backup location."""
    return "s3" if where.startswith("s3://") else "rds" if where.startswith("rds:") else "file"


@dataclass(frozen=True)
class Fetched:
    dump: Dump
    facts: dict[str, Any]  # where the dump came from and what protects it, for the proof
    problems: list[str] = field(default_factory=list)


def fetch_s3(aws: Profile, where: str, folder: Path, *, run: str, read: Callable[[Path], Dump]) -> Fetched:
    """Download the newest dump under ``where`` into ``folder``, made out by ``read`` (the engine's)."""
    bucket, prefix = _s3_parts(where)
    s3, session = aws_sts.client(aws, "s3", run=run, purpose="backup-verify")
    versioning = _call(aws, f"read the versioning of bucket {bucket}", s3.get_bucket_versioning, Bucket=bucket)
    facts: dict[str, Any] = {"source": where, "versioning": versioning.get("Status", "Disabled"),
                             "mfa_delete": versioning.get("MFADelete", "Disabled"), "object_lock": _lock(s3, bucket)}  # fmt: skip
    if session:
        facts["aws"] = session
    problems = []
    if facts["versioning"] != "Enabled":
        problems.append(f"bucket {bucket} does not keep versions, so one delete or overwrite with the same credentials "
                        "loses the backup (enable versioning, and Object Lock for dumps nobody may remove)")  # fmt: skip
    newest, hidden = _newest_version(aws, s3, bucket, prefix)
    key, version = newest["Key"], newest.get("VersionId") or "null"
    facts |= {"key": key, "version_id": version}
    if hidden:
        facts["note"] = f"s3://{bucket}/{key} was deleted (a delete marker hides it); this version of it still restores"
    path = folder / (Path(key).name or "dump")
    arguments = {"Bucket": bucket, "Key": key} | ({"VersionId": version} if version != "null" else {})
    body = _call(aws, f"download s3://{bucket}/{key}", s3.get_object, **arguments)["Body"]
    with path.open("wb") as handle:
        for chunk in body.iter_chunks(CHUNK):
            handle.write(chunk)
    uploaded = newest["LastModified"].timestamp()
    os.utime(path, (uploaded, uploaded))  # a plain dump's age is its upload time
    found = read(path)
    made_from = found.created_from if found.created_from == "archive" else "upload time"
    return Fetched(replace(found, source=f"s3://{bucket}/{key}#{version}", created_from=made_from), facts, problems)


def rds_proof(aws: Profile, where: str, *, run: str, max_age_hours: int, now: datetime | None = None) -> Proof:
    """The proof for an RDS instance: its newest snapshot that outlives it."""
    matched = RDS_NAME.match(where)
    if not matched:
        raise BrokerError(f"{where[:80]!r} is not an RDS instance", hint="e.g. rds:prod-db (the DB instance identifier)")
    instance = matched.group(1)
    rds, session = aws_sts.client(aws, "rds", run=run, purpose="backup-verify")
    found = _call(aws, f"describe RDS instance {instance}", rds.describe_db_instances, DBInstanceIdentifier=instance)
    snapshots = []
    try:  # without a type AWS lists automated and manual snapshots; AWS Backup's are asked for apart
        for kinds in ({}, {"SnapshotType": "awsbackup"}):
            for page in rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=instance, **kinds):
                snapshots += page.get("DBSnapshots", [])
    except Exception as error:
        raise _failed(aws, f"list the snapshots of RDS instance {instance}", error) from None
    return judge_snapshots(instance, found["DBInstances"][0], snapshots, max_age_hours=max_age_hours,
                           now=now or datetime.now(UTC), session=session)  # fmt: skip


def judge_snapshots(instance: str, described: dict[str, Any], snapshots: list[dict[str, Any]], *, max_age_hours: int,
                    now: datetime, session: dict[str, str] | None = None) -> Proof:  # fmt: skip
    """Whether ``snapshots`` (DescribeDBSnapshots) hold a fresh backup that outlives ``instance``."""
    lasting = [s for s in snapshots if s.get("SnapshotType") in LASTING and s.get("Status") == "available"
               and s.get("SnapshotCreateTime")]  # fmt: skip
    automated = [s for s in snapshots if s.get("SnapshotType") == "automated"]
    facts: dict[str, Any] = {"source": f"rds:{instance}", "deletion_protection": bool(described.get("DeletionProtection")),
                             "backup_retention_days": described.get("BackupRetentionPeriod", 0),
                             "automated_snapshots": len(automated), "lasting_snapshots": len(lasting),
                             "restored": False, "note": "a catalogue check: the snapshot was not restored and its rows not counted"}  # fmt: skip
    if session:
        facts["aws"] = session
    problems = []
    newest = max(lasting, key=lambda s: s["SnapshotCreateTime"], default=None)
    if newest is None:
        why = (f"its {len(automated)} automated snapshots are deleted with the instance" if automated else "it has no snapshot")
        problems.append(f"no snapshot of {instance} outlives it: {why}; take a manual snapshot or use AWS Backup")
        made = now
    else:
        made = newest["SnapshotCreateTime"].astimezone(UTC)
        facts |= {"snapshot": newest["DBSnapshotIdentifier"], "type": newest["SnapshotType"],
                  "encrypted": bool(newest.get("Encrypted")), "allocated_gb": newest.get("AllocatedStorage", 0)}  # fmt: skip
        if old := too_old(f"the newest snapshot of {instance} that outlives it", made, now=now, max_age_hours=max_age_hours):
            problems.append(old)
    dump = Dump(path=Path(), format=SNAPSHOT, created=made, created_from="snapshot", sha256="", bytes=0,
                source=f"rds:{instance}/{facts.get('snapshot', '')}")  # fmt: skip
    return Proof(dump=dump, checked=now, max_age_hours=max_age_hours, tolerance=0.0, counts={},
                 problems=tuple(problems), facts=facts)  # fmt: skip


def _s3_parts(where: str) -> tuple[str, str]:
    matched = S3_URL.match(where)
    if not matched:
        raise BrokerError(f"{where[:120]!r} is not an S3 location", hint="e.g. s3://acme-backups/prod-db/")
    return matched.group(1), matched.group(2) or ""


def _newest_version(aws: Profile, s3: Any, bucket: str, prefix: str) -> tuple[dict[str, Any], bool]:
    """The newest object version under ``prefix`` that is not a delete marker, and whether a delete
    marker is now in front of it."""
    newest: dict[str, Any] | None = None
    markers: dict[str, datetime] = {}
    seen = 0
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    try:
        for page in pages:
            for marker in page.get("DeleteMarkers", []):
                if marker.get("IsLatest"):
                    markers[marker["Key"]] = marker["LastModified"]
            for version in page.get("Versions", []):
                seen += 1
                # newest upload first; at the same second, the later name (dumps are named by date); a
                # key's versions come newest first, so the first of equals is kept
                if not version["Key"].endswith("/") and (newest is None or _order(version) > _order(newest)):
                    newest = version
            if seen > MAX_VERSIONS:
                raise BrokerError(f"s3://{bucket}/{prefix} holds more than {MAX_VERSIONS:,} object versions",
                                  hint="point at the prefix of one database's dumps")  # fmt: skip
    except BrokerError:
        raise
    except Exception as error:
        raise _failed(aws, f"list the dumps in s3://{bucket}/{prefix}", error) from None
    if newest is None:
        raise BrokerError(f"no dump in s3://{bucket}/{prefix}", hint="point at the prefix the dumps are uploaded to")
    return newest, newest["Key"] in markers


def _order(version: dict[str, Any]) -> tuple[datetime, str]:
    return version["LastModified"], version["Key"]


def _lock(s3: Any, bucket: str) -> str:
    """The bucket's default Object Lock retention ('' when it has none or it cannot be read)."""
    try:
        rule = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"].get("Rule", {})
    except Exception:
        return ""
    retention = rule.get("DefaultRetention", {})
    span = retention.get("Days") or retention.get("Years")
    unit = "days" if retention.get("Days") else "years"
    return f"{retention.get('Mode', '')} {span} {unit}".strip() if retention else "enabled"


def _call(aws: Profile, doing: str, method: Any, **arguments: Any) -> Any:
    try:
        return method(**arguments)
    except Exception as error:
        raise _failed(aws, doing, error) from None


def _failed(aws: Profile, doing: str, error: Exception) -> BrokerError:
    return aws_sts.failure(aws, doing, error, hint=f"check that profile {aws.name}'s AWS credentials may read it")
