"""The ceiling: a bare FastAPI app answering every GET with one fixed JSON body.

    BENCH_CEILING_BODY=/path/to/body.json uvicorn bench.ceiling:app --port N

The body is a real 20-item catalog page, so this is what the framework, uvicorn and the
machine can serve at most for the same bytes, measured in the same run as the catalog:
no database, no middleware, no validation.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY = Path(os.environ.get("BENCH_CEILING_BODY", "/dev/null")).read_bytes()
app = FastAPI()


@app.get("/{path:path}")
async def page(path: str) -> Response:
    return Response(BODY, media_type="application/json")
