"""Background work: the job queue (dramatiq), the scheduler that fires jobs, their health probes.

Which library and why: docs/jobs.md. The pieces:

- `queue`: `JobQueue` (enqueue a plain function, run it with retries) built by
  `build_job_queue(settings, …)`; `enqueue_after_commit`; `JobMetrics`.
- `registry`: the jobs every process knows (`DEFAULT_JOBS`) and the schedules that fire them.
- `scheduler`: the compare-and-swap claim and the loop; `start_embedded` for the app.
- `health`: the tiny HTTP endpoint (`/health`, `/metrics`) of the worker and scheduler processes.
"""
