"""A one-route app answering with the id of the worker process that served the request."""

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def which_worker() -> dict[str, int]:
    return {"pid": os.getpid()}
