"""Reference data (rule sets, grade scheme versions, the measures catalogue) is read on every
credit check and never changes once written: a new version is a new row. Validating it again on
every request cost more than the check itself, so its parsed form is kept per process, keyed by
its content: a row emptied and written again with other content (a restore, a test) is parsed
anew, never served stale. Callers must not change what they get."""

import json
from functools import lru_cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


def parsed(model: type[Model], data: Any) -> Model:
    return cast(Model, _parse(model, json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)))


@lru_cache(maxsize=1024)
def _parse(model: type[BaseModel], text: str) -> BaseModel:
    return model.model_validate_json(text)
