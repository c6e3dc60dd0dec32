"""The ceiling: the smallest FastAPI app, one `async def` GET returning a small JSON object.

bench.sh serves it exactly like the real app (one uvicorn worker, same flags) in the same
run, and reports every scenario's requests/s as a fraction of this one.
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict[str, object]:
    return {"id": 1, "title": "ceiling", "complete": False}
