"""Configuration: the only module that reads the environment (variables prefixed ``REGISTRY_``)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

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

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'registry.db').as_posix()}"
        if self.environment == "production" and self.database_url.startswith("sqlite") and \
                ":memory:" in self.database_url:
            raise ValueError("an in-memory database loses every record on restart; refuse in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
