"""Configuration: the only module that reads the environment (variables prefixed ``REGISTRY_``)."""

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    # hide_input_in_errors: a refused configuration must not print the keys it was given.
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the embedded SQLite file in data_dir.",
        examples=["postgresql+psycopg://registry:secret@127.0.0.1:5432/registry"],
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    demo_organizations: int = 300

    # The public edge.
    public_rate_per_minute: int = Field(default=120, ge=1, description="Per client address, on average")
    public_rate_burst: int = Field(default=60, ge=1)
    # Complaints, objections and repair requests filed, per client address (on top of the above).
    public_filing_per_minute: int = Field(default=6, ge=1, description="Filings per client address, on average")
    public_filing_burst: int = Field(default=5, ge=1)
    public_cache_seconds: int = Field(default=60, ge=0)
    # Browsers on these origins may call the API (CORS). Empty, the default: none may. Never with
    # credentials: the API authenticates with bearer tokens, not cookies, so "*" shares nothing private.
    cors_origins: list[str] = Field(default_factory=list, description='e.g. ["https://credit.example.gov.cn"]')
    trusted_proxies: list[str] = Field(default_factory=list, description="Addresses or networks of reverse proxies")
    client_ip_header: str = "X-Forwarded-For"
    # The address people reach the registry at, printed on credit reports (their QR code points to
    # {public_base_url}/verify/{id}). Empty: the address each request came to.
    public_base_url: str = Field(default="", max_length=200, pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$",
                                 examples=["https://credit.example.gov.cn"])
    # Overload: requests in flight per server process, in three budgets (api.middleware.overload.InFlightLimit).
    # Past one, a request waits up to admission_wait_seconds for a place, then gets 503 with
    # Retry-After. A request waits at most database_wait_seconds for the database (pool, locks)
    # and is then refused the same way. The connection pools and the thread pool are sized from
    # public + department (api.app.create_app).
    max_in_flight_lookup: int = Field(default=128, ge=1, le=100_000)
    max_in_flight_public: int = Field(default=16, ge=1, le=1_000)
    max_in_flight_department: int = Field(default=24, ge=1, le=1_000)
    admission_wait_seconds: float = Field(default=1.0, ge=0, le=60)
    database_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A request body that sends nothing for this long is refused (408): it would hold its place.
    body_idle_seconds: float = Field(default=30, gt=0, le=3600)
    max_batch_bytes: int = Field(default=4 * 1024**3, ge=1024, description="Bulk push bodies (read as a stream)")

    # A batch still marked running but silent this long was cut short (its server died): the same
    # Idempotency-Key may then resume it. A live batch commits a chunk every fraction of a second;
    # the wait is long so a slow upload is never taken for a dead one.
    batch_resume_seconds: float = Field(default=120, ge=1, le=86400)

    # The change feed keeps events this long (then a reader re-lists: GET /v1/records). Record
    # history is kept for good regardless; this bounds only the sync log and its delivery log.
    event_retention_days: int = Field(default=365, ge=1, le=36500)
    # How often workers expire records whose publicity window or term ended (public answers
    # compare dates themselves; the sweep writes the status, the reason and the event).
    lifecycle_sweep_seconds: float = Field(default=300, ge=1, le=86400)

    # GET /metrics: with a token, only a scraper that sends it (Authorization: Bearer) gets in.
    metrics_token: str = Field(default="", repr=False)

    # Webhooks.
    webhook_worker_in_process: bool = Field(default=True, description="serve runs a delivery worker too")
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts exempt from the public-address rule (tests' loopback receivers)")
    webhook_threads: int = Field(default=8, ge=1, le=256, description="Attempts in flight per worker")
    webhook_per_endpoint: int = Field(default=4, ge=1, le=64,
                                      description="Attempts in flight per endpoint, over all workers")
    webhook_attempt_seconds: float = Field(default=15.0, gt=0, le=120, description="Whole attempt, not per read")
    webhook_lease_seconds: float = Field(default=60.0, gt=0,
                                         description="A dead worker's deliveries are taken over after this")
    webhook_poll_seconds: float = Field(default=0.25, gt=0, le=10, description="How often an idle worker looks")

    # Tokens. On the embedded default the ES256 signing key is generated on first start and kept in
    # data_dir/keys (owner-only); in production it must come from here.
    token_issuer: str = "credit-registry"
    token_audience: str = "credit-registry-api"
    signing_key: str = Field(default="", repr=False, description="PEM of the ES256 private key (production)")
    signing_key_id: str = ""
    previous_public_keys: dict[str, str] = Field(
        default_factory=dict, description="kid -> PEM public key still accepted after a rotation"
    )
    # Webhook signing secrets are stored sealed with this key (db.sealing), so the database alone
    # cannot forge webhooks. On the embedded default it is generated into data_dir/keys; in
    # production it must come from here (`credit-registry new-secrets-key` makes one). Keep it
    # apart from the database's backups.
    secrets_key: str = Field(default="", repr=False, description="base64url of 32 random bytes (production)")

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'registry.db').as_posix()}"
        if self.environment == "production" and self.database_url.startswith("sqlite") and \
                ":memory:" in self.database_url:
            raise ValueError("an in-memory database loses every record on restart; refuse in production")
        if self.environment == "production" and not (self.signing_key and self.signing_key_id):
            raise ValueError("production needs REGISTRY_SIGNING_KEY and REGISTRY_SIGNING_KEY_ID")
        if self.environment == "production" and not self.secrets_key:
            raise ValueError("production needs REGISTRY_SECRETS_KEY (credit-registry new-secrets-key makes one)")
        if self.secrets_key and not _is_key(self.secrets_key):
            raise ValueError("REGISTRY_SECRETS_KEY must be base64url of 32 bytes (credit-registry new-secrets-key)")
        return self

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def _is_key(text: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))) == 32
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
