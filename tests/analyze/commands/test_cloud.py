"""aws, gcloud, az, gsutil and the SaaS/storage CLIs that share the NOUN VERB shape."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("aws s3 rm s3://media-archive --recursive", "hold"),
        ("aws s3 rb s3://old-logs --force", "hold"),
        ("aws s3 ls s3://media-archive", "allow"),
        ("aws s3 rm s3://media-archive/x --recursive --dryrun", "allow"),
        ("aws s3 cp s3://media-archive/report.csv ./report.csv", "allow"),
        ("aws ec2 terminate-instances --instance-ids i-0abc", "hold"),
        ("aws --profile prod rds delete-db-instance --db-instance-identifier orders", "hold"),
        ("aws rds delete-db-instance --db-instance-identifier qa-db --skip-final-snapshot", "ask"),
        ("aws ec2 describe-instances --region eu-west-1", "allow"),
        ("aws iam list-users", "allow"),
        ("aws secretsmanager get-secret-value --secret-id api", "ask"),
        (
            "aws iam attach-user-policy --user-name bot --policy-arn arn:aws:iam::aws:policy/Admin",
            "deny",
        ),
        ("aws sts assume-role --role-arn arn:aws:iam::1:role/x --role-session-name s", "ask"),
        ("aws ec2 create-tags --resources i-1 --tags Key=a,Value=b", "ask"),
        ("aws ec2 run-instances --image-id ami-1 --dry-run", "allow"),
        ("aws configure list", "allow"),
        ("aws s3 cp help", "allow"),
        ("gcloud compute instances delete web-1 --zone us-east1-b", "hold"),
        ("gcloud compute instances list --project shop-prod", "allow"),
        ("gcloud sql instances delete orders --project shop-dev", "allow"),
        ("gcloud config set project shop", "allow"),
        ("gcloud secrets versions access latest --secret api-key", "ask"),
        ("gsutil -m rm -r gs://analytics-raw", "hold"),
        ("gsutil ls gs://analytics-raw", "allow"),
        ("az group delete --name rg-prod --yes", "hold"),
        ("az vm list -o table", "allow"),
        ("az lock list", "allow"),
        ("az storage account keys list -n acct", "ask"),
        ("ldcli flags delete new-checkout --project web", "hold"),
        ("ldcli flags list", "allow"),
        ("vault kv destroy -versions=2 secret/app", "hold"),
        ("vault kv list secret/", "allow"),
        ("vault kv get secret/app", "ask"),
        ("op item delete 'Deploy key'", "hold"),
        ("doppler run -- ls", "allow"),
        ("restic forget --keep-last 3 --prune", "hold"),
        ("restic backup ~/work", "allow"),
        ("rclone sync ./site remote:www", "hold"),
        ("rclone ls remote:www", "allow"),
        ("mc rb --force minio/uploads", "hold"),
        ("nats stream purge ORDERS", "hold"),
        ("wrangler r2 bucket delete assets", "hold"),
        ("wrangler whoami", "allow"),
        ("stripe customers delete cus_123", "hold"),
        ("stripe customers list", "allow"),
        ("glab api -X DELETE projects/42", "hold"),
        ("glab mr list", "allow"),
        ("split -l 100 big.txt part-", "allow"),
        ("mc", "allow"),
    ],
)
def test_cloud_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_detail_says_what_happens() -> None:
    found = decide("gcloud projects delete shop-prod").effects[0]
    assert found.target.name == "shop-prod"
    assert "delete" in found.detail


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gcloud run services list", "allow"),
        ("gcloud run services describe api", "allow"),
        ("gcloud run services delete api", "hold"),  # `run` is the group, `delete` the command
        ("gcloud run deploy api --image gcr.io/p/api", "ask"),
    ],
)
def test_a_group_named_like_a_verb_does_not_hide_the_command(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("glab alias set mrv 'mr view'", "allow"),  # glab's own settings on this machine
        ("glab config set editor vim", "allow"),
        ("b2 authorize-account", "allow"),  # stores the key on this machine
        ("glab variable delete DEPLOY_TOKEN", "hold"),
        ("b2 delete-bucket media", "hold"),
    ],
)
def test_saas_clis_local_settings_pass_and_deletes_hold(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # gcloud lists key ids and dates, never key material
        (
            "gcloud iam service-accounts keys list --iam-account ci@p.iam.gserviceaccount.com",
            "allow",
        ),
        ("gcloud kms keys list --keyring ring --location global", "allow"),
        ("gcloud services api-keys get-key-string projects/p/keys/k1", "ask"),
        ("az storage account keys list -n media", "ask"),  # az prints the keys themselves
    ],
)
def test_listing_key_ids_is_not_reading_secrets(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("velero restore describe nightly-1", "allow"),  # "restore" is velero's noun here
        ("velero restore logs nightly-1", "allow"),
        ("velero restore create --from-backup nightly", "ask"),
        ("velero backup create nightly", "allow"),
        ("velero backup delete nightly", "hold"),
    ],
)
def test_velero_names_its_restores_and_backups(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # the option that chooses the environment keeps its value even when it reads like a verb
        ("doppler secrets delete API_KEY --config dev", "allow"),
        ("doppler secrets delete API_KEY -c dev", "allow"),
        ("ldcli flags delete new-banner --environment test", "allow"),
        ("doppler secrets delete API_KEY -p web -c prd", "hold"),
        # a config named dev is the object deleted, not where it lives
        ("doppler configs delete dev", "hold"),
    ],
)
def test_environment_options_keep_their_values(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # argparse (aws, gcloud) refuses an option-like word as a value: --dryrun and --help count
        ("aws s3 rm s3://media-archive/x --profile --dryrun", "allow"),
        ("gcloud compute instances delete vm --zone --help", "allow"),
        ("aws s3 rm s3://media-archive/x --profile --recursive", "hold"),
    ],
)
def test_a_valued_option_leaves_an_option_like_word_to_argparse(
    command: str, expected: str
) -> None:
    assert decide(command).kind.value == expected
