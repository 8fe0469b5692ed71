"""Settings from the environment: read once, validated, never at import time.

Everything that differs between AWS, the local stack and the tests is here. Call
`settings()` where a value is needed; `reset()` (tests, the local stack) forgets
the cached copy so a changed environment is read again.

The two secrets (`app_secret()`, `client_secret()`) are not settings: a deployed function
is given the ARN of each (`APP_SECRET_ARN`, `USER_POOL_CLIENT_SECRET_ARN`) and reads it
from Secrets Manager on first use, once per container; only a process outside Lambda
(the tests, a benchmark) may pass the value itself in `APP_SECRET` or
`USER_POOL_CLIENT_SECRET`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    main_table: str
    sessions_table: str
    ops_table: str
    keys_table: str
    audit_table: str
    log_bucket: str
    data_bucket: str
    import_queue_url: str
    user_pool_id: str
    user_pool_client_id: str
    jwks_url: str
    token_issuer: str
    kms_key_id: str
    auto_confirm_signup: bool
    default_phone_region: str
    totp_issuer: str
    van_api_url: str
    pdi_api_url: str
    salsa_api_url: str
    log_group_name: str
    crm_read_timeout: float

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        return f"Settings({shown})"


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ConfigError(f"setting {name} is required")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"setting {name} must be true or false")


def _positive_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"setting {name} must be a number") from None
    if value <= 0:
        raise ConfigError(f"setting {name} must be positive")
    return value


def _load() -> Settings:
    region = os.environ.get("AWS_REGION") or _env("AWS_DEFAULT_REGION", "us-east-1")
    stage = _env("STAGE", "local")
    prefix = _env("TABLE_PREFIX", f"vo-{stage}")
    pool_id = _env("USER_POOL_ID")
    phone_region = _env("DEFAULT_PHONE_REGION", "US").upper()
    if len(phone_region) != 2 or not phone_region.isalpha():
        raise ConfigError("setting DEFAULT_PHONE_REGION must be a two-letter region code")
    return Settings(
        stage=stage,
        region=region,
        main_table=_env("MAIN_TABLE", f"{prefix}-main"),
        sessions_table=_env("SESSIONS_TABLE", f"{prefix}-sessions"),
        ops_table=_env("OPS_TABLE", f"{prefix}-ops"),
        keys_table=_env("KEYS_TABLE", f"{prefix}-keys"),
        audit_table=_env("AUDIT_TABLE", f"{prefix}-audit"),
        log_bucket=_env("LOG_BUCKET", f"{prefix}-logs"),
        data_bucket=_env("DATA_BUCKET", f"{prefix}-data"),
        import_queue_url=_env("IMPORT_QUEUE_URL"),
        user_pool_id=pool_id,
        user_pool_client_id=_env("USER_POOL_CLIENT_ID"),
        jwks_url=_env(
            "JWKS_URL",
            f"https://cognito-idp.{region}.amazonaws.com/{pool_id}/.well-known/jwks.json",
        ),
        token_issuer=_env("TOKEN_ISSUER", f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
        kms_key_id=_env("KMS_KEY_ID"),
        auto_confirm_signup=_flag("AUTO_CONFIRM_SIGNUP", stage == "local"),
        default_phone_region=phone_region,
        totp_issuer=_env("TOTP_ISSUER", "Volunteer Organizer"),
        van_api_url=_env("VAN_API_URL", "https://api.securevan.com/v4").rstrip("/"),
        pdi_api_url=_env("PDI_API_URL", "https://api.bluevote.com").rstrip("/"),
        salsa_api_url=_env(
            "SALSA_API_URL", "https://api.salsalabs.org/api/integration/ext/v1"
        ).rstrip("/"),
        log_group_name=_env("LOG_GROUP_NAME", f"/aws/lambda/vo-{stage}"),
        crm_read_timeout=_positive_float("CRM_READ_TIMEOUT", 10.0),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return _load()


def _secret(name: str) -> str:
    """The secret named by `<name>_ARN` (from Secrets Manager), or, outside Lambda only,
    the value of `<name>` itself."""
    secret_arn = os.environ.get(f"{name}_ARN")
    if secret_arn:
        from chalicelib import aws

        value = aws.client("secretsmanager").get_secret_value(SecretId=secret_arn)
        return str(value["SecretString"])
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise ConfigError(f"setting {name}_ARN is required (no secret in the environment)")
    return _env(name)


@lru_cache(maxsize=1)
def app_secret() -> bytes:
    """Keys the cursors and the match hashes."""
    secret = _secret("APP_SECRET")
    if len(secret) < 32:
        raise ConfigError("setting APP_SECRET must be at least 32 characters")
    return secret.encode()


@lru_cache(maxsize=1)
def client_secret() -> str:
    """The secret of the backend's confidential user pool client."""
    return _secret("USER_POOL_CLIENT_SECRET")


@lru_cache(maxsize=1)
def origin_secret() -> str | None:
    """What the console's CloudFront distribution sends the API to prove a request came
    through it; None where there is none (the local stack, tests)."""
    if not (os.environ.get("ORIGIN_SECRET_ARN") or os.environ.get("ORIGIN_SECRET")):
        return None
    return _secret("ORIGIN_SECRET")


def reset() -> None:
    settings.cache_clear()
    origin_secret.cache_clear()
    app_secret.cache_clear()
    client_secret.cache_clear()
