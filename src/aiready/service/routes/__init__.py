"""The service's routes, one ``APIRouter`` per area; ``service.app`` composes them."""

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    """A request body that refuses unknown fields and NaN or infinite numbers."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
