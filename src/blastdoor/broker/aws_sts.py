"""Per-call AWS credentials: the stored keys never reach the program, a role session made for
that one call does.

A profile with an ``aws_role`` keeps long-lived keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) that
can do one thing: assume that role. For each brokered call the broker assumes it with
``SourceIdentity`` set to the call's run id and session tags naming the run, the agent session and
the approval, and hands the program only the temporary keys (AssumeRole:
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). CloudTrail writes the
source identity into every event made with those keys (``userIdentity.sessionContext.sourceIdentity``),
and AWS keeps it through role chaining, so an account's trail joins the ledger by run id. The role's
trust policy must allow ``sts:SetSourceIdentity`` and ``sts:TagSession`` for the stored keys' user.

Nothing from the caller's environment steers the call: the endpoint and region come from the
profile alone (a stored AWS_ENDPOINT_URL, for a test server or a private endpoint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.profile import Profile
from blastdoor.errors import error_line

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
MIN_MINUTES, MAX_MINUTES = 15, 720  # AssumeRole's DurationSeconds: 900 s up to the role's maximum
_IDENTITY_CHAR = re.compile(r"[^\w+=,.@-]")  # SourceIdentity and RoleSessionName: [\w+=,.@-]{2,64}
_TAG_CHAR = re.compile(r"[^\w\s.:/=+@-]")  # session tag values: letters, digits, spaces and _.:/=+-@


@dataclass(frozen=True)
class RoleSession:
    """The temporary credentials of one call, and what the ledger keeps of them."""

    environment: dict[str, str]  # what the program gets in place of the stored keys
    hidden: list[tuple[str, str]]  # the temporary secrets, kept out of output and records
    record: dict[str, str]  # role, assumed-role ARN, source identity, expiry (no secret)


def check_role(arn: str) -> str:
    if not ROLE_ARN.match(arn):
        raise BrokerError(f"--aws-role {arn[:120]!r} is not an IAM role ARN",
                          hint="e.g. --aws-role arn:aws:iam::123456789012:role/agent-deploy")  # fmt: skip
    return arn


def check_keys(variables: list[str]) -> None:
    missing = [name for name in KEYS[:2] if name not in variables]
    if missing:
        raise BrokerError(f"--aws-role needs the keys that may assume it: {' and '.join('--secret ' + m for m in missing)}",
                          hint="store the access key of a user whose only permission is sts:AssumeRole on that role")  # fmt: skip


def assume(profile: Profile, *, run: str, tags: dict[str, str], purpose: str = "exec") -> RoleSession:
    """Assume ``profile``'s role for one call of run ``run``; raises :class:`BrokerError` (with
    nothing secret in it) when AWS refuses or cannot be reached."""
    identity = _identity(run)
    minutes = max(MIN_MINUTES, min(MAX_MINUTES, profile.aws_minutes))
    arguments: dict[str, Any] = {
        "RoleArn": profile.aws_role, "RoleSessionName": _identity(f"blastdoor-{purpose}-{run}"),
        "SourceIdentity": identity, "DurationSeconds": minutes * 60,
        "Tags": [{"Key": f"blastdoor:{key}", "Value": _tag(value)} for key, value in tags.items() if value],
    }  # fmt: skip
    sts = _client(profile, "sts")
    try:
        answer = sts.assume_role(**arguments)
    except Exception as error:
        raise failure(profile, f"get per-call AWS credentials for profile {profile.name}", error,
                      hint="nothing ran; check the role's trust policy allows sts:AssumeRole, sts:SetSourceIdentity "
                      "and sts:TagSession for the stored keys", lead="could not") from None  # fmt: skip
    keys = answer["Credentials"]
    environment = {"AWS_ACCESS_KEY_ID": keys["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
                   "AWS_SESSION_TOKEN": keys["SessionToken"]}  # fmt: skip
    record = {"role": profile.aws_role, "assumed": answer["AssumedRoleUser"]["Arn"],
              "source_identity": identity, "expires": keys["Expiration"].isoformat()}  # fmt: skip
    return RoleSession(environment, [(name, environment[name]) for name in KEYS[1:]], record)


def program_environment(profile: Profile, session: RoleSession) -> dict[str, str]:
    """The profile's variables with the stored keys swapped for the session's, and the region the
    session was made in under both names SDKs read (AWS_REGION, AWS_DEFAULT_REGION)."""
    stored = {name: value for name, value in profile.environment().items() if name not in KEYS}
    region = _region(profile)
    return stored | {"AWS_REGION": region, "AWS_DEFAULT_REGION": region} | session.environment


def client(profile: Profile, service: str, *, run: str, purpose: str) -> tuple[Any, dict[str, str]]:
    """A boto3 client for ``service`` acting for Blastdoor itself (``purpose``: backup-verify, ...):
    through a role session when the profile has a role, else with its stored keys; the client and
    what the ledger keeps of the session ({} without one)."""
    if not profile.aws_role:
        return _client(profile, service), {}
    session = assume(profile, run=run, tags={"run": run, "purpose": purpose}, purpose=purpose)
    return _client(profile, service, session.environment), session.record


def _client(profile: Profile, service: str, keys: dict[str, str] | None = None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise BrokerError("AWS profiles need boto3, which is not installed",
                          hint="pip install boto3 (Blastdoor lists it as a dependency; reinstall Blastdoor)") from None  # fmt: skip
    secrets = profile.secrets
    keys = keys or {name: secrets[name] for name in KEYS if secrets.get(name)}
    if not all(keys.get(name) for name in KEYS[:2]):  # never boto3's own search (the caller's AWS_PROFILE, ~/.aws)
        raise BrokerError(f"profile {profile.name} holds no AWS keys",
                          hint=f"store them: blastdoor profile add {profile.name} ... --secret AWS_ACCESS_KEY_ID "
                          "--secret AWS_SECRET_ACCESS_KEY --replace, or name another with --aws-profile")  # fmt: skip
    session = boto3.session.Session(aws_access_key_id=keys.get("AWS_ACCESS_KEY_ID"),
                                    aws_secret_access_key=keys.get("AWS_SECRET_ACCESS_KEY"),
                                    aws_session_token=keys.get("AWS_SESSION_TOKEN"), region_name=_region(profile))  # fmt: skip
    config = Config(ignore_configured_endpoint_urls=True, retries={"max_attempts": 2, "mode": "standard"},
                    connect_timeout=10, read_timeout=30)  # fmt: skip
    try:
        return session.client(service, endpoint_url=secrets.get("AWS_ENDPOINT_URL") or None, config=config)
    except Exception as error:  # a malformed endpoint or region
        raise failure(profile, f"set up AWS {service} for profile {profile.name}", error,
                      hint="check the profile's AWS_ENDPOINT_URL and AWS_REGION") from None


def _region(profile: Profile) -> str:
    """The profile's stored region (AWS_REGION or AWS_DEFAULT_REGION), else us-east-1."""
    return profile.secrets.get("AWS_REGION") or profile.secrets.get("AWS_DEFAULT_REGION") or "us-east-1"


def _identity(text: str) -> str:
    cleaned = _IDENTITY_CHAR.sub("_", text)[:64]
    return cleaned if len(cleaned) >= 2 else f"{cleaned}__"[:2]


def _tag(text: str) -> str:
    return _TAG_CHAR.sub("_", text)[:256]


def failure(profile: Profile, doing: str, error: Exception, *, hint: str, lead: str = "cannot") -> BrokerError:
    """A one-line error for an AWS call that failed: AWS's own reason, with the profile's secrets removed."""
    return BrokerError(f"{lead} {doing}: {profile.scrubber.text(reason(error))}", hint=hint)


def reason(error: Exception) -> str:
    """AWS's own one-line reason (its error code and message), or the exception's first line."""
    answer = getattr(error, "response", None)
    if isinstance(answer, dict) and isinstance(answer.get("Error"), dict):
        detail = answer["Error"]
        return f"{detail.get('Code', 'error')}: {detail.get('Message', '')}".strip(": ")
    return error_line(error, limit=300)
