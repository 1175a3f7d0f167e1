"""Backups kept in AWS, against a moto server: a pg_dump fetched by version from a versioned S3
bucket and restored for real; RDS snapshots judged on whether they outlive their instance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from blastdoor.broker.backup_sources import judge_snapshots
from tests.broker.aws_server import REGION, AwsServer, user_keys
from tests.broker.conftest import SECRET, add_profile, cli, entries, ledger_bytes, query
from tests.broker.test_backups import dump, orders


def _bucket(aws: AwsServer, name: str, *, versioned: bool) -> object:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_a_dump_in_a_versioned_bucket_is_fetched_restored_and_counted(
    aws: AwsServer, env: dict[str, str], isolated_home: Path, tmp_path: Path, pg_database: str
) -> None:
    orders(pg_database)
    s3 = _bucket(aws, "acme-backups", versioned=True)
    old = dump(pg_database, tmp_path / "old.dump", "--format=custom")
    query(pg_database, "INSERT INTO orders SELECT g, 1 FROM generate_series(1201, 2000) g")
    new = dump(pg_database, tmp_path / "new.dump", "--format=custom")
    s3.put_object(Bucket="acme-backups", Key="prod/2026-11-21.dump", Body=old.read_bytes())  # type: ignore[attr-defined]
    s3.put_object(Bucket="acme-backups", Key="prod/2026-11-22.dump", Body=new.read_bytes())  # type: ignore[attr-defined]
    s3.delete_object(Bucket="acme-backups", Key="prod/2026-11-22.dump")  # type: ignore[attr-defined]  # deleted, kept as a version
    keys, role = user_keys(aws, "backup-reader")
    add_profile(env, "aws-backups", scope="production", allow=["read"], values=keys, extra=("--aws-role", role))
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database},
                extra=("--dumps", "s3://acme-backups/prod/"))  # fmt: skip
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--aws-profile", "aws-backups")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "s3://acme-backups/prod/2026-11-22.dump#" in done.stdout and "(archive)" in done.stdout
    assert "versioning             Enabled" in done.stdout and "was deleted (a delete marker hides it)" in done.stdout
    proof = [e for e in entries(isolated_home) if e["type"] == "backup-proof"][-1]
    assert proof["result"] == "verified" and proof["rows"]["public.orders"] == {"database": 2000, "backup": 2000}
    location = proof["location"]
    assert location["key"] == "prod/2026-11-22.dump" and location["version_id"] in proof["dump"]["source"]
    assert location["aws"]["source_identity"].startswith("backup-verify-")  # the read is joinable in CloudTrail
    assert [c["SourceIdentity"][0] for c in aws.calls("AssumeRole")] == [location["aws"]["source_identity"]]
    assert not list(isolated_home.glob("fetched-backup-*"))  # the fetched dump is gone
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")
    assert keys["AWS_SECRET_ACCESS_KEY"] not in ledger_bytes(isolated_home).decode("latin-1") + done.stdout


def test_a_bucket_without_versions_does_not_prove_a_backup(
    aws: AwsServer, env: dict[str, str], isolated_home: Path, tmp_path: Path, pg_database: str
) -> None:
    orders(pg_database)
    s3 = _bucket(aws, "plain-bucket", versioned=False)
    s3.put_object(Bucket="plain-bucket", Key="db/latest.dump",  # type: ignore[attr-defined]
                  Body=dump(pg_database, tmp_path / "x.dump", "--format=custom").read_bytes())  # fmt: skip
    keys, _ = user_keys(aws, "unused")
    add_profile(env, "prod-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database, **keys})
    done = cli(env, "backup", "verify", "--profile", "prod-db", "--dump", "s3://plain-bucket/db/")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT verified" in done.stdout and "bucket plain-bucket does not keep versions" in done.stdout
    assert not (isolated_home / "backup-proofs.json").exists()


def test_an_unreadable_bucket_is_one_line_and_recorded(aws: AwsServer, env: dict[str, str], isolated_home: Path) -> None:
    keys, _ = user_keys(aws, "unused")
    add_profile(env, "aws", scope="production", allow=["read"], values={"DATABASE_URL": "postgresql://u:p@h/d", **keys})
    done = cli(env, "backup", "verify", "--profile", "aws", "--dump", "s3://no-such-bucket/x/")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "cannot read the versioning of bucket no-such-bucket: NoSuchBucket" in done.stderr
    assert [e["result"] for e in entries(isolated_home) if e["type"] == "backup-proof"] == ["error"]


def test_rds_counts_only_snapshots_that_outlive_the_instance(aws: AwsServer, env: dict[str, str], isolated_home: Path) -> None:
    # DataTalks.Club: terraform destroy took the instance and all of its automated snapshots with it
    rds = aws.client("rds", REGION)
    rds.create_db_instance(DBInstanceIdentifier="prod-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=SECRET,
                           BackupRetentionPeriod=7)  # fmt: skip
    keys, _ = user_keys(aws, "unused")
    add_profile(env, "aws-prod", scope="production", allow=["read"], values=keys, extra=("--dumps", "rds:prod-db"))
    done = cli(env, "backup", "verify", "--profile", "aws-prod")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no snapshot of prod-db outlives it: its 1 automated snapshots are deleted with the instance" in done.stdout
    rds.create_db_snapshot(DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="before-migration")
    done = cli(env, "backup", "verify", "--profile", "aws-prod")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: a snapshot that outlives the instance" in done.stdout
    proof = [e for e in entries(isolated_home) if e["type"] == "backup-proof"][-1]
    assert proof["location"]["snapshot"] == "before-migration" and proof["location"]["restored"] is False
    assert list(json.loads((isolated_home / "backup-proofs.json").read_text())) == ["aws-prod"]  # it now stands behind aws-prod
    # the same catalogue two days on: too old
    made = datetime.now(UTC)
    later = judge_snapshots("prod-db", {}, [{"DBSnapshotIdentifier": "s", "SnapshotType": "manual", "Status": "available",
                                             "SnapshotCreateTime": made}], max_age_hours=24, now=made + timedelta(hours=48))  # fmt: skip
    assert not later.verified and "is 48.0 hours old, more than 24" in later.problems[0]
    creating = judge_snapshots("prod-db", {}, [{"DBSnapshotIdentifier": "s", "SnapshotType": "manual", "Status": "creating",
                                                "SnapshotCreateTime": made}], max_age_hours=24, now=made)  # fmt: skip
    assert not creating.verified and "it has no snapshot" in creating.problems[0]


def test_a_profile_without_aws_keys_never_borrows_the_callers(env: dict[str, str], isolated_home: Path) -> None:
    # boto3 alone would fall back to the caller's AWS_PROFILE, ~/.aws or the machine's role
    add_profile(env, "db", scope="production", allow=["read"], values={"DATABASE_URL": "postgresql://u:p@h/d"})
    done = cli(env | {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE0000000002", "AWS_SECRET_ACCESS_KEY": "x" * 40},
               "backup", "verify", "--profile", "db", "--dump", "s3://some-bucket/db/")  # fmt: skip
    assert done.returncode != 0 and "profile db holds no AWS keys" in done.stderr and "Traceback" not in done.stderr
